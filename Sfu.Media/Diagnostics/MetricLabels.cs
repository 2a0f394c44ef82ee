namespace Sfu.Media.Diagnostics;

/// <summary>How enum values become label values.</summary>
internal static class MetricLabels
{
    /// <summary>TooManyUnauthenticated → too-many-unauthenticated.</summary>
    public static string Kebab(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
