namespace Sfu.Tests.Media.Stun;

/// <summary>The test vectors of RFC 5769 section 2, byte for byte.</summary>
internal static class Rfc5769Vectors
{
    public const string ShortTermPassword = "VOkJxbRl1RmTxUk/WvJxBt";

    public static readonly byte[] TransactionId = Convert.FromHexString("b7e7a701bc34d686fa87dfae");

    // 2.1: SOFTWARE "STUN test client", PRIORITY, ICE-CONTROLLED, USERNAME "evtj:h6vY" (padded with spaces).
    public static readonly byte[] SampleRequest = Convert.FromHexString(
        "00010058" + "2112a442" + "b7e7a701bc34d686fa87dfae" +
        "80220010" + "5354554e20746573742063" + "6c69656e74" +
        "00240004" + "6e0001ff" +
        "80290008" + "932ff9b151263b36" +
        "00060009" + "6576746a3a68367659202020" +
        "00080014" + "9aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a2" +
        "80280004" + "e57a3bcf");

    // 2.2: SOFTWARE "test vector", XOR-MAPPED-ADDRESS 192.0.2.1:32853.
    public static readonly byte[] SampleIpv4Response = Convert.FromHexString(
        "0101003c" + "2112a442" + "b7e7a701bc34d686fa87dfae" +
        "8022000b" + "7465737420766563746f7220" +
        "00200008" + "0001a147e112a643" +
        "00080014" + "2b91f599fd9e90c38c7489f92af9ba53f06be7d7" +
        "80280004" + "c07d4c96");

    // 2.3: XOR-MAPPED-ADDRESS [2001:db8:1234:5678:11:2233:4455:6677]:32853.
    public static readonly byte[] SampleIpv6Response = Convert.FromHexString(
        "01010048" + "2112a442" + "b7e7a701bc34d686fa87dfae" +
        "8022000b" + "7465737420766563746f7220" +
        "00200014" + "0002a1470113a9faa5d3f179bc25f4b5bed2b9d9" +
        "00080014" + "a382954e4be67bf11784c97c8292c275bfe3ed41" +
        "80280004" + "c8fb0b4c");

    // 2.4: long-term credentials; USERNAME is the katakana for "matrix", REALM "example.org", password "TheMatrIX".
    public static readonly byte[] SampleLongTermRequest = Convert.FromHexString(
        "00010060" + "2112a442" + "78ad3433c6ad72c029da412e" +
        "00060012" + "e3839ee38388e383aae38383e382afe382b90000" +
        "0015001c" + "662f2f3439396b39353464364f4c33346f4c39465354767936347341" +
        "0014000b" + "6578616d706c652e6f726700" +
        "00080014" + "f67024656dd64a3e02b8e0712e85c9a28ca89666");
}
