using System.Buffers.Binary;
using Sfu.Media.Rtcp;

namespace Sfu.Tests.Media.Congestion;

/// <summary>
/// Test-side transport-cc feedback encoder (draft-holmer-rmcat-transport-wide-cc-extensions-01 section 3.1), in
/// the simplest valid form: 2-bit status vectors of 7 symbols, then the receive deltas, padded to 32 bits. Only
/// what the tests need to feed the reader and the estimator; the server's own writer is another type.
/// </summary>
internal static class TransportFeedbackBuilder
{
    public static byte[] Encode(IReadOnlyList<TransportFeedbackPacket> packets, int referenceTime, byte feedbackCount)
    {
        var body = new List<byte>();
        void U16(int v) { body.Add((byte)(v >> 8)); body.Add((byte)v); }
        U16(packets[0].SequenceNumber);
        U16(packets.Count);
        body.Add((byte)(referenceTime >> 16));
        body.Add((byte)(referenceTime >> 8));
        body.Add((byte)referenceTime);
        body.Add(feedbackCount);
        var deltas = new List<byte>();
        for (var start = 0; start < packets.Count; start += 7)
        {
            var chunk = 0xC000;
            for (var s = 0; s < 7 && start + s < packets.Count; s++)
            {
                var p = packets[start + s];
                var units = p.DeltaMicroseconds / RtcpTransportFeedback.DeltaUnitMicroseconds;
                var symbol = !p.Received ? 0 : units is >= 0 and <= 255 ? 1 : 2;
                chunk |= symbol << (12 - (2 * s));
                if (symbol == 1) deltas.Add((byte)units);
                if (symbol == 2) { deltas.Add((byte)(units >> 8)); deltas.Add((byte)units); }
            }
            U16(chunk);
        }
        body.AddRange(deltas);
        while (body.Count % 4 != 0) body.Add(0);

        var packet = new byte[12 + body.Count];
        packet[0] = 0x8F;
        packet[1] = 205;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)((packet.Length / 4) - 1));
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(8), 2);
        body.CopyTo(packet, 12);
        return packet;
    }

    /// <summary>
    /// Feedback on consecutive sequence numbers from <paramref name="first"/>, each with its arrival time in µs of
    /// the receiver's clock or null if it never arrived; deltas are rounded the way a receiver's 250 µs ticks are.
    /// </summary>
    public static byte[] FromArrivals(ushort first, IReadOnlyList<long?> arrivalsUs, byte feedbackCount)
    {
        var firstArrival = arrivalsUs.First(a => a is not null)!.Value;
        var reference = (int)(firstArrival / RtcpTransportFeedback.ReferenceTimeUnitMicroseconds);
        var previousUnits = reference * (RtcpTransportFeedback.ReferenceTimeUnitMicroseconds / RtcpTransportFeedback.DeltaUnitMicroseconds);
        var packets = new List<TransportFeedbackPacket>(arrivalsUs.Count);
        for (var i = 0; i < arrivalsUs.Count; i++)
        {
            var sequence = (ushort)(first + i);
            if (arrivalsUs[i] is not { } arrival)
            {
                packets.Add(new TransportFeedbackPacket(sequence, false, 0));
                continue;
            }
            var units = arrival / RtcpTransportFeedback.DeltaUnitMicroseconds;
            packets.Add(new TransportFeedbackPacket(sequence, true, (units - previousUnits) * RtcpTransportFeedback.DeltaUnitMicroseconds));
            previousUnits = units;
        }
        return Encode(packets, reference & 0xFFFFFF, feedbackCount);
    }
}
