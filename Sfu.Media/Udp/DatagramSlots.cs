using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Sfu.Media.Interop;

namespace Sfu.Media.Udp;

/// <summary>
/// Room for a batch of datagrams in the shape <c>recvmmsg</c>/<c>sendmmsg</c> take: per slot a data buffer, a socket
/// address, and the iovec and message header that point at them. Everything is allocated once, on the pinned object
/// heap, so the pointers wired here stay valid for the life of the batch and no call pins or allocates; the whole
/// batch is <see cref="Count"/> × (<see cref="SlotSize"/> + <see cref="Libc.MaxSocketAddress"/> + control + 80) bytes.
/// Receive slots have room for control messages (the kernel's arrival timestamp); send slots have none.
/// </summary>
internal sealed unsafe class DatagramSlots
{
    private readonly byte[] _data;
    private readonly byte[] _addresses;
    private readonly Libc.IoVec[] _vectors;
    private readonly Libc.MMsgHdr[] _messages;
    private readonly byte[] _control;
    private readonly int _controlSize;

    public DatagramSlots(int count, int slotSize, int controlSize = 0)
    {
        Count = count;
        SlotSize = slotSize;
        _controlSize = controlSize;
        _data = GC.AllocateArray<byte>(count * slotSize, pinned: true);
        _control = GC.AllocateArray<byte>(Math.Max(1, count * controlSize), pinned: true);
        _addresses = GC.AllocateArray<byte>(count * Libc.MaxSocketAddress, pinned: true);
        _vectors = GC.AllocateArray<Libc.IoVec>(count, pinned: true);
        _messages = GC.AllocateArray<Libc.MMsgHdr>(count, pinned: true);
        for (var i = 0; i < count; i++)
        {
            _vectors[i] = new Libc.IoVec { Base = PointerTo(_data, i * slotSize), Length = (nuint)slotSize };
            _messages[i].Header = new Libc.MsgHdr
            {
                Name = PointerTo(_addresses, i * Libc.MaxSocketAddress),
                NameLength = Libc.MaxSocketAddress,
                Iov = (Libc.IoVec*)Unsafe.AsPointer(ref _vectors[i]),
                IovLength = 1,
                Control = controlSize == 0 ? null : PointerTo(_control, i * controlSize),
                ControlLength = (nuint)controlSize,
            };
        }
    }

    public int Count { get; }

    public int SlotSize { get; }

    /// <summary>The first message header; the array is pinned, so the pointer is stable.</summary>
    public Libc.MMsgHdr* Messages => (Libc.MMsgHdr*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_messages));

    public ref Libc.MMsgHdr Message(int slot) => ref _messages[slot];

    public Span<byte> Data(int slot) => _data.AsSpan(slot * SlotSize, SlotSize);

    /// <summary>Sets how many bytes of the slot's buffer a send takes, or a receive may fill.</summary>
    public void SetDataLength(int slot, int length) => _vectors[slot].Length = (nuint)length;

    /// <summary>Copies <paramref name="address"/> into the slot, as the destination of a send.</summary>
    public void SetAddress(int slot, SocketAddress address)
    {
        address.Buffer.Span[..address.Size].CopyTo(_addresses.AsSpan(slot * Libc.MaxSocketAddress, Libc.MaxSocketAddress));
        _messages[slot].Header.NameLength = (uint)address.Size;
    }

    /// <summary>
    /// Copies the slot's address (the sender, after a receive) into <paramref name="address"/>; false when it does not
    /// fit there, which only an address of another family can do.
    /// </summary>
    public bool TryCopyAddress(int slot, SocketAddress address)
    {
        var length = (int)_messages[slot].Header.NameLength;
        if (length > address.Buffer.Length) return false;
        _addresses.AsSpan(slot * Libc.MaxSocketAddress, length).CopyTo(address.Buffer.Span);
        address.Size = length;
        return true;
    }

    /// <summary>Makes the slot ready for the next receive: the kernel shrinks the address length and sets flags.</summary>
    public void ResetForReceive(int slot)
    {
        _messages[slot].Header.NameLength = Libc.MaxSocketAddress;
        _messages[slot].Header.ControlLength = (nuint)_controlSize;
        _messages[slot].Header.Flags = 0;
    }

    /// <summary>
    /// The arrival time the kernel stamped on the slot's datagram (SCM_TIMESTAMPNS: CLOCK_REALTIME in nanoseconds), or
    /// null when its control messages carry none.
    /// </summary>
    public long? ArrivalTimestamp(int slot)
    {
        var control = _control.AsSpan(slot * _controlSize, Math.Min(_controlSize, (int)_messages[slot].Header.ControlLength));
        while (control.Length >= Libc.ControlMessageHeaderSize)
        {
            var length = (int)Math.Min(MemoryMarshal.Read<nuint>(control), (nuint)control.Length);
            if (length < Libc.ControlMessageHeaderSize) return null;
            var level = MemoryMarshal.Read<int>(control[8..]);
            var type = MemoryMarshal.Read<int>(control[12..]);
            if (level == Libc.SOL_SOCKET && type == Libc.SO_TIMESTAMPNS && length >= Libc.TimestampControlSpace)
            {
                var seconds = MemoryMarshal.Read<long>(control[16..]);
                var nanoseconds = MemoryMarshal.Read<long>(control[24..]);
                return (seconds * 1_000_000_000) + nanoseconds;
            }
            // CMSG_NXTHDR: the next header starts at the next 8-byte boundary.
            var next = (length + 7) & ~7;
            if (next >= control.Length) return null;
            control = control[next..];
        }
        return null;
    }

    private static byte* PointerTo(byte[] pinned, int offset) => (byte*)Unsafe.AsPointer(ref pinned[offset]);
}
