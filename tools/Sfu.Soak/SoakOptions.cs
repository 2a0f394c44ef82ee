using System.Globalization;

namespace Sfu.Soak;

/// <summary>What to run against and for how long; every field has a command-line flag (see Program.cs).</summary>
internal sealed record SoakOptions
{
    public Uri Url { get; init; } = new("http://127.0.0.1:8080");

    public TimeSpan Duration { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How long peers churn in each cycle before they all leave.</summary>
    public TimeSpan ActivePerCycle { get; init; } = TimeSpan.FromSeconds(45);

    /// <summary>How long to wait after everyone left for the counts to return (empty rooms close after 10 s by default).</summary>
    public TimeSpan SettleLimit { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan SampleInterval { get; init; } = TimeSpan.FromSeconds(10);

    public int Rooms { get; init; } = 3;

    /// <summary>Signaling-only peers per room (besides the media publisher and subscriber).</summary>
    public int SignalingPeersPerRoom { get; init; } = 6;

    /// <summary>A media publisher and subscriber (Sfu.Client) in each room.</summary>
    public bool Media { get; init; } = true;

    /// <summary>Above this RSS growth per hour (least squares over the end-of-cycle samples) memory is not flat.</summary>
    public double MaxRssSlopeMbPerHour { get; init; } = 20;

    public string CsvPath { get; init; } = "soak.csv";

    public string PngPath { get; init; } = "soak.png";

    public int Seed { get; init; } = 1;

    public Uri WebSocketUri => new UriBuilder(Url) { Scheme = Url.Scheme == "https" ? "wss" : "ws", Path = "/ws" }.Uri;

    public static SoakOptions Parse(string[] args)
    {
        string? Value(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        double Number(string name, double fallback) => Value(name) is { } v ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;
        var defaults = new SoakOptions();
        return new SoakOptions
        {
            Url = Value("--url") is { } url ? new Uri(url) : defaults.Url,
            Duration = TimeSpan.FromMinutes(Number("--minutes", defaults.Duration.TotalMinutes)),
            ActivePerCycle = TimeSpan.FromSeconds(Number("--active-seconds", defaults.ActivePerCycle.TotalSeconds)),
            SettleLimit = TimeSpan.FromSeconds(Number("--settle-seconds", defaults.SettleLimit.TotalSeconds)),
            SampleInterval = TimeSpan.FromSeconds(Number("--sample-seconds", defaults.SampleInterval.TotalSeconds)),
            Rooms = (int)Number("--rooms", defaults.Rooms),
            SignalingPeersPerRoom = (int)Number("--peers", defaults.SignalingPeersPerRoom),
            Media = !args.Contains("--no-media"),
            MaxRssSlopeMbPerHour = Number("--max-rss-slope", defaults.MaxRssSlopeMbPerHour),
            CsvPath = Value("--csv") ?? defaults.CsvPath,
            PngPath = Value("--png") ?? defaults.PngPath,
            Seed = (int)Number("--seed", defaults.Seed),
        };
    }
}
