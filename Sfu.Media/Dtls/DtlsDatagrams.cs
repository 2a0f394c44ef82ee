using System.Buffers.Binary;

namespace Sfu.Media.Dtls;

/// <summary>
/// Record boundaries within DTLS datagrams, both ways.
/// </summary>
/// <remarks>
/// Sending: OpenSSL writing to a memory BIO hands over a whole flight as one run of records; sent
/// as one UDP payload it could exceed the path MTU, so the run is cut at record boundaries and
/// records are packed greedily up to a size limit.
/// Receiving: OpenSSL's DTLS record layer assumes its own habit of one record per datagram and
/// discards the rest of a datagram after certain records (a replayed record, a retransmitted
/// ClientHello), so a packed flight from a peer is handed to it one record at a time.
/// OpenSSL 3.0 also buffers next-epoch records that arrive before ChangeCipherSpec and then
/// fails the whole handshake (internal_error) on one too short to decrypt, instead of
/// discarding it as DTLS should; such records are dropped here first.
/// </remarks>
internal static class DtlsDatagrams
{
    /// <summary>type(1) version(2) epoch(2) sequence(6) length(2).</summary>
    internal const int RecordHeaderLength = 13;

    /// <summary>
    /// Smallest encrypted record body with the AES-GCM suites DtlsContext allows: 8-byte explicit
    /// nonce plus 16-byte tag.
    /// </summary>
    internal const int MinEncryptedBodyLength = 8 + 16;

    /// <summary>
    /// False for a record OpenSSL must not see: shorter than a header, or encrypted (epoch
    /// above 0) yet too short to hold a nonce and tag, so it cannot be genuine.
    /// </summary>
    internal static bool IsAcceptable(ReadOnlySpan<byte> record)
    {
        if (record.Length < RecordHeaderLength)
        {
            return false;
        }

        ushort epoch = BinaryPrimitives.ReadUInt16BigEndian(record.Slice(3, 2));
        return epoch == 0 || record.Length - RecordHeaderLength >= MinEncryptedBodyLength;
    }

    /// <summary>
    /// The record starting at <paramref name="offset"/>, advancing past it. A truncated or
    /// over-long record is returned as the whole remainder, for OpenSSL to reject.
    /// </summary>
    internal static ReadOnlySpan<byte> NextRecord(ReadOnlySpan<byte> records, ref int offset)
    {
        ReadOnlySpan<byte> rest = records[offset..];
        int length = rest.Length >= RecordHeaderLength
            ? Math.Min(rest.Length, RecordHeaderLength + BinaryPrimitives.ReadUInt16BigEndian(rest.Slice(11, 2)))
            : rest.Length;
        offset += length;
        return rest[..length];
    }

    /// <summary>
    /// Calls <paramref name="send"/> once per datagram. A record that alone exceeds the limit is
    /// sent on its own (a record cannot be split); a malformed tail is sent as is.
    /// </summary>
    internal static int Split<TState>(ReadOnlySpan<byte> records, int maxDatagramSize, TState state, SendDatagram<TState> send)
    {
        int datagrams = 0;
        int start = 0;
        int at = 0;
        while (at < records.Length)
        {
            int recordStart = at;
            NextRecord(records, ref at);
            if (recordStart > start && at - start > maxDatagramSize)
            {
                send(state, records[start..recordStart]);
                datagrams++;
                start = recordStart;
            }
        }

        if (at > start)
        {
            send(state, records[start..at]);
            datagrams++;
        }

        return datagrams;
    }

    internal delegate void SendDatagram<TState>(TState state, ReadOnlySpan<byte> datagram);
}
