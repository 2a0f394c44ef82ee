using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Sfu.Server.Sdk;

/// <summary>
/// Serves wwwroot: the demo page and the browser SDK (the modules of clients/browser and their types). The SDK's
/// files, and only they, carry <c>Access-Control-Allow-Origin</c>, so a page on another origin can
/// <c>import</c> the SDK from this server; nothing else (the admin API, metrics) is opened to other origins.
/// </summary>
public static class SdkFiles
{
    /// <summary>The SDK is every script and type declaration in wwwroot; the demo page's own script is inline.</summary>
    public static bool IsSdkFile(string fileName) =>
        fileName.EndsWith(".js", StringComparison.Ordinal) || fileName.EndsWith(".d.ts", StringComparison.Ordinal);

    public static WebApplication UseDemoAndSdkFiles(this WebApplication app)
    {
        var origins = AllowedOriginsOf(app.Services.GetRequiredService<IOptions<SdkOptions>>().Value);
        var contentTypes = new FileExtensionContentTypeProvider();
        // ".ts" is an MPEG transport stream to the default table; here it is only ever sfu-client.d.ts.
        contentTypes.Mappings[".ts"] = "application/typescript; charset=utf-8";
        app.UseDefaultFiles();
        app.UseStaticFiles(new StaticFileOptions
        {
            ContentTypeProvider = contentTypes,
            OnPrepareResponse = file =>
            {
                if (IsSdkFile(file.File.Name)) AllowCrossOrigin(file.Context, origins);
            },
        });
        return app;
    }

    private static void AllowCrossOrigin(HttpContext context, IReadOnlySet<string> origins)
    {
        var headers = context.Response.Headers;
        if (origins.Contains("*"))
        {
            headers.AccessControlAllowOrigin = "*";
            return;
        }
        // The answer depends on who asks: caches must keep one copy per origin.
        headers.Append(HeaderNames.Vary, HeaderNames.Origin);
        var origin = context.Request.Headers.Origin.ToString();
        if (origins.Contains(origin)) headers.AccessControlAllowOrigin = origin;
    }

    private static HashSet<string> AllowedOriginsOf(SdkOptions options) =>
        [.. options.AllowedOrigins.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(o => o.TrimEnd('/'))];
}
