namespace Sfu.Server.Sdk;

/// <summary>How the server serves the browser SDK, bound from <c>Sfu:Sdk</c>.</summary>
public sealed class SdkOptions
{
    public const string SectionName = "Sfu:Sdk";

    /// <summary>
    /// The origins whose pages may import the SDK from this server (CORS), separated by commas or spaces: <c>*</c>
    /// (the default) for any, or e.g. <c>https://app.example.com</c>; empty for none but this server's own pages.
    /// </summary>
    public string AllowedOrigins { get; set; } = "*";
}
