using Sfu.Media.Dtls;
using Sfu.Media.Sctp;

namespace Sfu.Media.DataChannels;

/// <summary>
/// The data channels of one WebRTC transport: SCTP over its DTLS (RFC 8261), and the channel establishment protocol
/// over SCTP (DCEP, RFC 8832). Channels opened by the peer are acknowledged and reported; channels opened here take
/// stream ids of this end's parity (odd for the DTLS server, RFC 8832 section 6); a channel closes by resetting its
/// stream both ways (RFC 8831 section 6.7). Driven on one thread like the association it owns.
/// </summary>
public sealed class DataChannelTransport : ISctpAssociationListener, IDtlsApplicationDataSink
{
    private static readonly ReadOnlyMemory<byte> Ack = new byte[] { DataChannelParameters.AckMessage };
    private static readonly ReadOnlyMemory<byte> EmptyPayload = new byte[] { 0 };

    private readonly DtlsTransport _dtls;
    private readonly IDataChannelListener _listener;
    private readonly Dictionary<ushort, DataChannel> _channels = [];
    private ushort _nextLocalStream;

    public DataChannelTransport(DtlsTransport dtls, SctpAssociationOptions options, IDataChannelListener listener, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(dtls);
        ArgumentNullException.ThrowIfNull(listener);
        _dtls = dtls;
        _listener = listener;
        _nextLocalStream = dtls.Role == DtlsRole.Server ? (ushort)1 : (ushort)0;
        Association = new SctpAssociation(options, this, clock);
        dtls.ApplicationDataSink = this;
    }

    public SctpAssociation Association { get; }

    /// <summary>Messages that arrived on a stream with no open channel (before its OPEN, or after its reset).</summary>
    public long UnknownChannelMessages { get; private set; }

    public IReadOnlyCollection<DataChannel> Channels => _channels.Values;

    /// <summary>Opens a channel from this end (DCEP OPEN); null if the association is not established.</summary>
    public DataChannel? Open(DataChannelParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        while (_channels.ContainsKey(_nextLocalStream))
        {
            _nextLocalStream += 2;
        }

        byte[] open = new byte[parameters.EncodedLength];
        parameters.WriteOpen(open);
        ushort stream = _nextLocalStream;
        if (Association.Send(stream, DataChannelPpid.Control, open) != SctpSendStatus.Queued)
        {
            return null;
        }

        _nextLocalStream += 2;
        var channel = new DataChannel(stream, parameters, openedLocally: true);
        _channels[stream] = channel;
        return channel;
    }

    /// <summary>
    /// Sends one message. The bytes are referenced until acknowledged, not copied: one buffer may go to many channels.
    /// </summary>
    public SctpSendStatus Send(DataChannel channel, bool isString, ReadOnlyMemory<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(channel);
        if (!channel.IsOpen)
        {
            return SctpSendStatus.Invalid;
        }

        uint ppid = payload.IsEmpty
            ? (isString ? DataChannelPpid.EmptyString : DataChannelPpid.EmptyBinary)
            : (isString ? DataChannelPpid.String : DataChannelPpid.Binary);
        SctpSendOptions options = channel.Acknowledged ? channel.Parameters.SendOptions : channel.Parameters.SendOptions with { Unordered = false };
        return Association.Send(channel.Stream, ppid, payload.IsEmpty ? EmptyPayload : payload, options);
    }

    public void Close(DataChannel channel)
    {
        ArgumentNullException.ThrowIfNull(channel);
        if (channel.IsOpen)
        {
            channel.IsOpen = false;
            Association.ResetOutgoingStreams([channel.Stream]);
        }
    }

    void IDtlsApplicationDataSink.OnDtlsApplicationData(ReadOnlySpan<byte> data) => Association.HandlePacket(data);

    void ISctpAssociationListener.SendSctpPacket(ReadOnlySpan<byte> packet) => _dtls.SendApplicationData(packet);

    void ISctpAssociationListener.OnSctpEstablished() => _listener.OnDataChannelsEstablished(this);

    void ISctpAssociationListener.OnSctpMessage(ushort stream, uint ppid, ReadOnlySpan<byte> payload)
    {
        if (ppid == DataChannelPpid.Control)
        {
            OnControl(stream, payload);
            return;
        }

        if (!_channels.TryGetValue(stream, out DataChannel? channel) || !channel.IsOpen)
        {
            UnknownChannelMessages++;
            return;
        }

        channel.Acknowledged = true; // the peer's data after its OPEN implies our ACK arrived, and vice versa
        _listener.OnDataChannelMessage(channel, DataChannelPpid.IsString(ppid), DataChannelPpid.IsEmpty(ppid) ? [] : payload);
    }

    void ISctpAssociationListener.OnSctpIncomingStreamsReset(ReadOnlySpan<ushort> streams)
    {
        foreach (ushort stream in streams)
        {
            if (!_channels.Remove(stream, out DataChannel? channel))
            {
                continue;
            }

            // Closing is a reset both ways: answer the peer's with ours unless this end began it.
            if (channel.IsOpen)
            {
                channel.IsOpen = false;
                Association.ResetOutgoingStreams([stream]);
            }

            _listener.OnDataChannelClosed(channel);
        }
    }

    void ISctpAssociationListener.OnSctpClosed(string reason)
    {
        foreach (DataChannel channel in _channels.Values.ToList())
        {
            channel.IsOpen = false;
            _listener.OnDataChannelClosed(channel);
        }

        _channels.Clear();
    }

    private void OnControl(ushort stream, ReadOnlySpan<byte> message)
    {
        if (!message.IsEmpty && message[0] == DataChannelParameters.AckMessage)
        {
            if (_channels.TryGetValue(stream, out DataChannel? opened))
            {
                opened.Acknowledged = true;
            }

            return;
        }

        if (!DataChannelParameters.TryParseOpen(message, out DataChannelParameters? parameters) || _channels.ContainsKey(stream))
        {
            UnknownChannelMessages++;
            return;
        }

        var channel = new DataChannel(stream, parameters!, openedLocally: false);
        _channels[stream] = channel;
        Association.Send(stream, DataChannelPpid.Control, Ack);
        _listener.OnDataChannelOpened(channel);
    }
}
