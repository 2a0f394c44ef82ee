using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Playwright;

namespace Sfu.Tests.EndToEnd;

/// <summary>
/// Sits between a page and the server on every signaling WebSocket the page opens (Playwright's WebSocket
/// routing): records what the page sends, and can lose a page's or the server's message, repeat the server's, or
/// cut the socket.
/// </summary>
public sealed class SignalingTap
{
    private readonly ConcurrentQueue<(int Socket, JsonElement Message)> _sent = new();
    private IWebSocketRoute? _current;
    private int _sockets;

    private SignalingTap()
    {
    }

    /// <summary>Page messages for which this returns true never reach the server.</summary>
    public Func<JsonElement, bool> LoseFromPage { get; set; } = _ => false;

    /// <summary>Server messages for which this returns true never reach the page.</summary>
    public Func<JsonElement, bool> LoseFromServer { get; set; } = _ => false;

    /// <summary>Delivers every server message to the page twice.</summary>
    public bool RepeatFromServer { get; set; }

    /// <summary>Everything the page sent (lost or not), with the number of the socket it went on (1, 2, ...).</summary>
    public IReadOnlyList<(int Socket, JsonElement Message)> Sent => [.. _sent];

    /// <summary>Installs the tap; call before the page opens its socket (before navigating).</summary>
    public static async Task<SignalingTap> InstallAsync(IPage page)
    {
        var tap = new SignalingTap();
        await page.RouteWebSocketAsync("**/ws", tap.Route);
        return tap;
    }

    /// <summary>Breaks the page's current socket the way a network does: not a normal close, so the session stays.</summary>
    public Task CutAsync() =>
        (_current ?? throw new InvalidOperationException("no socket yet")).CloseAsync(new WebSocketRouteCloseOptions { Code = 3001, Reason = "cut by test" });

    private void Route(IWebSocketRoute page)
    {
        var socket = Interlocked.Increment(ref _sockets);
        _current = page;
        var server = page.ConnectToServer();
        page.OnMessage(frame =>
        {
            var text = frame.Text ?? throw new InvalidOperationException("the protocol has text frames only");
            var message = JsonDocument.Parse(text).RootElement.Clone();
            _sent.Enqueue((socket, message));
            if (!LoseFromPage(message)) server.Send(text);
        });
        server.OnMessage(frame =>
        {
            var text = frame.Text ?? throw new InvalidOperationException("the protocol has text frames only");
            if (LoseFromServer(JsonDocument.Parse(text).RootElement)) return;
            page.Send(text);
            if (RepeatFromServer) page.Send(text);
        });
    }
}
