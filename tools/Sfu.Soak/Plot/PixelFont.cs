namespace Sfu.Soak.Plot;

/// <summary>A 3x5 pixel font for chart labels: digits, capitals and a little punctuation. Each glyph is five rows of three bits.</summary>
internal static class PixelFont
{
    public const int Width = 3;
    public const int Height = 5;

    private static readonly Dictionary<char, int[]> Glyphs = new()
    {
        ['0'] = [7, 5, 5, 5, 7], ['1'] = [2, 6, 2, 2, 7], ['2'] = [7, 1, 7, 4, 7], ['3'] = [7, 1, 7, 1, 7],
        ['4'] = [5, 5, 7, 1, 1], ['5'] = [7, 4, 7, 1, 7], ['6'] = [7, 4, 7, 5, 7], ['7'] = [7, 1, 1, 1, 1],
        ['8'] = [7, 5, 7, 5, 7], ['9'] = [7, 5, 7, 1, 7],
        ['A'] = [2, 5, 7, 5, 5], ['B'] = [6, 5, 6, 5, 6], ['C'] = [3, 4, 4, 4, 3], ['D'] = [6, 5, 5, 5, 6],
        ['E'] = [7, 4, 6, 4, 7], ['F'] = [7, 4, 6, 4, 4], ['G'] = [3, 4, 5, 5, 3], ['H'] = [5, 5, 7, 5, 5],
        ['I'] = [7, 2, 2, 2, 7], ['J'] = [1, 1, 1, 5, 2], ['K'] = [5, 5, 6, 5, 5], ['L'] = [4, 4, 4, 4, 7],
        ['M'] = [5, 7, 7, 5, 5], ['N'] = [6, 5, 5, 5, 5], ['O'] = [2, 5, 5, 5, 2], ['P'] = [6, 5, 6, 4, 4],
        ['Q'] = [2, 5, 5, 6, 3], ['R'] = [6, 5, 6, 5, 5], ['S'] = [3, 4, 2, 1, 6], ['T'] = [7, 2, 2, 2, 2],
        ['U'] = [5, 5, 5, 5, 7], ['V'] = [5, 5, 5, 5, 2], ['W'] = [5, 5, 7, 7, 5], ['X'] = [5, 5, 2, 5, 5],
        ['Y'] = [5, 5, 2, 2, 2], ['Z'] = [7, 1, 2, 4, 7],
        ['.'] = [0, 0, 0, 0, 2], ['-'] = [0, 0, 7, 0, 0], [':'] = [0, 2, 0, 2, 0], ['/'] = [1, 1, 2, 4, 4],
        ['('] = [2, 4, 4, 4, 2], [')'] = [2, 1, 1, 1, 2], ['%'] = [5, 1, 2, 4, 5], ['+'] = [0, 2, 7, 2, 0],
        [','] = [0, 0, 0, 2, 4], [' '] = [0, 0, 0, 0, 0],
    };

    /// <summary>The glyph's rows, top first; a character the font lacks draws as a blank.</summary>
    public static int[] Glyph(char character) => Glyphs.GetValueOrDefault(character) ?? Glyphs[' '];
}
