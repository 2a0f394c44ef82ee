using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Sfu.Server.Hosting;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Operations;

/// <summary>HTTPS from a PEM certificate and key configured under <c>Sfu:Tls</c>, as an operator would set it up on a LAN.</summary>
public sealed class HttpsTests
{
    private string _folder = null!;
    private X509Certificate2 _certificate = null!;

    [SetUp]
    public void MakeCertificate()
    {
        _folder = Directory.CreateTempSubdirectory("sfu-tls-").FullName;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=sfu-test", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(Path.Combine(_folder, "cert.pem"), _certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(_folder, "key.pem"), key.ExportPkcs8PrivateKeyPem());
    }

    [TearDown]
    public void DeleteCertificate()
    {
        _certificate.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    [Test]
    public async Task ConfiguredPemCertificate_ServesHealthzOverHttps_WithThatCertificate()
    {
        await using var server = await SfuTestServer.StartAsync(null,
            "urls=https://127.0.0.1:0",
            $"Sfu:Tls:CertificatePath={Path.Combine(_folder, "cert.pem")}",
            $"Sfu:Tls:KeyPath={Path.Combine(_folder, "key.pem")}");
        X509Certificate2? presented = null;
        using var handler = new HttpClientHandler
        {
            // Trust exactly the certificate this test made, as a client that pinned it would.
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
            {
                presented = certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.RawData);
                return certificate?.Thumbprint == _certificate.Thumbprint;
            },
        };
        using var http = new HttpClient(handler) { BaseAddress = server.HttpBase };

        using var response = await http.GetAsync("/healthz");

        Assert.Multiple(async () =>
        {
            Assert.That(server.HttpBase.Scheme, Is.EqualTo("https"));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("ok"));
            Assert.That(presented?.Thumbprint, Is.EqualTo(_certificate.Thumbprint));
        });
        presented?.Dispose();
    }

    [Test]
    public void MissingKeyFile_StopsStartup_NamingTheSetting()
    {
        var error = Assert.Throws<InvalidOperationException>(() => SfuServer.Build(
        [
            "--urls=https://127.0.0.1:0",
            $"--Sfu:Tls:CertificatePath={Path.Combine(_folder, "cert.pem")}",
            $"--Sfu:Tls:KeyPath={Path.Combine(_folder, "missing.pem")}",
        ]));
        Assert.That(error!.Message, Does.Contain("Sfu:Tls:KeyPath").And.Contain("missing.pem"));
    }
}
