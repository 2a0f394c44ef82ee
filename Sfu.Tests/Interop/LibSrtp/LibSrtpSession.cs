using System.Runtime.InteropServices;
using Sfu.Media.Srtp;
using Native = Sfu.Tests.Interop.Interop.LibSrtp;

namespace Sfu.Tests.Interop.LibSrtp;

/// <summary>
/// One libsrtp session (srtp_t) for one direction, keyed like an <see cref="SrtpContext"/>:
/// a wildcard SSRC policy so any stream is accepted, as a WebRTC endpoint would set it up.
/// </summary>
internal sealed unsafe class LibSrtpSession : SafeHandle
{
    private static readonly Lazy<bool> Initialized = new(() =>
    {
        Native.Status status = Native.Init();
        return status == Native.Status.Ok ? true : throw new InvalidOperationException($"srtp_init failed: {status}");
    });

    private LibSrtpSession()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    public static string Version
    {
        get
        {
            _ = Initialized.Value;
            return Marshal.PtrToStringAnsi(Native.GetVersionString()) ?? "?";
        }
    }

    /// <summary>A session that protects (<paramref name="outbound"/>) or unprotects any SSRC.</summary>
    public static LibSrtpSession Create(SrtpProfile profile, ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> masterSalt, bool outbound)
    {
        _ = Initialized.Value;
        Native.Policy policy = default;
        policy.SsrcType = outbound ? Native.SsrcType.AnyOutbound : Native.SsrcType.AnyInbound;
        switch (profile)
        {
            case SrtpProfile.Aes128CmHmacSha1_80:
                Native.SetRtpDefault(&policy.Rtp);
                Native.SetRtcpDefault(&policy.Rtcp);
                break;
            case SrtpProfile.Aes128CmHmacSha1_32:
                Native.SetAesCm128HmacSha1_32(&policy.Rtp);
                Native.SetRtcpDefault(&policy.Rtcp); // SRTCP keeps the 80-bit tag
                break;
            case SrtpProfile.AeadAes128Gcm:
                Native.SetAesGcm128_16(&policy.Rtp);
                Native.SetAesGcm128_16(&policy.Rtcp);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(profile));
        }

        // libsrtp takes key || salt in one buffer and copies it during srtp_create.
        Span<byte> keyAndSalt = stackalloc byte[masterKey.Length + masterSalt.Length];
        masterKey.CopyTo(keyAndSalt);
        masterSalt.CopyTo(keyAndSalt.Slice(masterKey.Length));

        var session = new LibSrtpSession();
        fixed (byte* key = keyAndSalt)
        {
            policy.Key = key;
            Native.Status status = Native.Create(out nint handle, &policy);
            if (status != Native.Status.Ok)
            {
                throw new InvalidOperationException($"srtp_create({profile}) failed: {status}");
            }

            session.SetHandle(handle);
        }

        return session;
    }

    public Native.Status Protect(Span<byte> buffer, ref int length) => Call(&Native.Protect, buffer, ref length);

    public Native.Status Unprotect(Span<byte> buffer, ref int length) => Call(&Native.Unprotect, buffer, ref length);

    public Native.Status ProtectRtcp(Span<byte> buffer, ref int length) => Call(&Native.ProtectRtcp, buffer, ref length);

    public Native.Status UnprotectRtcp(Span<byte> buffer, ref int length) => Call(&Native.UnprotectRtcp, buffer, ref length);

    protected override bool ReleaseHandle() => Native.Dealloc(handle) == Native.Status.Ok;

    private Native.Status Call(delegate*<nint, byte*, int*, Native.Status> function, Span<byte> buffer, ref int length)
    {
        // srtp_protect writes up to SRTP_MAX_TRAILER_LEN (16 + 128 MKI) bytes past the packet;
        // the callers' buffers leave room for the tag they expect, and MKI is never used here.
        bool added = false;
        try
        {
            DangerousAddRef(ref added);
            fixed (byte* packet = buffer)
            fixed (int* len = &length)
            {
                return function(handle, packet, len);
            }
        }
        finally
        {
            if (added)
            {
                DangerousRelease();
            }
        }
    }
}
