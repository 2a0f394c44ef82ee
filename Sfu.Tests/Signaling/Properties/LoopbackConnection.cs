using Sfu.Signaling.Sessions;

namespace Sfu.Tests.Signaling.Properties;

/// <summary>
/// A socket as the session sees it, in memory: what was queued and not yet read by the client. A socket that closed
/// (dropped, superseded, ended) takes nothing more, and what the client had not read on it is gone.
/// </summary>
internal sealed class LoopbackConnection(int number) : ISessionConnection
{
    public Queue<byte[]> Unread { get; } = new();

    public bool IsOpen { get; private set; } = true;

    public string Id => $"socket-{number}";

    public string RemoteEndpoint => "127.0.0.1:1";

    public bool TrySend(byte[] message)
    {
        if (IsOpen) Unread.Enqueue(message);
        return IsOpen;
    }

    public void SendReplay(IReadOnlyList<byte[]> messages)
    {
        foreach (var message in messages) TrySend(message);
    }

    public void Close(int code, string reason) => Vanish();

    public void Supersede() => Vanish();

    public void Abort() => Vanish();

    /// <summary>The network lost the socket: unread messages never arrive.</summary>
    public void Vanish()
    {
        IsOpen = false;
        Unread.Clear();
    }
}
