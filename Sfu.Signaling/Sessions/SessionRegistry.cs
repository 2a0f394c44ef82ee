using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Sfu.Signaling.Diagnostics;

namespace Sfu.Signaling.Sessions;

/// <summary>Every live session by id, for <c>resume</c>. A session leaves the registry when it ends.</summary>
public sealed class SessionRegistry(IOptions<SignalingOptions> options, SignalingMetrics metrics)
{
    private readonly ConcurrentDictionary<string, Session> _sessions = new(StringComparer.Ordinal);

    public int Count => _sessions.Count;

    public IReadOnlyCollection<Session> All => [.. _sessions.Values];

    public Session Create()
    {
        // 128 random bits name a session; a separate 256-bit secret resumes it, so knowing an id gives nothing.
        var id = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));
        var session = new Session(id, RandomNumberGenerator.GetBytes(32), options.Value.ReplayLogCapacity, options.Value.ReplayLogMaxBytes, metrics, OnEnded);
        _sessions[id] = session;
        metrics.SessionStarted();
        return session;
    }

    public Session? Find(string id) => _sessions.GetValueOrDefault(id);

    private void OnEnded(Session session)
    {
        if (_sessions.TryRemove(new KeyValuePair<string, Session>(session.Id, session))) metrics.SessionEnded();
    }
}
