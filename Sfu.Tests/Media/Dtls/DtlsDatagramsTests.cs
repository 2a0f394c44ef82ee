using Sfu.Media.Dtls;

namespace Sfu.Tests.Media.Dtls;

[TestFixture]
public sealed class DtlsDatagramsTests
{
    private static byte[] Record(int bodyLength, byte fill)
    {
        byte[] record = new byte[DtlsDatagrams.RecordHeaderLength + bodyLength];
        record.AsSpan().Fill(fill);
        record[11] = (byte)(bodyLength >> 8);
        record[12] = (byte)bodyLength;
        return record;
    }

    private static List<byte[]> Split(byte[] records, int limit)
    {
        var datagrams = new List<byte[]>();
        DtlsDatagrams.Split(records, limit, datagrams, static (list, d) => list.Add(d.ToArray()));
        return datagrams;
    }

    [Test]
    public void Split_PacksWholeRecordsUpToTheLimit()
    {
        byte[] a = Record(500, 1), b = Record(500, 2), c = Record(500, 3);
        byte[] flight = [.. a, .. b, .. c];

        List<byte[]> datagrams = Split(flight, 1200);

        Assert.That(datagrams, Has.Count.EqualTo(2));
        Assert.That(datagrams[0], Is.EqualTo(a.Concat(b).ToArray()));
        Assert.That(datagrams[1], Is.EqualTo(c));
    }

    [Test]
    public void Split_FlightThatFits_IsOneDatagram()
    {
        byte[] flight = [.. Record(100, 1), .. Record(200, 2)];

        Assert.That(Split(flight, 1200), Has.Count.EqualTo(1));
    }

    [Test]
    public void Split_OversizedRecord_IsSentAloneUnsplit()
    {
        byte[] small = Record(10, 1), big = Record(1500, 2);

        List<byte[]> datagrams = Split([.. small, .. big, .. small], 1200);

        Assert.That(datagrams.Select(d => d.Length), Is.EqualTo(new[] { small.Length, big.Length, small.Length }));
    }

    [Test]
    public void Split_TruncatedTail_IsStillSent()
    {
        byte[] whole = Record(10, 1);
        byte[] flight = [.. whole, 0x16, 0xFE];

        List<byte[]> datagrams = Split(flight, 1200);

        Assert.That(datagrams.SelectMany(d => d), Is.EqualTo(flight));
    }
}
