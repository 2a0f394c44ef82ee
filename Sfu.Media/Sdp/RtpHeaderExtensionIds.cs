namespace Sfu.Media.Sdp;

/// <summary>
/// The negotiated ids of the header extensions the media path reads or writes, for one m-line.
/// Null means not negotiated. Ids are per direction of a transport: on a publish transport they
/// are the publisher's, on a subscribe transport the ones the subscriber accepted.
/// </summary>
public sealed record RtpHeaderExtensionIds(
    int? Mid = null,
    int? AbsSendTime = null,
    int? TransportWideCc = null,
    int? AudioLevel = null,
    int? RtpStreamId = null,
    int? RepairedRtpStreamId = null)
{
    public static RtpHeaderExtensionIds From(IEnumerable<RtpHeaderExtension> extensions)
    {
        var list = extensions.ToList();
        int? Find(string uri) => list.Find(e => e.Uri == uri)?.Id;
        return new RtpHeaderExtensionIds(
            Find(RtpExtensionUris.Mid),
            Find(RtpExtensionUris.AbsSendTime),
            Find(RtpExtensionUris.TransportWideCc),
            Find(RtpExtensionUris.AudioLevel),
            Find(RtpExtensionUris.RtpStreamId),
            Find(RtpExtensionUris.RepairedRtpStreamId));
    }
}
