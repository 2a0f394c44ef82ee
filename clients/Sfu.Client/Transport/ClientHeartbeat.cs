namespace Sfu.Client.Transport;

/// <summary>
/// One timer for every transport in the process (as Kestrel's heartbeat walks every connection): ICE checks,
/// consent and DTLS retransmissions are all coarse deadlines, so a load tool with a thousand transports
/// needs one timer, not a thousand.
/// </summary>
internal static class ClientHeartbeat
{
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(10);

    private static readonly Lock Gate = new();
    private static readonly List<ClientTransport> Members = [];
    private static ClientTransport[] _snapshot = [];
    private static Timer? _timer;
    private static int _running;

    public static void Register(ClientTransport transport)
    {
        lock (Gate)
        {
            Members.Add(transport);
            _snapshot = [.. Members];
            _timer ??= new Timer(static _ => Tick(), null, Period, Period);
        }
    }

    public static void Unregister(ClientTransport transport)
    {
        lock (Gate)
        {
            Members.Remove(transport);
            _snapshot = [.. Members];
        }
    }

    private static void Tick()
    {
        // A slow tick is skipped rather than run twice at once.
        if (Interlocked.Exchange(ref _running, 1) == 1)
        {
            return;
        }

        try
        {
            long now = TimeProvider.System.GetTimestamp();
            foreach (ClientTransport transport in Volatile.Read(ref _snapshot))
            {
                try
                {
                    transport.OnHeartbeat(now);
                }
                catch (Exception)
                {
                    // One broken transport must not stop the others' timers.
                }
            }
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }
}
