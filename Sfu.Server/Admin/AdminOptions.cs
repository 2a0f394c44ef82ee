namespace Sfu.Server.Admin;

/// <summary>Operator API settings, bound from <c>Sfu:Admin</c>.</summary>
public sealed class AdminOptions
{
    public const string SectionName = "Sfu:Admin";

    /// <summary>The key callers present in <c>X-Api-Key</c> (or <c>Authorization: Bearer</c>). Empty disables the API.</summary>
    public string? ApiKey { get; set; }
}
