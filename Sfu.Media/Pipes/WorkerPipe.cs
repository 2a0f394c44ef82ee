using System.Buffers.Binary;

namespace Sfu.Media.Pipes;

/// <summary>What one entry of a <see cref="WorkerPipe"/> carries.</summary>
internal enum PipeEntryKind : byte
{
    /// <summary>Fills the ring's end when the next entry would not fit before it; the reader skips it.</summary>
    Padding,

    /// <summary>A decrypted RTP packet of one layer, with the moment it reached the server.</summary>
    Rtp,

    /// <summary>A publisher's sender report for one layer: NTP time (8 bytes) and RTP time (4 bytes).</summary>
    SenderReport,

    /// <summary>A data channel message; the entry's flag says whether it is a string.</summary>
    Data,
}

/// <summary>One entry as the reader sees it: valid until the reader's handler returns.</summary>
internal readonly ref struct PipeEntry(PipeEntryKind kind, byte tag, long arrival, Span<byte> payload)
{
    public PipeEntryKind Kind { get; } = kind;

    /// <summary>The layer index of an RTP packet or sender report; 1 for a string data message.</summary>
    public byte Tag { get; } = tag;

    /// <summary>When an RTP packet reached the server, on the workers' shared clock.</summary>
    public long Arrival { get; } = arrival;

    public Span<byte> Payload { get; } = payload;
}

/// <summary>
/// A one-way channel of packets from one media worker to another, in the manner of mediasoup's pipe transports but
/// inside one process: a producer on its home worker writes each packet once, and a mirror producer on the other
/// worker reads it and fans it out to that worker's consumers. A ring of bytes, bounded at construction: when the
/// reader falls that far behind, the writer drops the entry and says so (the caller counts it). One writer thread and
/// one reader thread, no lock: each side publishes its position with a release write and reads the other's with an
/// acquire read. The writer wakes the reader's worker only when the reader had caught up with everything before this
/// entry, so a busy pipe costs no wake per packet; a full fence on both sides means that at least one of them sees
/// the other's last move, so an entry is never left unread while the reader sleeps.
/// </summary>
internal sealed class WorkerPipe
{
    /// <summary>The default ring size: about 700 full-size packets, 0.25 s of a 20 Mbit/s publisher.</summary>
    public const int DefaultCapacityBytes = 1 << 20;

    // Entry header: payload length (4), kind (1), tag (1), unused (2), arrival (8). Entries start on a multiple of
    // its size and the capacity is one too, so the space left before the ring's end always fits at least a header.
    private const int HeaderSize = 16;

    private readonly byte[] _ring;
    private readonly Action _wakeReader;
    private long _written;
    private long _read;
    private volatile bool _readerClosed;

    public WorkerPipe(Action wakeReader, int capacityBytes = DefaultCapacityBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacityBytes, 4 * 1024);
        _ring = GC.AllocateUninitializedArray<byte>(capacityBytes / HeaderSize * HeaderSize, pinned: true);
        _wakeReader = wakeReader;
    }

    public int CapacityBytes => _ring.Length;

    /// <summary>Bytes written and not yet read (entries, headers and padding). Any thread; a snapshot.</summary>
    public long QueuedBytes => Volatile.Read(ref _written) - Volatile.Read(ref _read);

    /// <summary>The reading side is gone: the writer stops writing and forgets the pipe. Any thread.</summary>
    public bool IsReaderClosed => _readerClosed;

    /// <summary>Reader side: nothing more will be read; the writer drops the pipe at its next write.</summary>
    public void CloseReader() => _readerClosed = true;

    /// <summary>Writer side: queues one entry; false (nothing written) when the ring has no room for it.</summary>
    public bool TryWrite(PipeEntryKind kind, byte tag, long arrival, ReadOnlySpan<byte> payload)
    {
        var needed = Align(HeaderSize + payload.Length);
        var written = _written;
        var offset = (int)(written % _ring.Length);
        var padding = offset + needed > _ring.Length ? _ring.Length - offset : 0;
        if (needed > _ring.Length || written + padding + needed - Volatile.Read(ref _read) > _ring.Length) return false;
        if (padding > 0)
        {
            WriteHeader(offset, PipeEntryKind.Padding, 0, 0, padding - HeaderSize);
            offset = 0;
        }
        WriteHeader(offset, kind, tag, arrival, payload.Length);
        payload.CopyTo(_ring.AsSpan(offset + HeaderSize));
        Volatile.Write(ref _written, written + padding + needed);
        // Paired with the fence in Drain: either the reader sees this entry before it sleeps, or this sees that the
        // reader had read up to here and wakes it.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _read) == written) _wakeReader();
        return true;
    }

    /// <summary>
    /// Reader side: hands up to <paramref name="maxEntries"/> entries to <paramref name="handler"/>, oldest first, and
    /// frees each after its handler returns. True when entries remain (the caller comes back on its next turn).
    /// </summary>
    public bool Drain(IPipeEntryHandler handler, int maxEntries)
    {
        var read = _read;
        for (var handled = 0; handled < maxEntries;)
        {
            var written = Volatile.Read(ref _written);
            if (read == written)
            {
                Interlocked.MemoryBarrier();
                if (Volatile.Read(ref _written) == read) return false;
                continue;
            }
            var offset = (int)(read % _ring.Length);
            var header = _ring.AsSpan(offset, HeaderSize);
            var length = BinaryPrimitives.ReadInt32LittleEndian(header);
            var kind = (PipeEntryKind)header[4];
            if (kind != PipeEntryKind.Padding)
            {
                handler.Handle(new PipeEntry(kind, header[5], BinaryPrimitives.ReadInt64LittleEndian(header[8..]), _ring.AsSpan(offset + HeaderSize, length)));
                handled++;
            }
            read += Align(HeaderSize + length);
            Volatile.Write(ref _read, read);
        }
        return Volatile.Read(ref _written) != read;
    }

    private void WriteHeader(int offset, PipeEntryKind kind, byte tag, long arrival, int length)
    {
        var header = _ring.AsSpan(offset, HeaderSize);
        BinaryPrimitives.WriteInt32LittleEndian(header, length);
        header[4] = (byte)kind;
        header[5] = tag;
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], arrival);
    }

    private static int Align(int length) => (length + HeaderSize - 1) / HeaderSize * HeaderSize;
}

/// <summary>What a pipe's reader does with each entry. Reader's worker thread only.</summary>
internal interface IPipeEntryHandler
{
    void Handle(PipeEntry entry);
}
