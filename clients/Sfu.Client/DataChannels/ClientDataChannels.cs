using Sfu.Media.DataChannels;
using Sfu.Media.Dtls;
using Sfu.Media.Sctp;
using Sfu.Media.Sdp;

namespace Sfu.Client.DataChannels;

/// <summary>
/// The data channels of one client transport: Sfu.Media's SCTP association and DCEP (<see cref="DataChannelTransport"/>)
/// over the transport's DTLS, started once the SDP negotiated a data section and DTLS is up (this end sends INIT too,
/// as a browser does). Channels this end opens take even stream ids (DTLS client); channels the server opens (a
/// subscriber's data tracks) are reported by <see cref="ChannelOpened"/>.
/// </summary>
/// <remarks>
/// The association is driven on one thread at a time: received packets (the transport's receive loop), timers (its
/// heartbeat) and sends (any thread) take one lock. Events are raised inside it, so a handler must be quick; it may
/// send (the lock is reentrant).
/// </remarks>
public sealed class ClientDataChannels : IDataChannelListener, IDtlsApplicationDataSink
{
    private readonly Lock _gate = new();
    private readonly DtlsTransport _dtls;
    private readonly Dictionary<DataChannel, ClientDataChannel> _channels = [];
    private readonly TaskCompletionSource _established = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private DataChannelTransport? _transport;

    internal ClientDataChannels(DtlsTransport dtls) => _dtls = dtls;

    /// <summary>A channel opened by the server (DCEP OPEN, acknowledged already): for a subscriber, a data track.</summary>
    public event Action<ClientDataChannel>? ChannelOpened;

    /// <summary>A message on any channel. The bytes are the handler's to keep.</summary>
    public event Action<ClientDataChannel, DataMessage>? MessageReceived;

    /// <summary>A channel closed: reset by the server (its track is gone), closed here, or the association ended.</summary>
    public event Action<ClientDataChannel>? ChannelClosed;

    /// <summary>Whether an SDP negotiation accepted a data section on this transport.</summary>
    public bool IsNegotiated
    {
        get
        {
            lock (_gate)
            {
                return _transport is not null;
            }
        }
    }

    public bool IsEstablished => _established.Task.IsCompletedSuccessfully;

    /// <summary>Bytes queued on the association and not yet acknowledged, every channel together.</summary>
    public long BufferedAmount
    {
        get
        {
            lock (_gate)
            {
                return _transport?.Association.BufferedAmount ?? 0;
            }
        }
    }

    /// <summary>The association's figures (messages, bytes, retransmissions, drops by reason); null before negotiation.</summary>
    public SctpCounters? Counters
    {
        get
        {
            lock (_gate)
            {
                return _transport?.Association.Counters;
            }
        }
    }

    /// <summary>Waits until the SCTP association is up; throws if it closes first or the time runs out.</summary>
    public Task WaitEstablishedAsync(TimeSpan timeout) => _established.Task.WaitAsync(timeout);

    /// <summary>Opens a channel from this end (DCEP OPEN); null when the association is not established.</summary>
    public ClientDataChannel? Open(DataChannelParameters parameters)
    {
        lock (_gate)
        {
            if (_transport?.Open(parameters) is not { } channel)
            {
                return null;
            }

            var opened = new ClientDataChannel(this, channel);
            _channels[channel] = opened;
            return opened;
        }
    }

    /// <summary>The negotiated data section, from the answer (publisher) or the offer (subscriber): starts the association.</summary>
    internal void Enable(SctpDescription negotiated)
    {
        lock (_gate)
        {
            if (_transport is not null)
            {
                return;
            }

            var options = new SctpAssociationOptions { Port = negotiated.Port, MaxMessageSize = Math.Min(negotiated.MaxMessageSize, ClientMaxMessageSize) };
            _transport = new DataChannelTransport(_dtls, options, this);
            // DataChannelTransport made itself the sink; packets must come through this lock instead.
            _dtls.ApplicationDataSink = this;
            if (_dtls.State == DtlsState.Connected)
            {
                _transport.Association.Connect();
            }
        }
    }

    /// <summary>What this client accepts and offers as <c>a=max-message-size</c>: the association's default.</summary>
    internal static int ClientMaxMessageSize => new SctpAssociationOptions().MaxMessageSize;

    internal void OnDtlsConnected()
    {
        lock (_gate)
        {
            _transport?.Association.Connect();
        }
    }

    internal void OnHeartbeat(DateTimeOffset now)
    {
        lock (_gate)
        {
            if (_transport?.Association is { NextTimeout: { } due } association && due <= now)
            {
                association.HandleTimeout();
            }
        }
    }

    internal SctpSendStatus Send(ClientDataChannel channel, bool isString, ReadOnlyMemory<byte> payload)
    {
        lock (_gate)
        {
            return _transport is null ? SctpSendStatus.NotEstablished : _transport.Send(channel.Channel, isString, payload);
        }
    }

    internal void Close(ClientDataChannel channel)
    {
        lock (_gate)
        {
            _transport?.Close(channel.Channel);
        }
    }

    void IDtlsApplicationDataSink.OnDtlsApplicationData(ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            _transport?.Association.HandlePacket(data);
            if (_transport?.Association.State == SctpAssociationState.Closed)
            {
                _established.TrySetException(new InvalidOperationException($"SCTP association closed: {_transport.Association.CloseReason}"));
            }
        }
    }

    void IDataChannelListener.OnDataChannelsEstablished(DataChannelTransport transport) => _established.TrySetResult();

    void IDataChannelListener.OnDataChannelOpened(DataChannel channel)
    {
        var opened = new ClientDataChannel(this, channel);
        _channels[channel] = opened;
        ChannelOpened?.Invoke(opened);
    }

    void IDataChannelListener.OnDataChannelMessage(DataChannel channel, bool isString, ReadOnlySpan<byte> payload)
    {
        if (_channels.TryGetValue(channel, out ClientDataChannel? known))
        {
            MessageReceived?.Invoke(known, new DataMessage(isString, payload.ToArray()));
        }
    }

    void IDataChannelListener.OnDataChannelClosed(DataChannel channel)
    {
        if (_channels.Remove(channel, out ClientDataChannel? closed))
        {
            ChannelClosed?.Invoke(closed);
        }
    }
}
