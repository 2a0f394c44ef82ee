using System.Text;
using Sfu.Media.DataChannels;
using Sfu.Media.Sctp;

namespace Sfu.Client.DataChannels;

/// <summary>
/// One data channel of a client transport: on a publisher, a data track it publishes; on a subscriber, a channel the
/// server opened for a data track, whose <see cref="TrackId"/> is the channel's protocol (PROTOCOL.md, "Data tracks").
/// </summary>
public sealed class ClientDataChannel
{
    private readonly ClientDataChannels _owner;

    internal ClientDataChannel(ClientDataChannels owner, DataChannel channel)
    {
        _owner = owner;
        Channel = channel;
    }

    public string Label => Channel.Label;

    /// <summary>The data track this channel carries, on a subscriber; empty on a publisher (it is not told its ids).</summary>
    public string TrackId => Channel.Parameters.Protocol;

    public bool Ordered => Channel.Parameters.Ordered;

    public int? MaxRetransmits => Channel.Parameters.MaxRetransmits;

    public int? MaxPacketLifeTimeMs => Channel.Parameters.MaxLifetimeMs;

    public bool IsOpen => Channel.IsOpen;

    internal DataChannel Channel { get; }

    /// <summary>
    /// Queues a text message. <see cref="SctpSendStatus.BufferFull"/> when the association's send buffer (1 MiB) is full:
    /// nothing was queued, try again once <see cref="ClientDataChannels.BufferedAmount"/> fell, or use <see cref="SendAsync(string, CancellationToken)"/>.
    /// </summary>
    public SctpSendStatus Send(string text) => _owner.Send(this, isString: true, Encoding.UTF8.GetBytes(text));

    /// <summary>Queues a binary message; the bytes are referenced until acknowledged, so the caller must not change them.</summary>
    public SctpSendStatus Send(ReadOnlyMemory<byte> data) => _owner.Send(this, isString: false, data);

    /// <summary>Sends a text message, waiting while the send buffer is full; throws when the channel cannot take it.</summary>
    public Task SendAsync(string text, CancellationToken cancellation = default) =>
        SendAsync(isString: true, Encoding.UTF8.GetBytes(text), cancellation);

    /// <summary>Sends a binary message, waiting while the send buffer is full.</summary>
    public Task SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellation = default) => SendAsync(isString: false, data, cancellation);

    /// <summary>Closes the channel (resets its stream); on a publisher the server unpublishes the track.</summary>
    public void Close() => _owner.Close(this);

    public override string ToString() => $"{Label} ({(Ordered ? "ordered" : "unordered")}{(TrackId.Length > 0 ? ", track " + TrackId : "")})";

    private async Task SendAsync(bool isString, ReadOnlyMemory<byte> payload, CancellationToken cancellation)
    {
        while (true)
        {
            switch (_owner.Send(this, isString, payload))
            {
                case SctpSendStatus.Queued:
                    return;
                case SctpSendStatus.BufferFull:
                    // The buffer drains as SACKs arrive; a few milliseconds is a round trip or two on most paths.
                    await Task.Delay(2, cancellation);
                    break;
                case var status:
                    throw new InvalidOperationException($"data channel {Label} refused the message: {status}");
            }
        }
    }
}

/// <summary>One received data channel message: text (UTF-8) or binary.</summary>
public sealed record DataMessage(bool IsText, byte[] Data)
{
    public string Text => Encoding.UTF8.GetString(Data);
}
