using System.Runtime.InteropServices;

namespace Sfu.Media.Interop;

/// <summary>
/// <c>recvmmsg</c> and <c>sendmmsg</c>: many datagrams per system call, which .NET's <c>Socket</c> does not offer.
/// The structs are the LP64 Linux layouts (x86-64 and arm64 alike); sequential layout gives them glibc's padding.
/// </summary>
internal static unsafe partial class Libc
{
    internal const int MSG_DONTWAIT = 0x40;
    internal const int MSG_TRUNC = 0x20;
    internal const int EINTR = 4;

    /// <summary>Size of <c>sockaddr_in6</c>, the largest address the media port receives from or sends to.</summary>
    internal const int MaxSocketAddress = 28;

    internal const int SOL_SOCKET = 1;

    /// <summary>Socket option and control-message type: the kernel stamps each datagram's arrival (CLOCK_REALTIME, ns).</summary>
    internal const int SO_TIMESTAMPNS = 35;

    /// <summary><c>struct cmsghdr</c> before its data: length (size_t), level and type (int each).</summary>
    internal const int ControlMessageHeaderSize = 16;

    /// <summary><c>CMSG_SPACE(sizeof(struct timespec))</c>: room for one arrival timestamp.</summary>
    internal const int TimestampControlSpace = ControlMessageHeaderSize + 16;

    [StructLayout(LayoutKind.Sequential)]
    internal struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct MsgHdr
    {
        public byte* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public byte* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct MMsgHdr
    {
        public MsgHdr Header;

        /// <summary>Set by the kernel: the bytes received into, or sent from, this message.</summary>
        public uint Length;
    }

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    internal static partial int recvmmsg(int socket, MMsgHdr* messages, uint count, int flags, void* timeout);

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    internal static partial int sendmmsg(int socket, MMsgHdr* messages, uint count, int flags);
}
