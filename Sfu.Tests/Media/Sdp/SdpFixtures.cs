namespace Sfu.Tests.Media.Sdp;

/// <summary>
/// Loads the .sdp fixtures from the source tree (walking up from the test output folder to the
/// folder holding Sfu.sln), so they need no copy-to-output entry in the project file.
/// </summary>
internal static class SdpFixtures
{
    public const string ChromeSendOnly = "chrome-sendonly.sdp";
    public const string ChromeSimulcast = "chrome-simulcast.sdp";
    public const string ChromeRecvOnly = "chrome-recvonly.sdp";
    public const string FirefoxSendOnly = "firefox-sendonly.sdp";
    public const string FirefoxSimulcast = "firefox-simulcast.sdp";
    public const string SafariSendOnly = "safari-sendonly.sdp";
    public const string ChromeSubscribeAnswer = "chrome-subscribe-answer.sdp";

    public static readonly string[] All = [ChromeSendOnly, ChromeSimulcast, ChromeRecvOnly, FirefoxSendOnly, FirefoxSimulcast, SafariSendOnly, ChromeSubscribeAnswer];

    public static readonly string[] PublishOffers = [ChromeSendOnly, ChromeSimulcast, FirefoxSendOnly, FirefoxSimulcast, SafariSendOnly];

    private static readonly Lazy<string> Folder = new(() => Infrastructure.RepositoryFiles.PathOf("Sfu.Tests", "Media", "Sdp", "Fixtures"));

    /// <summary>The fixture's text with '#' comment lines (provenance notes) removed; CRLF kept.</summary>
    public static string Load(string name)
    {
        var text = File.ReadAllText(Path.Combine(Folder.Value, name));
        var lines = text.Split("\r\n").Where(l => !l.StartsWith('#'));
        return string.Join("\r\n", lines);
    }

    public static Sfu.Media.Sdp.SessionDescription Parse(string name) => Sfu.Media.Sdp.SdpParser.Parse(Load(name));
}
