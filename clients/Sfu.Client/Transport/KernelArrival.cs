using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Sfu.Media.Udp;

namespace Sfu.Client.Transport;

/// <summary>
/// When the kernel received the last datagram a socket handed to us, on the <see cref="Stopwatch"/> clock. A one-way
/// latency read from it leaves out the time a datagram then waited for this process: the thread-pool hop of the async
/// receive and the datagrams of the other subscribers ahead of it, which in a load tool with hundreds of subscribers
/// on one core were most of the measured latency. Linux only (the <c>SIOCGSTAMPNS</c> ioctl); elsewhere, or when the
/// kernel has no stamp, the time of the call.
/// </summary>
public static partial class KernelArrival
{
    private const nuint SiocGStampNs = 0x8907;

    /// <summary>
    /// Asks the kernel to stamp every datagram the socket receives. The first <c>SIOCGSTAMPNS</c> does that (and finds
    /// no stamp yet); <c>SO_TIMESTAMPNS</c> would not do: it puts the stamp in each datagram's control data, which an
    /// ordinary receive does not read, and the ioctl then finds none.
    /// </summary>
    public static void Enable(Socket socket)
    {
        if (OperatingSystem.IsLinux()) ioctl((int)socket.SafeHandle.DangerousGetHandle(), SiocGStampNs, out _);
    }

    /// <summary>The kernel's receive time of the datagram last read from <paramref name="socket"/>, as a Stopwatch timestamp.</summary>
    public static long LastReceived(Socket socket)
    {
        long now = Stopwatch.GetTimestamp();
        long wallNow = ArrivalClock.WallNow();
        if (!OperatingSystem.IsLinux() || ioctl((int)socket.SafeHandle.DangerousGetHandle(), SiocGStampNs, out var stamp) != 0)
        {
            return now;
        }

        return ArrivalClock.ToWorkerTime((stamp.Seconds * 1_000_000_000) + stamp.Nanoseconds, now, wallNow, Stopwatch.Frequency);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", SetLastError = false)]
    private static partial int ioctl(int descriptor, nuint request, out Timespec value);
}
