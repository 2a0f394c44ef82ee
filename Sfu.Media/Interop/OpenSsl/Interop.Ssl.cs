using System.Runtime.InteropServices;

namespace Sfu.Media.Interop;

/// <summary>libssl: contexts, connections, DTLS timers and DTLS-SRTP.</summary>
/// <remarks>
/// Several documented OpenSSL 3 "functions" are macros over SSL_ctrl / SSL_CTX_ctrl; the
/// constants below are the ctrl numbers from OpenSSL 3.0's ssl.h and are wrapped in small
/// helpers so callers use the documented names. C <c>long</c> is <c>nint</c> (LP64 Linux only).
/// </remarks>
internal static partial class Ssl
{
    internal const int SSL_ERROR_SSL = 1;
    internal const int SSL_ERROR_WANT_READ = 2;
    internal const int SSL_ERROR_WANT_WRITE = 3;
    internal const int SSL_ERROR_SYSCALL = 5;
    internal const int SSL_ERROR_ZERO_RETURN = 6;

    internal const int SSL_VERIFY_PEER = 0x01;
    internal const int SSL_VERIFY_FAIL_IF_NO_PEER_CERT = 0x02;

    internal const ulong SSL_OP_NO_QUERY_MTU = 1UL << 12;
    internal const ulong SSL_OP_NO_TICKET = 1UL << 14;
    internal const ulong SSL_OP_CIPHER_SERVER_PREFERENCE = 1UL << 22;

    internal const int DTLS1_2_VERSION = 0xFEFD;

    private const int SSL_CTRL_SET_MTU = 17;
    private const int SSL_CTRL_SET_SESS_CACHE_MODE = 44;
    private const int DTLS_CTRL_GET_TIMEOUT = 73;
    private const int DTLS_CTRL_HANDLE_TIMEOUT = 74;
    private const int SSL_CTRL_SET_MIN_PROTO_VERSION = 123;
    private const int SSL_SESS_CACHE_OFF = 0;

    /// <summary><c>struct timeval</c> on LP64 Linux.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct TimeVal
    {
        public nint Seconds;
        public nint Microseconds;
    }

    /// <summary><c>SRTP_PROTECTION_PROFILE</c>: { const char *name; unsigned long id; }.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct SrtpProtectionProfile
    {
        public nint Name;
        public nuint Id;
    }

    // ---- context ----

    [LibraryImport(Libraries.Ssl)]
    internal static partial nint DTLS_method();

    [LibraryImport(Libraries.Ssl)]
    internal static partial SafeSslContextHandle SSL_CTX_new(nint method);

    [LibraryImport(Libraries.Ssl)]
    internal static partial void SSL_CTX_free(nint ctx);

    [LibraryImport(Libraries.Ssl)]
    internal static partial nint SSL_CTX_ctrl(SafeSslContextHandle ctx, int cmd, nint larg, nint parg);

    [LibraryImport(Libraries.Ssl)]
    internal static partial ulong SSL_CTX_set_options(SafeSslContextHandle ctx, ulong options);

    [LibraryImport(Libraries.Ssl)]
    internal static partial int SSL_CTX_use_certificate(SafeSslContextHandle ctx, SafeX509Handle x509);

    [LibraryImport(Libraries.Ssl)]
    internal static partial int SSL_CTX_use_PrivateKey(SafeSslContextHandle ctx, SafeEvpPKeyHandle key);

    [LibraryImport(Libraries.Ssl)]
    internal static partial int SSL_CTX_check_private_key(SafeSslContextHandle ctx);

    [LibraryImport(Libraries.Ssl, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int SSL_CTX_set_cipher_list(SafeSslContextHandle ctx, string ciphers);

    /// <summary>Note the inverted convention: returns 0 on success.</summary>
    [LibraryImport(Libraries.Ssl, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int SSL_CTX_set_tlsext_use_srtp(SafeSslContextHandle ctx, string profiles);

    [LibraryImport(Libraries.Ssl)]
    internal static unsafe partial void SSL_CTX_set_verify(
        SafeSslContextHandle ctx, int mode, delegate* unmanaged<int, nint, int> callback);

    internal static nint SSL_CTX_set_min_proto_version(SafeSslContextHandle ctx, int version) =>
        SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, version, 0);

    internal static nint SSL_CTX_disable_session_cache(SafeSslContextHandle ctx) =>
        SSL_CTX_ctrl(ctx, SSL_CTRL_SET_SESS_CACHE_MODE, SSL_SESS_CACHE_OFF, 0);

    // ---- connection ----

    [LibraryImport(Libraries.Ssl)]
    internal static partial SafeSslHandle SSL_new(SafeSslContextHandle ctx);

    [LibraryImport(Libraries.Ssl)]
    internal static partial void SSL_free(nint ssl);

    [LibraryImport(Libraries.Ssl)]
    internal static partial void SSL_set_bio(SafeSslHandle ssl, nint readBio, nint writeBio);

    [LibraryImport(Libraries.Ssl)]
    internal static partial void SSL_set_accept_state(SafeSslHandle ssl);

    [LibraryImport(Libraries.Ssl)]
    internal static partial void SSL_set_connect_state(SafeSslHandle ssl);

    [LibraryImport(Libraries.Ssl)]
    internal static partial nint SSL_ctrl(SafeSslHandle ssl, int cmd, nint larg, nint parg);

    [LibraryImport(Libraries.Ssl)]
    internal static partial int SSL_do_handshake(SafeSslHandle ssl);

    [LibraryImport(Libraries.Ssl)]
    internal static unsafe partial int SSL_read(SafeSslHandle ssl, byte* buffer, int length);

    [LibraryImport(Libraries.Ssl)]
    internal static unsafe partial int SSL_write(SafeSslHandle ssl, byte* buffer, int length);

    [LibraryImport(Libraries.Ssl)]
    internal static partial int SSL_shutdown(SafeSslHandle ssl);

    [LibraryImport(Libraries.Ssl)]
    internal static partial int SSL_get_error(SafeSslHandle ssl, int result);

    [LibraryImport(Libraries.Ssl)]
    internal static partial nint SSL_get_version(SafeSslHandle ssl);

    /// <summary>Returns an owned reference (the macro SSL_get_peer_certificate in 3.0).</summary>
    [LibraryImport(Libraries.Ssl)]
    internal static partial SafeX509Handle SSL_get1_peer_certificate(SafeSslHandle ssl);

    /// <summary>Returns a pointer into the SSL object's static profile table; not owned.</summary>
    [LibraryImport(Libraries.Ssl)]
    internal static unsafe partial SrtpProtectionProfile* SSL_get_selected_srtp_profile(SafeSslHandle ssl);

    [LibraryImport(Libraries.Ssl)]
    internal static unsafe partial int SSL_export_keying_material(
        SafeSslHandle ssl,
        byte* output,
        nuint outputLength,
        byte* label,
        nuint labelLength,
        byte* context,
        nuint contextLength,
        int useContext);

    internal static nint SSL_set_mtu(SafeSslHandle ssl, int mtu) =>
        SSL_ctrl(ssl, SSL_CTRL_SET_MTU, mtu, 0);

    /// <summary>1 and the time left when a retransmission timer runs, 0 when none does.</summary>
    internal static unsafe nint DTLSv1_get_timeout(SafeSslHandle ssl, out TimeVal left)
    {
        TimeVal value = default;
        nint result = SSL_ctrl(ssl, DTLS_CTRL_GET_TIMEOUT, 0, (nint)(&value));
        left = value;
        return result;
    }

    /// <summary>1 when a flight was retransmitted, 0 when the timer had not expired, -1 on failure.</summary>
    internal static nint DTLSv1_handle_timeout(SafeSslHandle ssl) =>
        SSL_ctrl(ssl, DTLS_CTRL_HANDLE_TIMEOUT, 0, 0);
}
