using System.Net;
using System.Net.Sockets;

namespace Sfu.Media.Stun;

/// <summary>
/// The few complete messages ICE exchanges: the server's Binding responses and a client's Binding request.
/// Each writes into <c>destination</c> and returns the length, or 0 when it does not fit.
/// </summary>
public static class IceStunMessages
{
    /// <summary>Large enough for every message below with a maximal USERNAME.</summary>
    public const int MaxMessageLength = 640;

    /// <summary>Binding success with XOR-MAPPED-ADDRESS of the request's source, integrity under the server password.</summary>
    public static int WriteBindingSuccess(Span<byte> destination, ReadOnlySpan<byte> transactionId, SocketAddress source, ReadOnlySpan<byte> key)
    {
        var w = new StunMessageWriter(destination, StunMessageType.BindingSuccessResponse, transactionId);
        return w.AddXorMappedAddress(source) && w.AddMessageIntegrity(key) && w.AddFingerprint() ? w.Length : 0;
    }

    /// <inheritdoc cref="WriteBindingSuccess(Span{byte}, ReadOnlySpan{byte}, SocketAddress, ReadOnlySpan{byte})"/>
    public static int WriteBindingSuccess(Span<byte> destination, ReadOnlySpan<byte> transactionId, IPEndPoint source, ReadOnlySpan<byte> key)
    {
        var w = new StunMessageWriter(destination, StunMessageType.BindingSuccessResponse, transactionId);
        return w.AddXorMappedAddress(source) && w.AddMessageIntegrity(key) && w.AddFingerprint() ? w.Length : 0;
    }

    /// <summary>
    /// Binding error response. Pass an empty <paramref name="key"/> when the request could not be
    /// authenticated (400, 401): such responses carry no MESSAGE-INTEGRITY (RFC 8489 section 9.1.3).
    /// </summary>
    public static int WriteBindingError(Span<byte> destination, ReadOnlySpan<byte> transactionId, int code, ReadOnlySpan<byte> key)
    {
        var w = new StunMessageWriter(destination, StunMessageType.BindingErrorResponse, transactionId);
        if (!w.AddErrorCode(code, StunErrorCodes.ReasonPhrase(code)))
        {
            return 0;
        }

        if (!key.IsEmpty && !w.AddMessageIntegrity(key))
        {
            return 0;
        }

        return w.AddFingerprint() ? w.Length : 0;
    }

    /// <summary>
    /// A connectivity check as a controlling ICE agent sends it (the test client's side): USERNAME
    /// "serverUfrag:clientUfrag", PRIORITY, ICE-CONTROLLING, optionally USE-CANDIDATE, integrity under the
    /// server's password.
    /// </summary>
    public static int WriteBindingRequest(
        Span<byte> destination,
        ReadOnlySpan<byte> transactionId,
        ReadOnlySpan<byte> username,
        uint priority,
        ulong tieBreaker,
        bool useCandidate,
        ReadOnlySpan<byte> key)
    {
        var w = new StunMessageWriter(destination, StunMessageType.BindingRequest, transactionId);
        bool ok = w.AddUsername(username) && w.AddPriority(priority) && w.AddIceControlling(tieBreaker)
            && (!useCandidate || w.AddUseCandidate())
            && w.AddMessageIntegrity(key) && w.AddFingerprint();
        return ok ? w.Length : 0;
    }
}

/// <summary>Error codes ICE-lite answers with (RFC 8489 section 14.8, RFC 8445 section 7.3.1.1).</summary>
public static class StunErrorCodes
{
    public const int BadRequest = 400;
    public const int Unauthorized = 401;
    public const int UnknownAttribute = 420;
    public const int RoleConflict = 487;
    public const int ServerError = 500;

    public static ReadOnlySpan<byte> ReasonPhrase(int code) => code switch
    {
        BadRequest => "Bad Request"u8,
        Unauthorized => "Unauthorized"u8,
        UnknownAttribute => "Unknown Attribute"u8,
        RoleConflict => "Role Conflict"u8,
        ServerError => "Server Error"u8,
        _ => default,
    };
}
