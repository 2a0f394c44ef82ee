namespace Sfu.Soak.Plot;

/// <summary>An RGB pixel buffer with just what a line chart needs: rectangles, lines and text.</summary>
internal sealed class Canvas(int width, int height)
{
    private readonly byte[] _rgb = CreateWhite(width, height);

    public int Width { get; } = width;

    public int Height { get; } = height;

    public void Fill(int x, int y, int w, int h, Rgb colour)
    {
        for (var row = Math.Max(0, y); row < Math.Min(Height, y + h); row++)
        for (var column = Math.Max(0, x); column < Math.Min(Width, x + w); column++)
            Set(column, row, colour);
    }

    /// <summary>Bresenham, <paramref name="thickness"/> pixels square at each point.</summary>
    public void Line(int x0, int y0, int x1, int y1, Rgb colour, int thickness = 1)
    {
        int dx = Math.Abs(x1 - x0), dy = -Math.Abs(y1 - y0);
        int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
        var error = dx + dy;
        while (true)
        {
            Fill(x0 - thickness / 2, y0 - thickness / 2, thickness, thickness, colour);
            if (x0 == x1 && y0 == y1) return;
            var doubled = 2 * error;
            if (doubled >= dy)
            {
                error += dy;
                x0 += sx;
            }

            if (doubled <= dx)
            {
                error += dx;
                y0 += sy;
            }
        }
    }

    /// <summary>Text in the 3x5 pixel font, each font pixel <paramref name="scale"/> pixels square; returns the width drawn.</summary>
    public int Text(int x, int y, string text, Rgb colour, int scale = 2)
    {
        var start = x;
        foreach (var character in text.ToUpperInvariant())
        {
            var rows = PixelFont.Glyph(character);
            for (var row = 0; row < PixelFont.Height; row++)
            for (var column = 0; column < PixelFont.Width; column++)
                if ((rows[row] >> (PixelFont.Width - 1 - column) & 1) != 0)
                    Fill(x + column * scale, y + row * scale, scale, scale, colour);
            x += (PixelFont.Width + 1) * scale;
        }

        return x - start;
    }

    public void WritePng(string path)
    {
        using var file = File.Create(path);
        PngWriter.Write(file, Width, Height, _rgb);
    }

    private void Set(int x, int y, Rgb colour)
    {
        var at = (y * Width + x) * 3;
        _rgb[at] = colour.R;
        _rgb[at + 1] = colour.G;
        _rgb[at + 2] = colour.B;
    }

    private static byte[] CreateWhite(int width, int height)
    {
        var rgb = new byte[width * height * 3];
        Array.Fill(rgb, (byte)255);
        return rgb;
    }
}

internal readonly record struct Rgb(byte R, byte G, byte B);
