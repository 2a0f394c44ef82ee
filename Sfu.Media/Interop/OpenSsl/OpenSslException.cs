namespace Sfu.Media.Interop;

/// <summary>An OpenSSL call failed; the message carries the drained error queue.</summary>
public sealed class OpenSslException : Exception
{
    public OpenSslException(string message, nuint errorCode = 0)
        : base(message)
    {
        ErrorCode = errorCode;
    }

    /// <summary>The first packed error code from the queue (0 when the queue was empty).</summary>
    public nuint ErrorCode { get; }
}
