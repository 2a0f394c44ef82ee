using System.Runtime.InteropServices;

namespace Sfu.Media.Interop;

/// <summary>
/// The few libc calls the media worker's wait needs and .NET does not offer: <c>poll</c> over two descriptors at
/// once (the UDP socket and an eventfd), and the eventfd itself.
/// </summary>
internal static unsafe partial class Libc
{
    internal const short POLLIN = 0x001;
    internal const int EFD_CLOEXEC = 0x80000;
    internal const int EFD_NONBLOCK = 0x800;

    [StructLayout(LayoutKind.Sequential)]
    internal struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    internal static partial int poll(PollFd* fds, nuint count, int timeoutMs);

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    internal static partial int eventfd(uint initialValue, int flags);

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    internal static partial nint read(SafeEventFdHandle fd, void* buffer, nuint count);

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    internal static partial nint write(SafeEventFdHandle fd, void* buffer, nuint count);

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    internal static partial int close(int fd);
}
