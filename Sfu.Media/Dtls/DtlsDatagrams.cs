using System.Buffers.Binary;

namespace Sfu.Media.Dtls;

/// <summary>
/// Packs DTLS records into datagrams. OpenSSL writing to a memory BIO hands over a whole flight
/// as one run of records; sent as one UDP payload it could exceed the path MTU, so the run is
/// cut at record boundaries and records are packed greedily up to a size limit.
/// </summary>
internal static class DtlsDatagrams
{
    /// <summary>type(1) version(2) epoch(2) sequence(6) length(2).</summary>
    internal const int RecordHeaderLength = 13;

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
            int recordLength = records.Length - at >= RecordHeaderLength
                ? RecordHeaderLength + BinaryPrimitives.ReadUInt16BigEndian(records.Slice(at + 11, 2))
                : records.Length - at;
            recordLength = Math.Min(recordLength, records.Length - at);

            if (at > start && at + recordLength - start > maxDatagramSize)
            {
                send(state, records[start..at]);
                datagrams++;
                start = at;
            }

            at += recordLength;
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
