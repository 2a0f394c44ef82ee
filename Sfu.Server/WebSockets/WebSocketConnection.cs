using System.Net.WebSockets;
using System.Threading.Channels;
using Sfu.Signaling.Sessions;

namespace Sfu.Server.WebSockets;

/// <summary>
/// One accepted WebSocket as the signaling core sees it: a send queue drained by a single writer task, and
/// the ways to end it. Only the writer touches the socket's send side, so messages keep their order and
/// a close frame never races a data frame. The queue is bounded in messages and in bytes; the writer records
/// when its current send began, so that the gateway's heartbeat can drop a client that stopped reading.
/// </summary>
internal sealed class WebSocketConnection : ISessionConnection
{
    private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(5);

    private readonly WebSocket _socket;
    private readonly TimeProvider _time;
    private readonly Channel<Outgoing> _outbox = Channel.CreateUnbounded<Outgoing>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource _readerFinished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _gate = new();
    private readonly int _maxQueuedMessages;
    private readonly long _maxQueuedBytes;
    private int _queuedMessages;
    private long _queuedBytes;
    private long _sendStartedAt;
    private int? _closeCode;
    private string _closeReason = "";
    private bool _discardQueued;
    private bool _abort;
    private TaskCompletionSource? _roomFreed;
    private volatile bool _relayed;

    public WebSocketConnection(WebSocket socket, string id, string remoteEndpoint, int maxQueuedMessages, long maxQueuedBytes, TimeProvider time)
    {
        _socket = socket;
        _time = time;
        Id = id;
        RemoteEndpoint = remoteEndpoint;
        _maxQueuedMessages = maxQueuedMessages;
        _maxQueuedBytes = maxQueuedBytes;
        OpenedAt = time.GetTimestamp();
    }

    public string Id { get; }

    public string RemoteEndpoint { get; }

    /// <summary>When the socket was accepted (<see cref="TimeProvider"/> timestamp).</summary>
    public long OpenedAt { get; }

    /// <summary>True once the socket was dropped: nothing more will be sent.</summary>
    public bool IsAborted
    {
        get { lock (_gate) return _abort; }
    }

    /// <summary>How long the send in progress has taken so far; zero when the writer is not sending.</summary>
    public TimeSpan CurrentSendDuration
    {
        get
        {
            var started = Interlocked.Read(ref _sendStartedAt);
            return started == 0 ? TimeSpan.Zero : _time.GetElapsedTime(started);
        }
    }

    /// <summary>
    /// True once the socket is relayed to the node that owns its session: this node's signaling never sees its
    /// messages, so the first-message deadline does not apply (the owner enforces its own).
    /// </summary>
    public bool IsRelayed => _relayed;

    public void MarkRelayed() => _relayed = true;

    /// <summary>The close code the server sent, if it closed the socket.</summary>
    public int? ServerCloseCode
    {
        get { lock (_gate) return _closeCode; }
    }

    public bool TrySend(byte[] message)
    {
        bool full;
        lock (_gate)
        {
            full = _queuedMessages >= _maxQueuedMessages || _queuedBytes + message.Length > _maxQueuedBytes;
            if (!full)
            {
                _queuedMessages++;
                _queuedBytes += message.Length;
            }
        }
        // Full queue: the client reads slower than the room talks. Drop the socket rather than buffer without
        // bound; the session keeps every message for the client's resume.
        if (full)
        {
            Abort();
            return false;
        }
        if (!_outbox.Writer.TryWrite(new Outgoing(message, Counted: true)))
        {
            // Closing (the client's close frame, or ours, is on its way): nothing more goes out, and nothing is wrong.
            // Aborting here would cut the close handshake short; the session's replay log keeps the message.
            lock (_gate)
            {
                _queuedMessages--;
                _queuedBytes -= message.Length;
            }
            return false;
        }
        return true;
    }

    /// <summary>
    /// Queues <paramref name="message"/> once the queue has room for it, waiting until then: a relay passes a slow
    /// reader's back-pressure on to the node it relays from (whose own bounds and send timeout then apply), instead of
    /// dropping a client that a direct socket would have kept. False once the socket is closing or dropped.
    /// </summary>
    public async Task<bool> SendWhenRoomAsync(byte[] message)
    {
        while (true)
        {
            Task freed;
            lock (_gate)
            {
                if (_abort || _closeCode is not null || _readerFinished.Task.IsCompleted) return false;
                if (_queuedMessages < _maxQueuedMessages && _queuedBytes + message.Length <= _maxQueuedBytes)
                {
                    _queuedMessages++;
                    _queuedBytes += message.Length;
                    break;
                }
                _roomFreed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                freed = _roomFreed.Task;
            }
            await freed.ConfigureAwait(false);
        }
        if (_outbox.Writer.TryWrite(new Outgoing(message, Counted: true))) return true;
        lock (_gate)
        {
            _queuedMessages--;
            _queuedBytes -= message.Length;
        }
        return false;
    }

    public void SendReplay(IReadOnlyList<byte[]> messages)
    {
        foreach (var message in messages) _outbox.Writer.TryWrite(new Outgoing(message, Counted: false));
    }

    public void Close(int code, string reason)
    {
        lock (_gate)
        {
            if (_closeCode is not null || _abort) return;
            _closeCode = code;
            _closeReason = reason;
        }
        _outbox.Writer.TryComplete();
        WakeRoomWaiter();
    }

    public void Supersede()
    {
        lock (_gate) _discardQueued = true;
        Close(Signaling.Protocol.CloseCodes.Superseded, "session resumed on another socket");
    }

    public void Abort()
    {
        lock (_gate) _abort = true;
        _outbox.Writer.TryComplete();
        WakeRoomWaiter();
        // Also ends a send in progress (a client that stopped reading) and the read loop, at once.
        _socket.Abort();
    }

    /// <summary>The read loop ended (the peer closed, or the socket broke): nothing more will be sent.</summary>
    public void OnReaderFinished()
    {
        _readerFinished.TrySetResult();
        _outbox.Writer.TryComplete();
        WakeRoomWaiter();
    }

    /// <summary>Sends queued messages until the connection is closed, then finishes the close handshake.</summary>
    public async Task RunWriterAsync()
    {
        try
        {
            await foreach (var (message, counted) in _outbox.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                if (counted)
                {
                    lock (_gate)
                    {
                        _queuedMessages--;
                        _queuedBytes -= message.Length;
                    }
                    WakeRoomWaiter();
                }
                if (IsDiscarding()) break;
                Interlocked.Exchange(ref _sendStartedAt, _time.GetTimestamp());
                await _socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
                Interlocked.Exchange(ref _sendStartedAt, 0);
            }
            await FinishAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The network took the socket away; the read loop sees the same and the session waits for a resume.
            _socket.Abort();
        }
    }

    private void WakeRoomWaiter()
    {
        TaskCompletionSource? waiter;
        lock (_gate)
        {
            waiter = _roomFreed;
            _roomFreed = null;
        }
        waiter?.TrySetResult();
    }

    private bool IsDiscarding()
    {
        lock (_gate) return _discardQueued || _abort;
    }

    private async Task FinishAsync()
    {
        int? code;
        string reason;
        bool abort;
        lock (_gate)
        {
            code = _closeCode;
            reason = _closeReason;
            abort = _abort;
        }
        if (abort)
        {
            _socket.Abort();
            return;
        }
        if (code is { } closeCode && _socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            await _socket.CloseOutputAsync((WebSocketCloseStatus)closeCode, reason, CancellationToken.None).ConfigureAwait(false);
        }
        // Give the client a moment to answer our close frame, then cut the socket so the read loop ends.
        if (await Task.WhenAny(_readerFinished.Task, Task.Delay(CloseHandshakeTimeout)).ConfigureAwait(false) != _readerFinished.Task)
            _socket.Abort();
    }
}

/// <summary>A queued message; replayed ones are not counted against the queue's bounds (the replay log bounds them).</summary>
internal readonly record struct Outgoing(byte[] Message, bool Counted);
