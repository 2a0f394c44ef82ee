using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Sfu.Server.Hosting;

/// <summary>
/// HTTPS from a PEM certificate and key named in configuration (<c>Sfu:Tls:CertificatePath</c>, <c>Sfu:Tls:KeyPath</c>):
/// the certificate is given to every HTTPS endpoint Kestrel listens on. Browsers allow cameras and microphones only
/// in a secure context, so a server reached by IP or host name needs this, or a TLS proxy in front.
/// </summary>
internal static class SfuTls
{
    public const string SectionName = "Sfu:Tls";

    /// <summary>The HTTPS port added to the default addresses when a certificate is configured and <c>--urls</c> is not.</summary>
    public const int DefaultPort = 8443;

    /// <summary>Loads the configured certificate, if any, for every HTTPS endpoint; returns whether there is one.</summary>
    public static bool Configure(WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(SectionName);
        var certificatePath = section["CertificatePath"];
        if (string.IsNullOrWhiteSpace(certificatePath)) return false;
        var certificate = Load(certificatePath, section["KeyPath"]);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureHttpsDefaults(https => https.ServerCertificate = certificate));
        return true;
    }

    private static X509Certificate2 Load(string certificatePath, string? keyPath)
    {
        try
        {
            // Without a key path the key is looked for in the certificate's own PEM file.
            return X509Certificate2.CreateFromPemFile(certificatePath, string.IsNullOrWhiteSpace(keyPath) ? null : keyPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new InvalidOperationException(
                $"{SectionName}:CertificatePath '{certificatePath}' and {SectionName}:KeyPath '{keyPath}' could not be loaded as a PEM certificate and private key: {ex.Message}", ex);
        }
    }
}
