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
/// The media plane as the control plane uses it: the worker (UDP port and packet path), the server's DTLS
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
        Worker = new MediaWorker(options.Value, time, Metrics, loggerFactory.CreateLogger<MediaWorker>());
        _certificate = DtlsCertificate.Generate();
        DtlsContext = DtlsContext.Create(_certificate, DtlsRole.Server);
        LoggerFactory = loggerFactory;
    }

    public MediaWorker Worker { get; }

    public MediaMetrics Metrics { get; }

    internal DtlsContext DtlsContext { get; }

    internal ILoggerFactory LoggerFactory { get; }

    internal PublishAnswerBuilder PublishAnswers { get; } = new();

    internal SubscribeOfferBuilder SubscribeOffers { get; } = new();

    /// <summary>What the server writes about a transport in SDP: its ICE credentials, certificate and candidates.</summary>
    internal LocalTransportParameters LocalParameters(WebRtcTransport transport) =>
        new(transport.LocalIce.Ufrag, transport.LocalIce.Password, transport.LocalFingerprint, Worker.AnnouncedAddress, Worker.Port, Worker.TcpPort);

    public void Dispose()
    {
        Worker.Dispose();
        DtlsContext.Dispose();
        _certificate.Dispose();
    }
}
