using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sfu.Signaling.Diagnostics;
using Sfu.Signaling.Protocol;

namespace Sfu.Signaling.Rooms;

/// <summary>
/// Every open room by id. Opens a room on its first join, closes it when it has been empty for
/// <see cref="SignalingOptions.EmptyRoomCloseMs"/>, and runs the liveness clock of all rooms on one timer.
/// </summary>
public sealed partial class RoomRegistry : IRoomListener, IDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<string, Room> _rooms = new(StringComparer.Ordinal);
    private readonly SignalingOptions _options;
    private readonly LivenessPolicy _policy;
    private readonly SignalingMetrics _metrics;
    private readonly ILogger<RoomRegistry> _logger;
    private readonly DeadlineTimer _clock;
    private bool _admitting = true;

    private readonly MediaSessions.MediaService? _media;

    public RoomRegistry(IOptions<SignalingOptions> options, LivenessPolicy policy, SignalingMetrics metrics, ILogger<RoomRegistry> logger, MediaSessions.MediaService? media = null)
    {
        _media = media;
        _options = options.Value;
        _policy = policy;
        _metrics = metrics;
        _logger = logger;
        _clock = new DeadlineTimer(policy.Time, Sweep, TimeSpan.FromMilliseconds(20));
    }

    public IReadOnlyList<Room> Rooms
    {
        get { lock (_gate) return [.. _rooms.Values]; }
    }

    public Room? Find(string roomId)
    {
        lock (_gate) return _rooms.GetValueOrDefault(roomId);
    }

    /// <summary>
    /// Admits <paramref name="peer"/> into <paramref name="roomId"/>, opening the room if needed. See
    /// <see cref="Room.TryAdmit"/> for <paramref name="onAdmitted"/>.
    /// </summary>
    public Room Join(string roomId, Peer peer, Action<IReadOnlyList<Peer>> onAdmitted)
    {
        while (true)
        {
            var room = GetOrOpen(roomId);
            if (room.TryAdmit(peer, onAdmitted)) return room;
            // The room closed between lookup and admission; the next lookup opens a fresh one.
            Forget(room);
        }
    }

    /// <summary>Closes a room at an operator's request; false if there is no such room.</summary>
    public bool Close(string roomId, string reason)
    {
        Room? room;
        lock (_gate)
        {
            if (!_rooms.Remove(roomId, out room)) return false;
        }
        if (room.Close(reason)) OnRoomClosed(room, "admin");
        return true;
    }

    /// <summary>Refuses every later join (graceful shutdown).</summary>
    public void StopAdmitting()
    {
        lock (_gate) _admitting = false;
    }

    void IRoomListener.OnPeerAdmitted(Room room, Peer peer)
    {
        _metrics.PeerAdded();
        Log.PeerJoined(_logger, room.Id, peer.Id);
    }

    void IRoomListener.OnPeerRemoved(Room room, Peer peer, PeerLeftReason reason)
    {
        _metrics.PeerRemoved(reason.ToWire());
        Log.PeerLeft(_logger, room.Id, peer.Id, reason.ToWire());
    }

    void IRoomListener.OnPeerRecovered(Room room, Peer peer, TimeSpan outage)
    {
        _metrics.PeerRecovered(outage);
        Log.PeerRecovered(_logger, room.Id, peer.Id, outage.TotalMilliseconds);
    }

    void IRoomListener.OnDeadlineChanged(long deadline) => _clock.Request(deadline);

    private Room GetOrOpen(string roomId)
    {
        lock (_gate)
        {
            if (!_admitting) throw new ProtocolException(ErrorCode.Internal, "the server is shutting down; join another server");
            if (_rooms.TryGetValue(roomId, out var room)) return room;
            if (_rooms.Count >= _options.MaxRooms)
            {
                _metrics.LimitHit("rooms");
                throw new ProtocolException(ErrorCode.RoomFull, $"the server cannot open more rooms ({_options.MaxRooms})");
            }
            room = new Room(roomId, _options.MaxPeersPerRoom, _policy, this);
            if (_media is not null) room.Media = new MediaSessions.RoomMedia(room, _media);
            _rooms.Add(roomId, room);
            _metrics.RoomOpened();
            Log.RoomOpened(_logger, roomId);
            return room;
        }
    }

    private void Forget(Room room)
    {
        lock (_gate)
        {
            if (_rooms.TryGetValue(room.Id, out var current) && ReferenceEquals(current, room)) _rooms.Remove(room.Id);
        }
    }

    private long Sweep(long now)
    {
        var next = long.MaxValue;
        foreach (var room in Rooms)
        {
            next = Math.Min(next, room.CheckLiveness(now));
            bool closed;
            lock (_gate)
            {
                closed = room.TryCloseIfAbandoned(now);
                if (closed && _rooms.TryGetValue(room.Id, out var current) && ReferenceEquals(current, room)) _rooms.Remove(room.Id);
            }
            if (closed) OnRoomClosed(room, "empty");
        }
        return next;
    }

    private void OnRoomClosed(Room room, string reason)
    {
        room.Media?.Close();
        _metrics.RoomClosed(reason);
        Log.RoomClosed(_logger, room.Id, reason);
    }

    public void Dispose() => _clock.Dispose();

    private static partial class Log
    {
        [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Room {RoomId} opened")]
        public static partial void RoomOpened(ILogger logger, string roomId);

        [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Room {RoomId} closed ({Reason})")]
        public static partial void RoomClosed(ILogger logger, string roomId, string reason);

        [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "Peer {PeerId} joined room {RoomId}")]
        public static partial void PeerJoined(ILogger logger, string roomId, string peerId);

        [LoggerMessage(EventId = 103, Level = LogLevel.Information, Message = "Peer {PeerId} left room {RoomId} ({Reason})")]
        public static partial void PeerLeft(ILogger logger, string roomId, string peerId, string reason);

        [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "Peer {PeerId} in room {RoomId} is back after {OutageMs} ms of silence")]
        public static partial void PeerRecovered(ILogger logger, string roomId, string peerId, double outageMs);
    }
}
