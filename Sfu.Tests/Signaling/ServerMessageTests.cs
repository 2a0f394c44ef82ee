using System.Text.Json;
using System.Text.Json.Nodes;
using Sfu.Signaling.Protocol;

namespace Sfu.Tests.Signaling;

/// <summary>The envelope writer reuses one buffer per thread; each message must still come out whole and alone.</summary>
public sealed class ServerMessageTests
{
    [Test]
    public void Response_Error_And_Event_AreTheEnvelopesOfProtocolMd()
    {
        var response = Parse(ServerMessage.Response(RequestId.FromNumber(7), 12, new JsonObject { ["sdp"] = "v=0" }));
        var error = Parse(ServerMessage.Error(RequestId.None, seq: null, ErrorCode.RoomFull, "full"));
        var joined = Parse(ServerMessage.Event(13, "peer-joined", new JsonObject { ["peer"] = new JsonObject { ["peerId"] = "p-1" } }));
        Assert.Multiple(() =>
        {
            Assert.That(response.GetRawText(), Is.EqualTo("{\"type\":\"response\",\"id\":7,\"seq\":12,\"ok\":true,\"sdp\":\"v=0\"}"));
            Assert.That(error.GetRawText(), Is.EqualTo("{\"type\":\"response\",\"id\":null,\"ok\":false,\"error\":{\"code\":\"room_full\",\"message\":\"full\"}}"));
            Assert.That(joined.GetRawText(), Is.EqualTo("{\"type\":\"event\",\"seq\":13,\"event\":\"peer-joined\",\"peer\":{\"peerId\":\"p-1\"}}"));
        });
    }

    [Test]
    public void AMessageAfterALargeOne_CarriesNothingOfIt()
    {
        var large = ServerMessage.Event(1, "subscribe-offer", new JsonObject { ["sdp"] = new string('a', 40_000), ["version"] = 3 });
        var small = ServerMessage.Response(RequestId.FromText("p"), 2, result: null);
        Assert.Multiple(() =>
        {
            Assert.That(Parse(large).GetProperty("sdp").GetString(), Has.Length.EqualTo(40_000));
            Assert.That(Parse(small).GetRawText(), Is.EqualTo("{\"type\":\"response\",\"id\":\"p\",\"seq\":2,\"ok\":true}"));
        });
    }

    [Test]
    public void AFailedWrite_LeavesTheNextMessageIntact()
    {
        // A JsonObject cannot hold a cycle, but a value whose serialization throws stops the writer mid-message.
        var broken = new JsonObject { ["bad"] = JsonValue.Create(double.NaN) };
        Assert.That(() => ServerMessage.Event(1, "x", broken), Throws.InstanceOf<ArgumentException>());
        Assert.That(Parse(ServerMessage.Response(RequestId.FromNumber(1), 2, null)).GetRawText(),
            Is.EqualTo("{\"type\":\"response\",\"id\":1,\"seq\":2,\"ok\":true}"));
    }

    private static JsonElement Parse(byte[] message) => JsonDocument.Parse(message).RootElement.Clone();
}
