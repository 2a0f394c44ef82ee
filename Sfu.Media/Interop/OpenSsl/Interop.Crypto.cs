using System.Runtime.InteropServices;
using System.Text;

namespace Sfu.Media.Interop;

/// <summary>libcrypto: error queue, memory BIOs, X509 and EVP_PKEY parsing.</summary>
/// <remarks>
/// C <c>long</c>/<c>unsigned long</c> are declared as <c>nint</c>/<c>nuint</c>: this binding is
/// only ever loaded on LP64 Linux, where both are pointer sized.
/// </remarks>
internal static partial class Crypto
{
    internal const int BIO_CTRL_RESET = 1;
    internal const int BIO_C_SET_BUF_MEM_EOF_RETURN = 130;

    // ---- error queue ----

    [LibraryImport(Libraries.Crypto)]
    internal static partial nuint ERR_get_error();

    [LibraryImport(Libraries.Crypto)]
    internal static partial void ERR_clear_error();

    [LibraryImport(Libraries.Crypto)]
    private static unsafe partial void ERR_error_string_n(nuint e, byte* buf, nuint len);

    /// <summary>
    /// Empties this thread's OpenSSL error queue and returns its entries joined into one message
    /// (null when the queue was empty). The one place native errors become text: exceptions and
    /// handshake failure reasons both come from here.
    /// </summary>
    internal static unsafe string? DrainErrorQueue(out nuint firstError)
    {
        firstError = 0;
        StringBuilder? message = null;
        byte* buffer = stackalloc byte[256];
        nuint error;
        while ((error = ERR_get_error()) != 0)
        {
            if (firstError == 0)
            {
                firstError = error;
            }

            ERR_error_string_n(error, buffer, 256);
            message ??= new StringBuilder();
            if (message.Length > 0)
            {
                message.Append("; ");
            }

            message.Append(Marshal.PtrToStringUTF8((nint)buffer));
        }

        return message?.ToString();
    }

    /// <summary>Builds the exception for a failed OpenSSL call, consuming the error queue.</summary>
    internal static OpenSslException CreateException(string operation)
    {
        string? detail = DrainErrorQueue(out nuint code);
        return new OpenSslException(
            detail is null ? $"{operation} failed" : $"{operation} failed: {detail}",
            code);
    }

    // ---- BIO ----

    [LibraryImport(Libraries.Crypto)]
    internal static partial nint BIO_s_mem();

    [LibraryImport(Libraries.Crypto)]
    internal static partial nint BIO_new(nint method);

    [LibraryImport(Libraries.Crypto)]
    internal static partial int BIO_free(nint bio);

    [LibraryImport(Libraries.Crypto)]
    internal static unsafe partial int BIO_read(nint bio, byte* data, int length);

    [LibraryImport(Libraries.Crypto)]
    internal static unsafe partial int BIO_write(nint bio, byte* data, int length);

    [LibraryImport(Libraries.Crypto)]
    internal static partial nint BIO_ctrl(nint bio, int cmd, nint larg, nint parg);

    [LibraryImport(Libraries.Crypto)]
    internal static partial nuint BIO_ctrl_pending(nint bio);

    // ---- X509 / keys ----

    [LibraryImport(Libraries.Crypto)]
    internal static unsafe partial SafeX509Handle d2i_X509(nint reuse, byte** input, nint length);

    [LibraryImport(Libraries.Crypto)]
    internal static unsafe partial int i2d_X509(nint x509, byte** output);

    [LibraryImport(Libraries.Crypto)]
    internal static partial void X509_free(nint x509);

    [LibraryImport(Libraries.Crypto)]
    internal static unsafe partial SafeEvpPKeyHandle d2i_AutoPrivateKey(nint reuse, byte** input, nint length);

    [LibraryImport(Libraries.Crypto)]
    internal static partial void EVP_PKEY_free(nint key);

    /// <summary>DER encoding of a certificate owned by someone else (borrowed pointer).</summary>
    internal static unsafe byte[] EncodeX509(nint x509)
    {
        int length = i2d_X509(x509, null);
        if (length <= 0)
        {
            throw CreateException("i2d_X509");
        }

        byte[] der = new byte[length];
        fixed (byte* start = der)
        {
            // i2d advances the pointer it is given; pass a copy.
            byte* cursor = start;
            if (i2d_X509(x509, &cursor) != length)
            {
                throw CreateException("i2d_X509");
            }
        }

        return der;
    }
}
