using System.Net;
using System.Security.Cryptography;
using Sfu.Media.Stun;

namespace Sfu.Client.Transport;

/// <summary>
/// The client's half of ICE against an ICE-lite server: a full agent in the controlling role with a single
/// candidate pair (its socket, the server's one host candidate). It writes connectivity checks and judges
/// the responses; when to send them is the transport's business.
/// </summary>
/// <remarks>
/// Not thread-safe on its own: the transport serialises calls under its ICE lock.
/// </remarks>
internal sealed class IceAgent
{
    // Host candidate priority (RFC 8445 5.1.2.1): type preference 126, local preference 65535, component 1.
    private const uint HostPriority = (126u << 24) | (65535u << 8) | 255u;

    // Enough for the checks of a few seconds at the connecting pace; older transactions are forgotten and
    // their late responses ignored.
    private const int OutstandingCapacity = 16;

    private readonly byte[][] _outstanding = new byte[OutstandingCapacity][];
    private readonly byte[] _username = new byte[2 * IceCredentials.MaxLength + 1];
    private readonly byte[] _mappedAddress = new byte[16];
    private int _usernameLength;
    private int _nextSlot;
    private int _mappedAddressLength;

    public IceAgent(IceCredentials local)
    {
        for (int i = 0; i < OutstandingCapacity; i++)
        {
            _outstanding[i] = new byte[StunConstants.TransactionIdLength];
        }

        Local = local;
        TieBreaker = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
    }

    public IceCredentials Local { get; private set; }

    public IceCredentials? Remote { get; private set; }

    public ulong TieBreaker { get; }

    /// <summary>Port of the last XOR-MAPPED-ADDRESS (the server-reflexive view of our socket), 0 before any.</summary>
    public int MappedPort { get; private set; }

    /// <summary>The address the server saw on the last verified response; allocates, for tests.</summary>
    public IPEndPoint? MappedEndPoint =>
        _mappedAddressLength == 0 ? null : new IPEndPoint(new IPAddress(_mappedAddress.AsSpan(0, _mappedAddressLength)), MappedPort);

    /// <summary>Sets both sides' credentials (first negotiation or an ICE restart); outstanding checks are forgotten.</summary>
    public void SetCredentials(IceCredentials local, IceCredentials remote)
    {
        Local = local;
        Remote = remote;
        _usernameLength = IceUsername.Write(_username, remote.UfragBytes, local.UfragBytes);
        foreach (byte[] id in _outstanding)
        {
            Array.Clear(id);
        }
    }

    /// <summary>Writes a Binding request into <paramref name="destination"/> and remembers its transaction; returns its length.</summary>
    public int WriteCheck(Span<byte> destination, bool useCandidate)
    {
        IceCredentials remote = Remote ?? throw new InvalidOperationException("no remote ICE credentials yet");
        byte[] transaction = _outstanding[_nextSlot];
        _nextSlot = (_nextSlot + 1) % OutstandingCapacity;
        StunMessageWriter.NewTransactionId(transaction);
        return IceStunMessages.WriteBindingRequest(
            destination, transaction, _username.AsSpan(0, _usernameLength), HostPriority, TieBreaker, useCandidate, remote.PasswordBytes);
    }

    /// <summary>
    /// Judges a STUN datagram from the server. Only a Binding success response to one of our own recent
    /// transactions, with MESSAGE-INTEGRITY under the server's password and a valid FINGERPRINT, counts.
    /// </summary>
    public IceResponse HandleResponse(ReadOnlySpan<byte> datagram)
    {
        if (Remote is null || !StunMessageReader.TryParse(datagram, out StunMessageReader message))
        {
            return IceResponse.Malformed;
        }

        if (message.Method != StunMethod.Binding || message.Class is StunClass.Request or StunClass.Indication)
        {
            // ICE-lite never sends requests; anything else is not ours to answer.
            return IceResponse.Unexpected;
        }

        if (!IsOutstanding(message.TransactionId))
        {
            return IceResponse.UnknownTransaction;
        }

        if (!message.VerifyMessageIntegrity(Remote.PasswordBytes) || (message.HasFingerprint && !message.VerifyFingerprint()))
        {
            return IceResponse.BadIntegrity;
        }

        if (message.Class == StunClass.ErrorResponse)
        {
            return IceResponse.Error;
        }

        if (!message.TryGetXorMappedAddress(_mappedAddress, out int length, out int port))
        {
            return IceResponse.Malformed;
        }

        _mappedAddressLength = length;
        MappedPort = port;
        return IceResponse.Success;
    }

    /// <summary>
    /// Answers a binding request from the server (a server that runs checks of its own, as Janus's libnice does even
    /// in ICE-lite mode, waits for their answers before it takes the pair): USERNAME must be "ourUfrag:theirs" and
    /// MESSAGE-INTEGRITY valid under our password. Writes the success response (XOR-MAPPED-ADDRESS of
    /// <paramref name="source"/>) and returns its length; 0 when the datagram is not such a request.
    /// </summary>
    public int AnswerRequest(ReadOnlySpan<byte> datagram, SocketAddress source, Span<byte> response)
    {
        if (Remote is null || !StunMessageReader.TryParse(datagram, out StunMessageReader message)
            || message.Method != StunMethod.Binding || message.Class != StunClass.Request
            || !message.TryGetUsername(out ReadOnlySpan<byte> username)
            || !IceUsername.TrySplit(username, out ReadOnlySpan<byte> ours, out ReadOnlySpan<byte> theirs)
            || !ours.SequenceEqual(Local.UfragBytes) || !theirs.SequenceEqual(Remote.UfragBytes)
            || !message.VerifyMessageIntegrity(Local.PasswordBytes) || (message.HasFingerprint && !message.VerifyFingerprint()))
        {
            return 0;
        }

        return IceStunMessages.WriteBindingSuccess(response, message.TransactionId, source, Local.PasswordBytes);
    }

    private bool IsOutstanding(ReadOnlySpan<byte> transactionId)
    {
        foreach (byte[] id in _outstanding)
        {
            if (transactionId.SequenceEqual(id))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>What a STUN datagram from the server turned out to be.</summary>
public enum IceResponse
{
    Success,
    Error,
    Malformed,
    Unexpected,
    UnknownTransaction,
    BadIntegrity,
}
