using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Sfu.Signaling;
using Sfu.Signaling.Connections;
using Sfu.Signaling.Protocol;
using Sfu.Signaling.Sessions;

namespace Sfu.Fuzz.Targets;

/// <summary>
/// Text frames on one signaling socket, through the real signaling core with its media plane (as the server composes
/// them, on a loopback UDP port): the envelope, then every request handler with whatever fields it got. The input is
/// one message per line. A malformed or refused request is answered with an error, which is the contract; a handler
/// that throws anything else is answered <c>internal</c> and logged as an error, and that error is the crash here.
/// After the frames the socket closes normally and the clock moves a minute on, so the peer, its media and its room
/// are gone before the next input (the service is built once: building it per input would dominate the run).
/// </summary>
public sealed class SignalingTarget : FuzzTarget
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly ErrorRecorder _errors = new();
    private readonly ServiceProvider _services;
    private readonly SignalingService _signaling;

    public SignalingTarget()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Sfu:Media:Port"] = "0",
                ["Sfu:Media:BindAddress"] = "127.0.0.1",
            })
            .Build();
        _services = new ServiceCollection()
            .AddLogging(logging => logging.AddProvider(_errors))
            .AddSfuSignaling(configuration, _clock)
            .AddSfuMedia(configuration)
            .BuildServiceProvider();
        _signaling = _services.GetRequiredService<SignalingService>();
    }

    public override void Execute(ReadOnlySpan<byte> input)
    {
        var connection = _signaling.Accept(new DiscardingConnection(), "192.0.2.1");
        while (!input.IsEmpty)
        {
            int end = input.IndexOf((byte)'\n');
            var message = end < 0 ? input : input[..end];
            input = end < 0 ? default : input[(end + 1)..];
            connection.OnTextMessageAsync(message.ToArray()).GetAwaiter().GetResult();
        }

        connection.OnClosed(CloseCodes.Normal);
        _clock.Advance(TimeSpan.FromMinutes(1));
        if (_errors.Take() is { } error)
        {
            throw new InvalidOperationException($"the signaling core logged an error: {error.Message}", error.Exception);
        }
    }

    public override void Dispose()
    {
        _services.Dispose();
        base.Dispose();
    }

    private sealed class DiscardingConnection : ISessionConnection
    {
        public string Id => "fuzz";
        public string RemoteEndpoint => "192.0.2.1:4000";
        public bool TrySend(byte[] message) => true;
        public void SendReplay(IReadOnlyList<byte[]> messages) { }
        public void Close(int code, string reason) { }
        public void Supersede() { }
        public void Abort() { }
    }

    private sealed record LoggedError(string Message, Exception? Exception);

    /// <summary>Keeps the first error logged since the last <see cref="Take"/>; below Error nothing is even formatted.</summary>
    private sealed class ErrorRecorder : ILoggerProvider, ILogger
    {
        private readonly Lock _gate = new();
        private LoggedError? _first;

        public LoggedError? Take()
        {
            lock (_gate)
            {
                var first = _first;
                _first = null;
                return first;
            }
        }

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            lock (_gate)
            {
                _first ??= new LoggedError(formatter(state, exception), exception);
            }
        }

        public void Dispose()
        {
        }
    }
}
