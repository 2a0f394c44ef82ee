using Sfu.Fuzz.Targets;

namespace Sfu.Fuzz;

/// <summary>
/// The target list: the names fuzz/run.sh, fuzz/corpus/&lt;name&gt;/ and the smoke test share.
/// </summary>
public static class FuzzTargets
{
    private static readonly Dictionary<string, Func<FuzzTarget>> Factories = new(StringComparer.Ordinal)
    {
        ["stun"] = () => new StunTarget(),
        ["rtp"] = () => new RtpTarget(),
        ["rtcp"] = () => new RtcpTarget(),
        ["sdp"] = () => new SdpTarget(),
        ["dtls"] = () => new DtlsTarget(),
        ["srtp"] = () => new SrtpTarget(),
        ["signaling"] = () => new SignalingTarget(),
        ["twcc"] = () => new TwccTarget(),
        ["ice-tcp"] = () => new IceTcpTarget(),
        ["sctp"] = () => new SctpTarget(),
        ["turn"] = () => new TurnTarget(),
    };

    public static IReadOnlyCollection<string> Names => Factories.Keys;

    public static FuzzTarget? Create(string name) => Factories.TryGetValue(name, out var create) ? create() : null;
}
