using System.Globalization;

namespace Sfu.Soak.Plot;

/// <summary>
/// The soak as a picture: server memory (RSS, GC heap) above, the counts (transports, sessions, sockets, rooms,
/// peers) below, against minutes, with a tick under the axis at the end of each cycle.
/// </summary>
internal static class SoakPlot
{
    private const int Width = 1000;
    private const int PanelHeight = 280;
    private const int Left = 80;
    private const int Right = 20;
    private static readonly Rgb Axis = new(60, 60, 60);
    private static readonly Rgb Grid = new(225, 225, 225);

    private static readonly (string Name, Rgb Colour, Func<ServerSample, double> Value)[] Memory =
    [
        ("RSS MB", new(31, 119, 180), s => s.RssBytes / ServerSample.Megabyte),
        ("GC HEAP MB", new(255, 127, 14), s => s.GcHeapBytes / ServerSample.Megabyte),
    ];

    private static readonly (string Name, Rgb Colour, Func<ServerSample, double> Value)[] Counts =
    [
        ("TRANSPORTS", new(214, 39, 40), s => s.Transports),
        ("SESSIONS", new(44, 160, 44), s => s.Sessions),
        ("SOCKETS", new(148, 103, 189), s => s.Sockets),
        ("ROOMS", new(140, 86, 75), s => s.Rooms),
        ("PEERS", new(127, 127, 127), s => s.Peers),
    ];

    public static void Write(string path, IReadOnlyList<(int Cycle, ServerSample Sample)> samples, IReadOnlyList<CycleResult> cycles)
    {
        var canvas = new Canvas(Width, 2 * PanelHeight + 110);
        var points = samples.Select(s => s.Sample).OrderBy(s => s.Seconds).ToList();
        var minutes = Math.Max(points[^1].Seconds / 60, 1e-3);
        canvas.Text(Left, 10, string.Create(CultureInfo.InvariantCulture,
            $"SFU SOAK: {cycles.Count} CYCLES IN {minutes:F1} MIN, SAMPLED EVERY 10 S AND AT EACH CYCLE END"), Axis, 2);
        DrawPanel(canvas, 40, points, Memory, minutes, cycles);
        DrawPanel(canvas, 40 + PanelHeight + 35, points, Counts, minutes, cycles);
        canvas.WritePng(path);
    }

    private static void DrawPanel(Canvas canvas, int top, List<ServerSample> points,
        (string Name, Rgb Colour, Func<ServerSample, double> Value)[] series, double minutes, IReadOnlyList<CycleResult> cycles)
    {
        var plotTop = top + 20;
        var plotHeight = PanelHeight - 40;
        var plotWidth = Width - Left - Right;
        var max = NiceCeiling(series.Max(s => points.Max(s.Value)));

        var legendX = Left;
        foreach (var (name, colour, _) in series)
        {
            canvas.Fill(legendX, top + 2, 12, 10, colour);
            legendX += 16 + canvas.Text(legendX + 16, top + 2, name, colour) + 12;
        }

        for (var i = 0; i <= 4; i++)
        {
            var y = plotTop + plotHeight - plotHeight * i / 4;
            canvas.Line(Left, y, Left + plotWidth, y, Grid);
            var label = (max * i / 4).ToString("0.##", CultureInfo.InvariantCulture);
            canvas.Text(Left - 8 - label.Length * 8, y - 5, label, Axis);
        }

        for (var i = 0; i <= 6; i++)
        {
            var x = Left + plotWidth * i / 6;
            var label = (minutes * i / 6).ToString("F1", CultureInfo.InvariantCulture);
            canvas.Text(x - label.Length * 4, plotTop + plotHeight + 10, label, Axis);
        }

        canvas.Text(Left + plotWidth - 60, plotTop + plotHeight + 22, "MINUTES", Axis);
        foreach (var cycle in cycles)
        {
            var x = Left + (int)(cycle.End.Seconds / 60 / minutes * plotWidth);
            canvas.Line(x, plotTop + plotHeight, x, plotTop + plotHeight + 5, Axis);
        }

        canvas.Line(Left, plotTop, Left, plotTop + plotHeight, Axis);
        canvas.Line(Left, plotTop + plotHeight, Left + plotWidth, plotTop + plotHeight, Axis);
        foreach (var (_, colour, value) in series)
        {
            for (var i = 1; i < points.Count; i++)
            {
                canvas.Line(X(points[i - 1]), Y(value(points[i - 1])), X(points[i]), Y(value(points[i])), colour, 2);
            }
        }

        int X(ServerSample s) => Left + (int)(s.Seconds / 60 / minutes * plotWidth);
        int Y(double v) => plotTop + plotHeight - (int)(v / max * plotHeight);
    }

    /// <summary>1, 2, 2.5 or 5 times a power of ten, at or above <paramref name="value"/>, so the grid lines get round labels.</summary>
    private static double NiceCeiling(double value)
    {
        if (value <= 0) return 1;
        var power = Math.Pow(10, Math.Floor(Math.Log10(value)));
        foreach (var step in new[] { 1, 2, 2.5, 5, 10 })
        {
            if (step * power >= value) return step * power;
        }

        return 10 * power;
    }
}
