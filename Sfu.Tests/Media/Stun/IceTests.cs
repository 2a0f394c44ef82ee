using System.Text;
using Sfu.Media.Stun;

namespace Sfu.Tests.Media.Stun;

public class IceTests
{
    [Test]
    public void TrySplit_ServerAndClientUfrag_SplitsAtFirstColon()
    {
        Assert.That(IceUsername.TrySplit("srv1:cli:2"u8, out ReadOnlySpan<byte> local, out ReadOnlySpan<byte> remote), Is.True);
        Assert.That(Encoding.ASCII.GetString(local), Is.EqualTo("srv1"));
        Assert.That(Encoding.ASCII.GetString(remote), Is.EqualTo("cli:2"));
    }

    [TestCase("")]
    [TestCase("nocolon")]
    [TestCase(":client")]
    [TestCase("server:")]
    public void TrySplit_MissingHalf_ReturnsFalse(string username)
    {
        Assert.That(IceUsername.TrySplit(Encoding.ASCII.GetBytes(username), out _, out _), Is.False);
    }

    [Test]
    public void Write_ThenSplit_RoundTrips()
    {
        Span<byte> buffer = stackalloc byte[32];
        int length = IceUsername.Write(buffer, "abcd"u8, "wxyz"u8);

        Assert.That(Encoding.ASCII.GetString(buffer[..length]), Is.EqualTo("abcd:wxyz"));
        Assert.That(IceUsername.Write(buffer[..8], "abcd"u8, "wxyz"u8), Is.EqualTo(0));
    }

    [Test]
    public void Generate_ProducesValidDistinctCredentials()
    {
        var seen = new HashSet<string>();
        for (int i = 0; i < 200; i++)
        {
            IceCredentials c = IceCredentials.Generate();
            Assert.That(IceCredentials.IsValid(c.Ufrag, IceCredentials.MinUfragLength), Is.True, c.Ufrag);
            Assert.That(IceCredentials.IsValid(c.Password, IceCredentials.MinPasswordLength), Is.True, c.Password);
            Assert.That(c.Password.Length, Is.GreaterThanOrEqualTo(22));
            Assert.That(c.PasswordBytes.SequenceEqual(Encoding.ASCII.GetBytes(c.Password)), Is.True);
            Assert.That(c.UfragBytes.SequenceEqual(Encoding.ASCII.GetBytes(c.Ufrag)), Is.True);
            Assert.That(seen.Add(c.Ufrag + c.Password), Is.True);
        }
    }

    [TestCase("abc", "VOkJxbRl1RmTxUk/WvJxBt")]
    [TestCase("abcd", "tooShortPassword")]
    [TestCase("ab:d", "VOkJxbRl1RmTxUk/WvJxBt")]
    [TestCase("abcd", "VOkJxbRl1RmTxUk-WvJxBt")]
    public void Constructor_InvalidUfragOrPassword_Throws(string ufrag, string password)
    {
        Assert.That(() => new IceCredentials(ufrag, password), Throws.ArgumentException);
    }

    [Test]
    public void Constructor_Rfc5769Password_IsAccepted()
    {
        var c = new IceCredentials("evtj", "VOkJxbRl1RmTxUk/WvJxBt");
        Assert.That(c.Password, Is.EqualTo("VOkJxbRl1RmTxUk/WvJxBt"));
    }
}
