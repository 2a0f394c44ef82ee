namespace Sfu.Media.Sdp;

/// <summary>
/// A session description could not be read. Carries the 1-based line number and the line itself,
/// so a bad offer from a client can be reported precisely instead of surfacing as a crash.
/// </summary>
public sealed class SdpParseException : FormatException
{
    public SdpParseException(int lineNumber, string line, string reason)
        : base($"SDP line {lineNumber}: {reason} (\"{Shorten(line)}\")")
    {
        LineNumber = lineNumber;
        Line = line;
        Reason = reason;
    }

    public int LineNumber { get; }

    public string Line { get; }

    public string Reason { get; }

    // Keeps log lines bounded when a client sends something enormous.
    private static string Shorten(string line) => line.Length <= 120 ? line : line[..120] + "...";
}
