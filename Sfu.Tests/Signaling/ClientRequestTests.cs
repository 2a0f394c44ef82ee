using System.Text;
using Sfu.Signaling.Protocol;

namespace Sfu.Tests.Signaling;

public class ClientRequestTests
{
    // Found by the signaling fuzz target: a byte that is not UTF-8 inside a string value passed JsonDocument.Parse and
    // threw InvalidOperationException from whichever accessor read it (the type in Parse, a field in a handler).
    [TestCase("type")]
    [TestCase("room")]
    public void InvalidUtf8InAStringValue_IsBadRequest(string field)
    {
        var message = Encoding.UTF8.GetBytes("{\"id\":1,\"type\":\"join\",\"room\":\"r1\"}").ToList();
        int value = Encoding.UTF8.GetString(message.ToArray()).IndexOf($"\"{field}\":\"", StringComparison.Ordinal) + field.Length + 4;
        message.Insert(value, 0xA0);

        var refused = Assert.Throws<ProtocolException>(() =>
        {
            using var request = ClientRequest.Parse(message.ToArray(), out _);
            request.RequireString(field);
        });
        Assert.That(refused!.Code, Is.EqualTo(ErrorCode.BadRequest));
    }
}
