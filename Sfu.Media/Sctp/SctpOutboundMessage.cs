namespace Sfu.Media.Sctp;

/// <summary>A message in the send buffer: its bytes (shared, never copied per chunk) and how far they were sent.</summary>
internal sealed class SctpOutboundMessage(ushort stream, uint ppid, ReadOnlyMemory<byte> payload, SctpSendOptions options, DateTimeOffset? expiresAt)
{
    public ushort Stream { get; } = stream;

    public uint Ppid { get; } = ppid;

    public ReadOnlyMemory<byte> Payload { get; } = payload;

    public SctpSendOptions Options { get; } = options;

    public DateTimeOffset? ExpiresAt { get; } = expiresAt;

    public ushort Ssn { get; set; }

    /// <summary>How many payload bytes have been put into DATA chunks so far.</summary>
    public int SentBytes { get; set; }

    public bool Abandoned { get; set; }
}

/// <summary>One DATA chunk sent and not yet covered by the peer's cumulative acknowledgement.</summary>
internal sealed class SctpInFlightChunk(uint tsn, SctpOutboundMessage message, int offset, int length)
{
    public uint Tsn { get; } = tsn;

    public SctpOutboundMessage Message { get; } = message;

    public int Offset { get; } = offset;

    public int Length { get; } = length;

    public int Transmissions { get; set; }

    public DateTimeOffset SentAt { get; set; }

    /// <summary>Reported received in a gap block: no longer in flight, waiting for the cumulative ack.</summary>
    public bool GapAcked { get; set; }

    /// <summary>Taken out of the flight to be sent again (T3 expiry or three miss indications).</summary>
    public bool RetransmitPending { get; set; }

    public bool Abandoned { get; set; }

    public int MissIndications { get; set; }

    /// <summary>Counted in the flight size: sent, and neither acknowledged, abandoned, nor waiting to be re-sent.</summary>
    public bool InFlight => !GapAcked && !RetransmitPending && !Abandoned;
}
