using System.Runtime.InteropServices;

namespace Sfu.Media.Interop;

/// <summary>
/// Owns one <c>SSL</c> connection and, once attached, its two memory BIOs: SSL_set_bio hands
/// BIO ownership to the SSL object, so SSL_free releases all three together.
/// </summary>
internal sealed class SafeSslHandle : SafeHandle
{
    public SafeSslHandle()
        : base(0, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == 0;

    /// <summary>Ciphertext from the network is written here for OpenSSL to read.</summary>
    internal nint InputBio { get; private set; }

    /// <summary>OpenSSL writes ciphertext for the network here.</summary>
    internal nint OutputBio { get; private set; }

    /// <summary>Creates a connection wired to a fresh pair of memory BIOs.</summary>
    internal static SafeSslHandle Create(SafeSslContextHandle context)
    {
        SafeSslHandle ssl = Ssl.SSL_new(context);
        if (ssl.IsInvalid)
        {
            ssl.Dispose();
            throw Crypto.CreateException("SSL_new");
        }

        nint input = Crypto.BIO_new(Crypto.BIO_s_mem());
        nint output = input == 0 ? 0 : Crypto.BIO_new(Crypto.BIO_s_mem());
        if (output == 0)
        {
            if (input != 0)
            {
                Crypto.BIO_free(input);
            }

            ssl.Dispose();
            throw Crypto.CreateException("BIO_new");
        }

        // An empty memory BIO reports EOF by default, which OpenSSL would take as the peer
        // closing the transport. -1 makes it "retry later" (WANT_READ) instead.
        Crypto.BIO_ctrl(input, Crypto.BIO_C_SET_BUF_MEM_EOF_RETURN, -1, 0);
        Crypto.BIO_ctrl(output, Crypto.BIO_C_SET_BUF_MEM_EOF_RETURN, -1, 0);

        Ssl.SSL_set_bio(ssl, input, output);
        ssl.InputBio = input;
        ssl.OutputBio = output;
        return ssl;
    }

    protected override bool ReleaseHandle()
    {
        Ssl.SSL_free(handle);
        InputBio = 0;
        OutputBio = 0;
        return true;
    }
}
