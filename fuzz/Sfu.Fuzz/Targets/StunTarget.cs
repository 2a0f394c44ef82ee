using System.Net;
using System.Text;
using Sfu.Media.Stun;

namespace Sfu.Fuzz.Targets;

/// <summary>
/// A datagram on the media port that looks like STUN: parsed, every attribute ICE reads taken out, integrity and
/// fingerprint checked, and the server's answers to it written as a transport writes them. The answers must parse and
/// verify again: the server never sends what it would itself refuse.
/// </summary>
public sealed class StunTarget : FuzzTarget
{
    // RFC 5769's short-term password, so that the corpus's test vectors pass MESSAGE-INTEGRITY.
    private static readonly byte[] Key = Encoding.ASCII.GetBytes("VOkJxbRl1RmTxUk/WvJxBt");
    private static readonly IPEndPoint Source = new(IPAddress.Parse("192.0.2.1"), 32853);

    public override void Execute(ReadOnlySpan<byte> input)
    {
        if (!StunMessageReader.TryParse(input, out var message))
        {
            return;
        }

        _ = (message.Class, message.Method, message.UnknownComprehensionRequired, message.UseCandidate);
        foreach (var attribute in message.GetAttributes())
        {
            _ = (attribute.Type, attribute.Value.Length);
        }

        message.TryGetPriority(out uint priority);
        message.TryGetIceControlling(out ulong tieBreaker);
        message.TryGetIceControlled(out _);
        message.TryGetErrorCode(out _, out _);
        Span<byte> address = stackalloc byte[16];
        message.TryGetXorMappedAddress(address, out _, out _);
        message.TryGetXorMappedAddress(out _);
        message.VerifyMessageIntegrity(Key);
        message.VerifyFingerprint();

        Span<byte> response = stackalloc byte[IceStunMessages.MaxMessageLength];
        Answered(response[..IceStunMessages.WriteBindingSuccess(response, message.TransactionId, Source, Key)]);
        Answered(response[..IceStunMessages.WriteBindingError(response, message.TransactionId, StunErrorCodes.UnknownAttribute, Key)]);
        if (message.TryGetUsername(out var username) && IceUsername.TrySplit(username, out _, out _))
        {
            int length = IceStunMessages.WriteBindingRequest(response, message.TransactionId, username, priority, tieBreaker, message.UseCandidate, Key);
            Answered(response[..length]);
        }
    }

    private static void Answered(ReadOnlySpan<byte> written)
    {
        if (written.IsEmpty)
        {
            return; // did not fit: the writer says so instead of sending a truncated message
        }

        if (!StunMessageReader.TryParse(written, out var again) || !again.VerifyMessageIntegrity(Key) || !again.VerifyFingerprint())
        {
            throw new InvalidOperationException("a STUN message the server wrote does not parse and verify");
        }
    }
}
