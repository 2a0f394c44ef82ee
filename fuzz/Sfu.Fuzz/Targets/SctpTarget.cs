using System.Buffers.Binary;
using Microsoft.Extensions.Time.Testing;
using Sfu.Media.Sctp;

namespace Sfu.Fuzz.Targets;

/// <summary>
/// SCTP packets into an established association (the server's side of a data channel transport), with messages of
/// its own in flight so that SACKs, gap blocks, FORWARD-TSN and stream resets meet real state. The input is a
/// sequence of packets (<see cref="Datagrams"/>): each goes in once as it is (mostly refused by the checksum) and
/// once with the association's ports, verification tag and checksum put right, so the fuzzer reaches the chunks.
/// Tags and TSNs are fixed: the peer's DATA starts at TSN 1000, the association's own at 5000, its tag is 0x0B0B0B0B.
/// Afterwards the two ends talk until quiet, and the send buffer's bound must have held.
/// </summary>
public sealed class SctpTarget : FuzzTarget
{
    public const uint ServerTag = 0x0B0B0B0B;
    private static readonly SctpAssociationOptions Options = new() { MaxSendBufferBytes = 64 * 1024, MaxReceiveBufferBytes = 256 * 1024 };

    public override void Execute(ReadOnlySpan<byte> input)
    {
        var clock = new FakeTimeProvider();
        var pair = new Pair();
        uint[] clientValues = [0x0A0A0A0A, 1000];
        uint[] serverValues = [ServerTag, 5000];
        int clientNext = 0, serverNext = 0;
        var client = new SctpAssociation(Options, pair.ToServer, clock, () => clientValues[clientNext++ % 2]);
        var server = new SctpAssociation(Options, pair.ToClient, clock, () => serverValues[serverNext++ % 2]);
        pair.Connect(client, server);
        client.Connect();
        pair.RunUntilQuiet();
        for (int i = 0; i < 4; i++)
        {
            server.Send((ushort)(i % 2), 53, new byte[1500 * i + 10], new SctpSendOptions(Unordered: i == 3, MaxRetransmits: i >= 2 ? 1 : null));
        }

        pair.DropServerOutput();
        byte[] packet = new byte[ushort.MaxValue];
        foreach (var datagram in new Datagrams(input))
        {
            server.HandlePacket(datagram);
            if (datagram.Length >= SctpPacketReader.HeaderLength + 4)
            {
                Span<byte> fixedUp = packet.AsSpan(0, datagram.Length);
                datagram.CopyTo(fixedUp);
                BinaryPrimitives.WriteUInt16BigEndian(fixedUp, Options.Port);
                BinaryPrimitives.WriteUInt16BigEndian(fixedUp[2..], Options.Port);
                if (fixedUp[SctpPacketReader.HeaderLength] != (byte)SctpChunkType.Init)
                {
                    BinaryPrimitives.WriteUInt32BigEndian(fixedUp[4..], ServerTag);
                }

                SctpChecksum.Write(fixedUp);
                server.HandlePacket(fixedUp);
            }

            clock.Advance(TimeSpan.FromMilliseconds(300));
            server.HandleTimeout();
        }

        pair.DropServerOutput();
        for (int i = 0; i < 20 && server.NextTimeout is { } next; i++)
        {
            clock.SetUtcNow(next > clock.GetUtcNow() ? next : clock.GetUtcNow());
            server.HandleTimeout();
            client.HandleTimeout();
            pair.RunUntilQuiet();
        }

        if (server.BufferedAmount < 0 || server.BufferedAmount > Options.MaxSendBufferBytes)
        {
            throw new InvalidOperationException($"send buffer accounting broke: {server.BufferedAmount} bytes");
        }
    }

    /// <summary>Carries packets between the two ends, in order, synchronously.</summary>
    private sealed class Pair
    {
        private readonly Queue<(bool ToServer, byte[] Packet)> _queue = new();
        private SctpAssociation? _client;
        private SctpAssociation? _server;

        public Pair()
        {
            ToServer = new Endpoint(this, toServer: true);
            ToClient = new Endpoint(this, toServer: false);
        }

        public Endpoint ToServer { get; }

        public Endpoint ToClient { get; }

        public void Connect(SctpAssociation client, SctpAssociation server) => (_client, _server) = (client, server);

        public void DropServerOutput() => _queue.Clear();

        public void RunUntilQuiet()
        {
            for (int i = 0; i < 10_000 && _queue.TryDequeue(out var item); i++)
            {
                (item.ToServer ? _server : _client)!.HandlePacket(item.Packet);
            }
        }

        internal sealed class Endpoint(Pair pair, bool toServer) : ISctpAssociationListener
        {
            public void SendSctpPacket(ReadOnlySpan<byte> packet) => pair._queue.Enqueue((toServer, packet.ToArray()));

            public void OnSctpMessage(ushort stream, uint ppid, ReadOnlySpan<byte> payload)
            {
            }

            public void OnSctpEstablished()
            {
            }

            public void OnSctpIncomingStreamsReset(ReadOnlySpan<ushort> streams)
            {
            }

            public void OnSctpClosed(string reason)
            {
            }
        }
    }
}
