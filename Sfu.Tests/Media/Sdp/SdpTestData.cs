using System.Net;
using Sfu.Media.Dtls;
using Sfu.Media.Sdp;

namespace Sfu.Tests.Media.Sdp;

internal static class SdpTestData
{
    public static readonly LocalTransportParameters Server = new(
        "srvU1234",
        "serverpassword0123456789",
        DtlsFingerprint.Parse("sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99"),
        IPAddress.Parse("203.0.113.10"),
        50000);

    public static PublishAnswer Publish(string fixture, MediaCapabilities? capabilities = null) =>
        new PublishAnswerBuilder(capabilities ?? MediaCapabilities.Default).Build(SdpFixtures.Parse(fixture), Server);

    /// <summary>An offer text with the video m-line's payload types reduced to the given list (others' lines then become raw and unused).</summary>
    public static SessionDescription WithVideoFormats(string fixture, params int[] payloadTypes)
    {
        var offer = SdpFixtures.Parse(fixture);
        var video = offer.Media.Single(m => m.Kind == "video");
        video.Codecs.RemoveAll(c => !payloadTypes.Contains(c.PayloadType));
        video.Codecs.Sort((a, b) => Array.IndexOf(payloadTypes, a.PayloadType).CompareTo(Array.IndexOf(payloadTypes, b.PayloadType)));
        video.SetFormatsFromCodecs();
        return offer;
    }
}
