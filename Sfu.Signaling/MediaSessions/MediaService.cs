using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sfu.Media;
using Sfu.Media.Diagnostics;
using Sfu.Media.Dtls;
using Sfu.Media.Sdp;
using Sfu.Media.Transports;
using Sfu.Media.Worker;

namespace Sfu.Signaling.MediaSessions;

/// <summary>
/// The media plane as the control plane uses it: the workers (UDP ports and packet paths), the server's DTLS
/// certificate, and the SDP builders. One per server.
/// </summary>
public sealed class MediaService : IDisposable
{
    private readonly DtlsCertificate _certificate;

    public MediaService(
        IOptions<MediaOptions> options,
        [FromKeyedServices(SignalingServiceCollectionExtensions.ClockKey)] TimeProvider time,
        Prometheus.CollectorRegistry metrics,
        ILoggerFactory loggerFactory)
    {
        Metrics = new MediaMetrics(metrics);
        Workers = new MediaWorkerPool(options.Value, time, Metrics, loggerFactory.CreateLogger<MediaWorker>());
        _certificate = DtlsCertificate.Generate();
        DtlsContext = DtlsContext.Create(_certificate, DtlsRole.Server);
        LoggerFactory = loggerFactory;
    }

    public MediaWorkerPool Workers { get; }

    public MediaMetrics Metrics { get; }

    internal DtlsContext DtlsContext { get; }

    internal ILoggerFactory LoggerFactory { get; }

    internal PublishAnswerBuilder PublishAnswers { get; } = new();

    internal SubscribeOfferBuilder SubscribeOffers { get; } = new();

    /// <summary>What the server writes about a transport on <paramref name="worker"/> in SDP: its ICE credentials, certificate and candidates (that worker's ports).</summary>
    internal static LocalTransportParameters LocalParameters(WebRtcTransport transport, MediaWorker worker) =>
        new(transport.LocalIce.Ufrag, transport.LocalIce.Password, transport.LocalFingerprint, worker.AnnouncedAddress, worker.Port, worker.TcpPort);

    public void Dispose()
    {
        Workers.Dispose();
        DtlsContext.Dispose();
        _certificate.Dispose();
    }
}
