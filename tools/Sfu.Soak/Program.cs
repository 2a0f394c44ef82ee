// Soak: cycles of churn against a running server (starts nothing itself) for a given time, sampling its memory and
// counts; prints after each cycle whether every count is back at its baseline and the memory trend is flat, and
// writes every sample to a CSV and a PNG plot.
//
// Usage: dotnet tools/Sfu.Soak/bin/Release/net10.0/Sfu.Soak.dll [--url http://127.0.0.1:8080] [--minutes 60]
//          [--active-seconds 45] [--settle-seconds 30] [--sample-seconds 10] [--rooms 3] [--peers 6] [--no-media]
//          [--max-rss-slope 20] [--csv soak.csv] [--png soak.png] [--seed 1]
// Each cycle joins (rooms x (peers + 2)) peers at once from one address: run the server with a join rate per IP
// that allows it (--Sfu:Signaling:JoinsPerSecondPerIp=1000 --Sfu:Signaling:JoinBurstPerIp=1000).
// Exit code 0 when every cycle ended flat and no action failed.
using Sfu.Soak;

var options = SoakOptions.Parse(args);
Console.WriteLine($"soak of {options.Url} for {options.Duration.TotalMinutes} min: {options.Rooms} rooms x ({options.SignalingPeersPerRoom} signaling peers{(options.Media ? " + media publisher and subscriber" : "")}), cycles of {options.ActivePerCycle.TotalSeconds} s; {options.CsvPath}, {options.PngPath}");
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
var report = await new SoakRun(options, Console.Out).RunAsync(stop.Token);
return report.Passed ? 0 : 1;
