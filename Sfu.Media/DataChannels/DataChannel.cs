namespace Sfu.Media.DataChannels;

/// <summary>One data channel: an SCTP stream pair with the parameters its DATA_CHANNEL_OPEN carried.</summary>
public sealed class DataChannel(ushort stream, DataChannelParameters parameters, bool openedLocally)
{
    public ushort Stream { get; } = stream;

    public DataChannelParameters Parameters { get; } = parameters;

    public string Label => Parameters.Label;

    public bool OpenedLocally { get; } = openedLocally;

    /// <summary>True until the peer reset the stream or this end closed it.</summary>
    public bool IsOpen { get; internal set; } = true;

    /// <summary>A locally opened channel sends ordered until the peer's DATA_CHANNEL_ACK (RFC 8832 section 6).</summary>
    internal bool Acknowledged { get; set; } = !openedLocally;
}
