using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.Json;

namespace Sfu.Tools;

/// <summary>What the load tools share about their command line: usage errors, validation, progress and the JSON summary.</summary>
internal static class ToolCommandLine
{
    /// <summary>The exit code of a command line that does not parse or holds a value out of range (the shell's convention).</summary>
    public const int UsageError = 2;

    private static readonly JsonSerializerOptions SummaryFormat = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>
    /// Parses and runs <paramref name="command"/>. A usage error prints its message and exits with <see cref="UsageError"/>
    /// before anything starts; <c>--help</c> prints the usage and exits with 0.
    /// </summary>
    public static async Task<int> RunAsync(RootCommand command, string[] args)
    {
        var parse = command.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) Console.Error.WriteLine($"error: {error.Message}");
            Console.Error.WriteLine("Run with --help for the usage.");
            return UsageError;
        }
        return await parse.InvokeAsync();
    }

    /// <summary>A whole-number argument of at least <paramref name="minimum"/>.</summary>
    public static Argument<int> IntArgument(string name, string description, int defaultValue, int minimum) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => ParseInt(result, name, minimum),
    };

    /// <summary>A whole-number option of at least <paramref name="minimum"/>.</summary>
    public static Option<int> IntOption(string name, string description, int defaultValue, int minimum) => new(name)
    {
        Description = description,
        HelpName = "n",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => ParseInt(result, name, minimum),
    };

    /// <summary>A URL argument that accepts only absolute URLs with one of <paramref name="schemes"/>.</summary>
    public static Argument<Uri> UrlArgument(string name, string description, string defaultValue, params string[] schemes) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => new Uri(defaultValue),
        CustomParser = result => ParseUrl(result, name, schemes),
    };

    /// <summary>A URL option that accepts only absolute URLs with one of <paramref name="schemes"/>.</summary>
    public static Option<Uri> UrlOption(string name, string description, string defaultValue, params string[] schemes) => new(name)
    {
        Description = description,
        HelpName = "url",
        DefaultValueFactory = _ => new Uri(defaultValue),
        CustomParser = result => ParseUrl(result, name, schemes),
    };

    /// <summary>The <c>--json &lt;file&gt;</c> option: where to write the run's summary.</summary>
    public static Option<FileInfo?> JsonOption() => new("--json") { Description = "Also write the summary as JSON to this file", HelpName = "file" };

    public static void WriteSummary(FileInfo? file, object summary)
    {
        if (file is null) return;
        File.WriteAllText(file.FullName, JsonSerializer.Serialize(summary, SummaryFormat));
        Console.WriteLine($"summary written to {file.FullName}");
    }

    /// <summary>Prints <paramref name="line"/>'s text about once a second until <paramref name="stop"/>, so a long run shows it is alive.</summary>
    public static async Task ReportProgressAsync(Func<string> line, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(stop)) Console.WriteLine(line());
        }
        catch (OperationCanceledException) { }
    }

    private static Uri? ParseUrl(ArgumentResult result, string name, string[] schemes)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (Uri.TryCreate(text, UriKind.Absolute, out var url) && schemes.Contains(url.Scheme)) return url;
        result.AddError($"{name} must be an absolute {string.Join(" or ", schemes)} URL, not '{text}'");
        return null;
    }

    private static int ParseInt(ArgumentResult result, string name, int minimum)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= minimum) return value;
        result.AddError($"{name} must be a whole number of at least {minimum}, not '{text}'");
        return minimum;
    }
}
