using System.Runtime.InteropServices;

namespace Sfu.Tests.Interop;

/// <summary>
/// The slice of libsrtp2's C API (srtp2/srtp.h, Debian libsrtp2-1 2.5) the interop tests use,
/// to check our SRTP against the reference implementation. Test-only.
/// </summary>
internal static unsafe partial class Interop
{
    internal static partial class LibSrtp
    {
        internal const string Library = "libsrtp2.so.1";

        /// <summary>srtp_err_status_t values the tests look at.</summary>
        internal enum Status
        {
            Ok = 0,
            Fail = 1,
            BadParam = 2,
            AuthFail = 7,
            ReplayFail = 9,
            ReplayOld = 10,
        }

        internal enum SsrcType
        {
            Undefined = 0,
            Specific = 1,
            AnyInbound = 2,
            AnyOutbound = 3,
        }

        /// <summary>srtp_crypto_policy_t: six 32-bit fields.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct CryptoPolicy
        {
            public int CipherType;
            public int CipherKeyLength;
            public int AuthType;
            public int AuthKeyLength;
            public int AuthTagLength;
            public int SecurityServices;
        }

        /// <summary>srtp_policy_t on LP64 (unsigned long is 8 bytes): 128 bytes.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct Policy
        {
            public SsrcType SsrcType;
            public uint SsrcValue;
            public CryptoPolicy Rtp;
            public CryptoPolicy Rtcp;
            public byte* Key;
            public nint Keys;
            public nuint NumMasterKeys;
            public nint DeprecatedEkt;
            public nuint WindowSize;
            public int AllowRepeatTx;
            public int* EncryptedHeaderExtensionIds;
            public int EncryptedHeaderExtensionCount;
            public nint Next;
        }

        [LibraryImport(Library, EntryPoint = "srtp_init")]
        internal static partial Status Init();

        [LibraryImport(Library, EntryPoint = "srtp_get_version_string")]
        internal static partial nint GetVersionString();

        [LibraryImport(Library, EntryPoint = "srtp_create")]
        internal static partial Status Create(out nint session, Policy* policy);

        [LibraryImport(Library, EntryPoint = "srtp_dealloc")]
        internal static partial Status Dealloc(nint session);

        [LibraryImport(Library, EntryPoint = "srtp_protect")]
        internal static partial Status Protect(nint session, byte* packet, int* length);

        [LibraryImport(Library, EntryPoint = "srtp_unprotect")]
        internal static partial Status Unprotect(nint session, byte* packet, int* length);

        [LibraryImport(Library, EntryPoint = "srtp_protect_rtcp")]
        internal static partial Status ProtectRtcp(nint session, byte* packet, int* length);

        [LibraryImport(Library, EntryPoint = "srtp_unprotect_rtcp")]
        internal static partial Status UnprotectRtcp(nint session, byte* packet, int* length);

        // srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80 is a macro for this one.
        [LibraryImport(Library, EntryPoint = "srtp_crypto_policy_set_rtp_default")]
        internal static partial void SetRtpDefault(CryptoPolicy* policy);

        [LibraryImport(Library, EntryPoint = "srtp_crypto_policy_set_rtcp_default")]
        internal static partial void SetRtcpDefault(CryptoPolicy* policy);

        [LibraryImport(Library, EntryPoint = "srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32")]
        internal static partial void SetAesCm128HmacSha1_32(CryptoPolicy* policy);

        [LibraryImport(Library, EntryPoint = "srtp_crypto_policy_set_aes_gcm_128_16_auth")]
        internal static partial void SetAesGcm128_16(CryptoPolicy* policy);
    }
}
