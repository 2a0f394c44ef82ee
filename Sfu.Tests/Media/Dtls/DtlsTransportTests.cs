using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Sfu.Media.Dtls;
using Sfu.Media.Srtp;

namespace Sfu.Tests.Media.Dtls;

[TestFixture]
public sealed class DtlsTransportTests
{
    private DtlsCertificate _serverCertificate = null!;
    private DtlsCertificate _clientCertificate = null!;
    private DtlsContext _server = null!;
    private DtlsContext _client = null!;

    [OneTimeSetUp]
    public void CreateContexts()
    {
        _serverCertificate = DtlsCertificate.Generate();
        _clientCertificate = DtlsCertificate.Generate();
        _server = DtlsContext.Create(_serverCertificate, DtlsRole.Server);
        _client = DtlsContext.Create(_clientCertificate, DtlsRole.Client);
    }

    [OneTimeTearDown]
    public void DisposeContexts()
    {
        _server.Dispose();
        _client.Dispose();
        _serverCertificate.Dispose();
        _clientCertificate.Dispose();
    }

    [Test]
    public void Handshake_ServerAndClient_BothConnectWithIdenticalKeyingMaterial()
    {
        using var pair = new DtlsTestPair(_server, _client);

        pair.Handshake();

        Assert.Multiple(() =>
        {
            Assert.That(pair.Server.State, Is.EqualTo(DtlsState.Connected), pair.Server.FailureReason);
            Assert.That(pair.Client.State, Is.EqualTo(DtlsState.Connected), pair.Client.FailureReason);
            Assert.That(pair.Server.ProtocolVersion, Is.EqualTo("DTLSv1.2"));
            Assert.That(pair.Server.RemoteCertificateFingerprint, Is.EqualTo(_clientCertificate.Fingerprint));
            Assert.That(pair.Client.RemoteCertificateFingerprint, Is.EqualTo(_serverCertificate.Fingerprint));
        });

        SrtpKeyPair server = pair.Server.SrtpKeys!.Value;
        SrtpKeyPair client = pair.Client.SrtpKeys!.Value;
        ReadOnlyMemory<byte> exported = pair.Server.ExportedKeyingMaterial;
        Assert.Multiple(() =>
        {
            Assert.That(pair.Server.SrtpProfile, Is.EqualTo(pair.Client.SrtpProfile));
            Assert.That(exported.ToArray(), Is.EqualTo(pair.Client.ExportedKeyingMaterial.ToArray()));
            Assert.That(exported.Length, Is.EqualTo(2 * (16 + 12)));
            Assert.That(KeyAndSalt(server.Local), Is.EqualTo(KeyAndSalt(client.Remote)));
            Assert.That(KeyAndSalt(server.Remote), Is.EqualTo(KeyAndSalt(client.Local)));
            Assert.That(KeyAndSalt(server.Local), Is.Not.EqualTo(KeyAndSalt(server.Remote)));
            Assert.That(exported.ToArray(), Is.Not.All.EqualTo((byte)0));
        });
    }

    [Test]
    public void Handshake_ReportsStateTransitionsInOrder()
    {
        using var pair = new DtlsTestPair(_server, _client);
        var serverStates = new List<DtlsState>();
        pair.Server.StateChanged += (_, state) => serverStates.Add(state);

        pair.Handshake();

        Assert.That(serverStates, Is.EqualTo(new[] { DtlsState.Connecting, DtlsState.Connected }));
    }

    [Test]
    public void Handshake_BothOfferGcm_SelectsGcm()
    {
        using var pair = new DtlsTestPair(_server, _client);

        pair.Handshake();

        Assert.That(pair.Server.SrtpProfile, Is.EqualTo(SrtpProfile.AeadAes128Gcm));
    }

    [Test]
    public void Handshake_ClientListsAesCmFirst_ServerPreferenceSelectsGcm()
    {
        using var client = DtlsContext.Create(
            _clientCertificate, DtlsRole.Client, "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM");
        using var pair = new DtlsTestPair(_server, client);

        pair.Handshake();

        Assert.Multiple(() =>
        {
            Assert.That(pair.Server.SrtpProfile, Is.EqualTo(SrtpProfile.AeadAes128Gcm));
            Assert.That(pair.Client.SrtpProfile, Is.EqualTo(SrtpProfile.AeadAes128Gcm));
        });
    }

    [Test]
    public void Handshake_ClientOffersOnlyAesCm_SelectsAesCmWithItsKeyLengths()
    {
        using var client = DtlsContext.Create(_clientCertificate, DtlsRole.Client, "SRTP_AES128_CM_SHA1_80");
        using var pair = new DtlsTestPair(_server, client);

        pair.Handshake();

        SrtpKeyPair? keys = pair.Server.SrtpKeys;
        Assert.That(keys, Is.Not.Null, pair.Server.FailureReason);
        Assert.Multiple(() =>
        {
            Assert.That(pair.Server.SrtpProfile, Is.EqualTo(SrtpProfile.Aes128CmHmacSha1_80));
            Assert.That(pair.Server.ExportedKeyingMaterial.Length, Is.EqualTo(2 * (16 + 14)));
            Assert.That(KeyAndSalt(keys!.Value.Local), Has.Length.EqualTo(30));
            Assert.That(
                pair.Client.ExportedKeyingMaterial.ToArray(),
                Is.EqualTo(pair.Server.ExportedKeyingMaterial.ToArray()));
        });
    }

    [Test]
    public void Handshake_NoSharedSrtpProfile_Fails()
    {
        using var client = DtlsContext.Create(_clientCertificate, DtlsRole.Client, "SRTP_AES128_CM_SHA1_32");
        using var pair = new DtlsTestPair(_server, client);

        pair.Handshake();

        Assert.Multiple(() =>
        {
            Assert.That(pair.Server.State, Is.EqualTo(DtlsState.Failed));
            Assert.That(pair.Server.FailureReason, Does.Contain("DTLS-SRTP"));
            Assert.That(pair.Server.SrtpKeys, Is.Null);
        });
    }

    [Test]
    public void Handshake_WrongExpectedFingerprint_FailsWithReasonAndPeerIsClosed()
    {
        using var other = DtlsCertificate.Generate();
        using var pair = new DtlsTestPair(_server, _client, serverKnowsFingerprint: false);
        pair.Server.SetRemoteFingerprint(other.Fingerprint);

        pair.Handshake();

        Assert.Multiple(() =>
        {
            Assert.That(pair.Server.State, Is.EqualTo(DtlsState.Failed));
            Assert.That(pair.Server.FailureReason, Does.Contain("does not match the SDP fingerprint"));
            Assert.That(pair.Server.FailureReason, Does.Contain(_clientCertificate.Fingerprint.ToString()));
            Assert.That(pair.Server.SrtpKeys, Is.Null);
            Assert.That(pair.Client.State, Is.EqualTo(DtlsState.Closed), "the server's close_notify reaches the client");
            Assert.That(pair.Client.SrtpKeys, Is.Null);
        });
    }

    [Test]
    public void Handshake_FingerprintArrivesAfterHandshake_StaysConnectingThenConnects()
    {
        using var pair = new DtlsTestPair(_server, _client, serverKnowsFingerprint: false);

        pair.Handshake();

        Assert.Multiple(() =>
        {
            Assert.That(pair.Server.State, Is.EqualTo(DtlsState.Connecting));
            Assert.That(pair.Server.SrtpKeys, Is.Null);
            Assert.That(pair.Server.RemoteCertificateFingerprint, Is.EqualTo(_clientCertificate.Fingerprint));
        });

        pair.Server.SetRemoteFingerprint(DtlsFingerprint.Parse(_clientCertificate.Fingerprint.ToString().ToLowerInvariant()));

        Assert.Multiple(() =>
        {
            Assert.That(pair.Server.State, Is.EqualTo(DtlsState.Connected));
            Assert.That(pair.Server.SrtpKeys, Is.Not.Null);
            Assert.That(
                pair.Server.ExportedKeyingMaterial.ToArray(),
                Is.EqualTo(pair.Client.ExportedKeyingMaterial.ToArray()));
        });
    }

    [Test]
    public void Handshake_WrongFingerprintArrivesAfterHandshake_Fails()
    {
        using var other = DtlsCertificate.Generate();
        using var pair = new DtlsTestPair(_server, _client, serverKnowsFingerprint: false);
        pair.Handshake();

        pair.Server.SetRemoteFingerprint(other.Fingerprint);
        pair.Pump();

        Assert.Multiple(() =>
        {
            Assert.That(pair.Server.State, Is.EqualTo(DtlsState.Failed));
            Assert.That(pair.Server.FailureReason, Does.Contain("does not match"));
            Assert.That(pair.Client.State, Is.EqualTo(DtlsState.Closed));
        });
    }

    [Test]
    public void SetRemoteFingerprint_Malformed_ThrowsFormatException()
    {
        using var pair = new DtlsTestPair(_server, _client, serverKnowsFingerprint: false);

        Assert.That(() => pair.Server.SetRemoteFingerprint(new DtlsFingerprint("sha-1", "AB:CD")), Throws.TypeOf<FormatException>());
    }

    [Test]
    public void Feed_GarbageDatagrams_AreIgnoredAndHandshakeStillCompletes()
    {
        using var pair = new DtlsTestPair(_server, _client);
        byte[][] garbage =
        [
            [0x16],
            [0x16, 0xFE, 0xFD, 0, 0],
            RandomNumberGenerator.GetBytes(1200),
            [0x16, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 1, 2, 3],
            new byte[13],

            // Well-formed headers claiming epoch 1 (encrypted), too short or simply undecryptable.
            ForgedRecord(type: 23, epoch: 1, bodyLength: 4),
            ForgedRecord(type: 21, epoch: 1, bodyLength: 2),
            ForgedRecord(type: 22, epoch: 1, bodyLength: 23),
            ForgedRecord(type: 22, epoch: 1, bodyLength: 64),
            [.. ForgedRecord(type: 23, epoch: 1, bodyLength: 40), .. ForgedRecord(type: 21, epoch: 1, bodyLength: 2)],
        ];

        Assert.That(() =>
        {
            foreach (byte[] datagram in garbage)
            {
                pair.Server.Feed(datagram);
                pair.Client.Feed(datagram);
            }
        }, Throws.Nothing);
        Assert.That(pair.Server.State, Is.Not.EqualTo(DtlsState.Failed), pair.Server.FailureReason);

        pair.Handshake();

        Assert.Multiple(() =>
        {
            Assert.That(pair.Server.State, Is.EqualTo(DtlsState.Connected), pair.Server.FailureReason);
            Assert.That(pair.Client.State, Is.EqualTo(DtlsState.Connected), pair.Client.FailureReason);
        });
    }

    /// <summary>Master key then master salt, the form libsrtp takes them in.</summary>
    private static byte[] KeyAndSalt(SrtpMasterKey key) => [.. key.Key, .. key.Salt];

    private static byte[] ForgedRecord(byte type, byte epoch, int bodyLength)
    {
        byte[] record = new byte[13 + bodyLength];
        RandomNumberGenerator.Fill(record.AsSpan(13));
        record[0] = type;
        record[1] = 0xFE;
        record[2] = 0xFD;
        record[4] = epoch;
        record[10] = 1;
        record[11] = (byte)(bodyLength >> 8);
        record[12] = (byte)bodyLength;
        return record;
    }

    [Test]
    public void Feed_ForgedPlaintextHandshakeRecord_NeverThrowsAndAffectsOnlyThatTransport()
    {
        // Epoch-0 handshake records are unauthenticated by design; a forged one may legitimately
        // abort this handshake (OpenSSL answers "unexpected message"), but nothing else.
        using var pair = new DtlsTestPair(_server, _client);

        Assert.That(() => pair.Server.Feed(ForgedRecord(type: 22, epoch: 0, bodyLength: 4)), Throws.Nothing);
        Assert.That(pair.Server.State, Is.EqualTo(DtlsState.Failed).Or.EqualTo(DtlsState.Connecting));
        Assert.That(pair.Server.State == DtlsState.Failed ? pair.Server.FailureReason : "ok", Is.Not.Empty);

        using var fresh = new DtlsTestPair(_server, _client);
        fresh.Handshake();
        Assert.That(fresh.Server.State, Is.EqualTo(DtlsState.Connected), fresh.Server.FailureReason);
    }

    [Test]
    public void Feed_PackedDatagramStartingWithReplayedRecord_StillProcessesTheRest()
    {
        // OpenSSL alone drops a whole datagram after a replayed record; fed record by record,
        // the client's second flight behind a duplicate ClientHello still completes the handshake.
        using var pair = new DtlsTestPair(_server, _client);
        pair.Client.Start();
        byte[] clientHello = pair.ClientSink.Outbox.Dequeue();
        pair.Server.Feed(clientHello);
        while (pair.ServerSink.Outbox.TryDequeue(out byte[]? datagram))
        {
            pair.Client.Feed(datagram);
        }

        byte[] secondFlight = pair.ClientSink.Outbox.Dequeue();
        pair.Server.Feed([.. clientHello, .. secondFlight]);
        pair.Pump();

        Assert.That(pair.Server.State, Is.EqualTo(DtlsState.Connected), pair.Server.FailureReason);
        Assert.That(pair.Client.State, Is.EqualTo(DtlsState.Connected), pair.Client.FailureReason);
    }

    [Test]
    public void Feed_TruncatedClientHello_NeverThrowsAndServerIsNotConnected()
    {
        using var pair = new DtlsTestPair(_server, _client);
        pair.Client.Start();
        byte[] clientHello = pair.ClientSink.Outbox.Dequeue();

        for (int length = 1; length < clientHello.Length; length += 7)
        {
            Assert.That(() => pair.Server.Feed(clientHello.AsSpan(0, length)), Throws.Nothing);
        }

        Assert.That(pair.Server.State, Is.Not.EqualTo(DtlsState.Connected));
    }

    [Test]
    public void Feed_CorruptHandshakeMessage_FailsOnlyThatTransport()
    {
        using var pair = new DtlsTestPair(_server, _client);
        pair.Client.Start();
        byte[] clientHello = pair.ClientSink.Outbox.Dequeue();

        // Keep the record and handshake headers intact but break the body: the cipher_suites
        // length (record 13 + handshake header 12 + version 2 + random 32 + empty session id and
        // cookie 2 = offset 61) now overruns the message.
        byte[] corrupt = (byte[])clientHello.Clone();
        corrupt[61] = 0xFF;
        corrupt[62] = 0xFF;
        Assert.That(() => pair.Server.Feed(corrupt), Throws.Nothing);

        Assert.That(pair.Server.State, Is.EqualTo(DtlsState.Failed));
        Assert.That(pair.Server.FailureReason, Does.Contain("length mismatch"));
        Assert.That(() => pair.Server.Feed(clientHello), Throws.Nothing, "a failed transport ignores further input");

        // The shared context is untouched: a fresh pair still connects.
        using var fresh = new DtlsTestPair(_server, _client);
        fresh.Handshake();
        Assert.That(fresh.Server.State, Is.EqualTo(DtlsState.Connected), fresh.Server.FailureReason);
    }

    [Test]
    public void HandleTimeout_AfterServerFlightLost_RetransmitsAndCompletes()
    {
        using var pair = new DtlsTestPair(_server, _client);
        pair.Client.Start();

        // The first flight from the server (ServerHello .. ServerHelloDone) never arrives.
        pair.Pump(dropFromServer: (_, _) => true);
        Assert.That(pair.Server.State, Is.EqualTo(DtlsState.Connecting));
        Assert.That(pair.Client.State, Is.EqualTo(DtlsState.Connecting));

        DateTimeOffset? due = pair.Server.NextTimeout;
        Assert.That(due, Is.Not.Null, "the server must have a retransmission timer running");

        // Guarded so a stalled test machine cannot turn this into a false failure.
        if (due is { } deadline && deadline - DateTimeOffset.UtcNow > TimeSpan.FromMilliseconds(300))
        {
            pair.Server.HandleTimeout();
            Assert.That(pair.ServerSink.Outbox, Is.Empty, "calling before the deadline is a no-op");
        }

        // OpenSSL keeps its own clock (1 s initial timeout), so this test waits for real.
        Thread.Sleep(TimeSpan.FromMilliseconds(1100));
        pair.Server.HandleTimeout();
        Assert.That(pair.ServerSink.Outbox, Is.Not.Empty, "the lost flight is retransmitted");

        pair.Pump();

        Assert.Multiple(() =>
        {
            Assert.That(pair.Server.State, Is.EqualTo(DtlsState.Connected), pair.Server.FailureReason);
            Assert.That(pair.Client.State, Is.EqualTo(DtlsState.Connected), pair.Client.FailureReason);
        });
    }

    [Test]
    public void NextTimeout_IsNullOnceTerminal()
    {
        var pair = new DtlsTestPair(_server, _client);
        pair.Handshake();

        pair.Dispose();

        Assert.That(pair.Server.NextTimeout, Is.Null);
    }

    [Test]
    public void Handshake_EveryDatagramFitsMaxDatagramSize()
    {
        using var pair = new DtlsTestPair(_server, _client);

        pair.Handshake();

        IEnumerable<byte[]> all = pair.ServerSink.AllSent.Concat(pair.ClientSink.AllSent);
        Assert.That(all.Select(d => d.Length), Is.All.InRange(1, DtlsTransport.MaxDatagramSize));
        Assert.That(pair.ServerSink.AllSent, Is.Not.Empty);
    }

    [Test]
    public void Handshake_CertificateLargerThanOneDatagram_IsFragmentedWithinMaxSize()
    {
        // A 3 kB extension makes the server's Certificate message alone exceed a datagram, so
        // OpenSSL must fragment it to the MTU set on the connection.
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=large", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509Extension("1.3.6.1.4.1.55555.1", new byte[3000], critical: false));
        using X509Certificate2 large = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        using DtlsCertificate certificate = DtlsCertificate.Load(large.RawData, key.ExportPkcs8PrivateKey());
        using DtlsContext server = DtlsContext.Create(certificate, DtlsRole.Server);
        using var pair = new DtlsTestPair(server, _client);

        pair.Handshake();

        Assert.That(pair.Server.State, Is.EqualTo(DtlsState.Connected), pair.Server.FailureReason);
        Assert.That(pair.Client.State, Is.EqualTo(DtlsState.Connected), pair.Client.FailureReason);
        Assert.That(pair.ServerSink.AllSent.Sum(d => d.Length), Is.GreaterThan(3000));
        Assert.That(
            pair.ServerSink.AllSent.Concat(pair.ClientSink.AllSent).Select(d => d.Length),
            Is.All.InRange(1, DtlsTransport.MaxDatagramSize));
    }

    [Test]
    public void Dispose_AfterConnect_SendsCloseNotifyAndPeerBecomesClosed()
    {
        using var pair = new DtlsTestPair(_server, _client);
        pair.Handshake();
        var clientStates = new List<DtlsState>();
        pair.Client.StateChanged += (_, state) => clientStates.Add(state);

        pair.Server.Dispose();
        pair.Pump();

        Assert.Multiple(() =>
        {
            Assert.That(pair.Server.State, Is.EqualTo(DtlsState.Closed));
            Assert.That(pair.Client.State, Is.EqualTo(DtlsState.Closed));
            Assert.That(pair.Client.FailureReason, Does.Contain("close_notify"));
            Assert.That(clientStates, Is.EqualTo(new[] { DtlsState.Closed }));
            Assert.That(pair.Client.SrtpKeys, Is.Null);
        });
    }

    [Test]
    public void Feed_AfterDispose_IsIgnored()
    {
        var pair = new DtlsTestPair(_server, _client);
        pair.Client.Start();
        byte[] clientHello = pair.ClientSink.Outbox.Dequeue();
        pair.Dispose();

        Assert.That(() => pair.Server.Feed(clientHello), Throws.Nothing);
        Assert.That(() => pair.Server.HandleTimeout(), Throws.Nothing);
    }
}
