using System.Globalization;
using Sfu.Media.Sctp;

namespace Sfu.Media.Sdp;

/// <summary>
/// A data channel section (RFC 8841): <c>m=application &lt;port&gt; UDP/DTLS/SCTP webrtc-datachannel</c> with the SCTP
/// port inside the DTLS association (a=sctp-port) and the largest message the writer accepts (a=max-message-size).
/// </summary>
public sealed record SctpDescription(ushort Port, int MaxMessageSize)
{
    public const string Proto = "UDP/DTLS/SCTP";
    public const string TcpProto = "TCP/DTLS/SCTP";
    public const string Format = "webrtc-datachannel";
    public const ushort DefaultPort = 5000;

    /// <summary>RFC 8841 section 6: a section without a=max-message-size means 64 KiB; 0 means "no limit".</summary>
    public const int DefaultMaxMessageSize = 64 * 1024;

    /// <summary>What the server's associations accept, written into its own sections.</summary>
    public static readonly int ServerMaxMessageSize = new SctpAssociationOptions().MaxMessageSize;

    /// <summary>Whether a section is a WebRTC data channel section (UDP or ICE-TCP flavour); the pre-RFC "DTLS/SCTP 5000" form is not.</summary>
    public static bool IsDataChannel(MediaDescription media) =>
        media.Kind == MediaDescription.ApplicationKind && media.Proto is Proto or TcpProto && media.Formats.Contains(Format);

    /// <summary>The section's SCTP parameters; null when a value is present but not a number in range.</summary>
    public static SctpDescription? From(MediaDescription media)
    {
        var port = DefaultPort;
        var maxMessageSize = DefaultMaxMessageSize;
        foreach (var attribute in media.OtherAttributes)
        {
            switch (attribute.Name)
            {
                case "sctp-port" when ushort.TryParse(attribute.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p != 0:
                    port = p;
                    break;
                case "sctp-port":
                    return null;
                case "max-message-size" when int.TryParse(attribute.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var size):
                    maxMessageSize = size == 0 ? int.MaxValue : size;
                    break;
                case "max-message-size":
                    return null;
            }
        }

        return new SctpDescription(port, maxMessageSize);
    }

    /// <summary>What both ends may use: the peer's port, and the smaller of the two message size limits.</summary>
    public SctpDescription NegotiatedWithServer() => this with { MaxMessageSize = Math.Min(MaxMessageSize, ServerMaxMessageSize) };

    /// <summary>The server's own data channel section, on the bundled transport described by <paramref name="local"/>.</summary>
    internal static MediaDescription Section(string mid, string proto, DtlsSetup setup, LocalTransportParameters local)
    {
        var media = new MediaDescription(MediaDescription.ApplicationKind, local.Port, proto)
        {
            Connection = local.ConnectionLine,
            Mid = mid,
            IceUfrag = local.IceUfrag,
            IcePwd = local.IcePwd,
            Fingerprint = local.Fingerprint,
            Setup = setup,
            EndOfCandidates = true,
        };
        media.Formats.Add(Format);
        media.Candidates.AddRange(local.HostCandidates);
        media.OtherAttributes.Add(new SdpAttribute("sctp-port", DefaultPort.ToString(CultureInfo.InvariantCulture)));
        media.OtherAttributes.Add(new SdpAttribute("max-message-size", ServerMaxMessageSize.ToString(CultureInfo.InvariantCulture)));
        return media;
    }
}
