using System.Net;
using System.Text;
using Sfu.Media.Dtls;
using Sfu.Media.Sdp;

namespace Sfu.Fuzz.Targets;

/// <summary>
/// The SDP a client sends, through every step the server takes with it: parsed; read as the answer to a subscribe
/// offer (one built for the tracks it publishes, so that m-lines can match); answered as a publish offer; the answer's
/// tracks offered to a subscriber, then offered again without the first (a renegotiation). What the server writes must
/// parse again. Refusals are <see cref="SdpParseException"/>, <see cref="SdpNegotiationException"/> and the
/// <see cref="FormatException"/> of a bad fingerprint: the three the signaling layer answers with <c>bad_request</c>.
/// </summary>
public sealed class SdpTarget : FuzzTarget
{
    private static readonly LocalTransportParameters Local = new(
        "fuzzUfrag",
        "fuzzpassword0123456789ab",
        DtlsFingerprint.Parse("sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99"),
        IPAddress.Parse("203.0.113.10"),
        50000);

    private readonly PublishAnswerBuilder _publishAnswers = new();
    private readonly SubscribeOfferBuilder _subscribeOffers = new();

    public override void Execute(ReadOnlySpan<byte> input)
    {
        string text = Encoding.UTF8.GetString(input);
        SessionDescription offer;
        try
        {
            offer = SdpParser.Parse(text);
        }
        catch (SdpParseException)
        {
            return;
        }

        PublishAnswer answer;
        try
        {
            answer = _publishAnswers.Build(offer, Local);
        }
        catch (Exception ex) when (IsRefusal(ex))
        {
            return;
        }

        SdpParser.Parse(answer.Sdp);
        var tracks = answer.Tracks
            .Select((t, i) => new SubscribedTrack($"t{i}", t.Kind, t.Codec, 1000u + (uint)(2 * i), t.Codec.RtxPayloadType is null ? null : 1001u + (uint)(2 * i), "fuzz", "stream", $"t{i}"))
            .ToList();
        SubscribeOffer subscribe;
        try
        {
            subscribe = _subscribeOffers.Build(tracks, Local);
            SdpParser.Parse(subscribe.Sdp);
            SdpParser.Parse(_subscribeOffers.Build(tracks.Skip(1).ToList(), Local, subscribe.State).Sdp);
        }
        catch (SdpNegotiationException)
        {
            return; // e.g. more tracks than free payload types
        }

        try
        {
            SubscribeAnswerReader.Read(subscribe.Offer, SdpParser.Parse(text));
        }
        catch (Exception ex) when (IsRefusal(ex))
        {
        }
    }

    private static bool IsRefusal(Exception ex) => ex is SdpParseException or SdpNegotiationException or FormatException;
}
