#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into fuzz/corpus/<target>/ from the project's own test data: RFC 5769
STUN vectors, the RTP and RTCP packets of the unit tests, the browser SDP captures in Sfu.Tests/Media/Sdp/Fixtures,
and signaling requests as PROTOCOL.md defines them. The dtls seeds are real handshake flights that
`dotnet Sfu.Fuzz.dll --capture-dtls <dir>` records between two of the project's DtlsTransports; run.sh regenerates
nothing, the files are committed."""
import json
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
FIXTURES = os.path.join(ROOT, "Sfu.Tests", "Media", "Sdp", "Fixtures")


def write(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def hexbytes(*parts):
    return bytes.fromhex("".join(parts))


def framed(*datagrams):
    """The multi-datagram format of the dtls and srtp targets: 2-byte big-endian length, then the bytes."""
    return b"".join(struct.pack(">H", len(d)) + d for d in datagrams)


# STUN: RFC 5769 section 2.1-2.3, byte for byte (Sfu.Tests/Media/Stun/Rfc5769Vectors.cs).
write("stun", "rfc5769-request", hexbytes(
    "00010058", "2112a442", "b7e7a701bc34d686fa87dfae", "80220010", "5354554e20746573742063", "6c69656e74",
    "00240004", "6e0001ff", "80290008", "932ff9b151263b36", "00060009", "6576746a3a68367659202020",
    "00080014", "9aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a2", "80280004", "e57a3bcf"))
write("stun", "rfc5769-ipv4-response", hexbytes(
    "0101003c", "2112a442", "b7e7a701bc34d686fa87dfae", "8022000b", "7465737420766563746f7220",
    "00200008", "0001a147e112a643", "00080014", "2b91f599fd9e90c38c7489f92af9ba53f06be7d7", "80280004", "c07d4c96"))
write("stun", "rfc5769-ipv6-response", hexbytes(
    "01010048", "2112a442", "b7e7a701bc34d686fa87dfae", "8022000b", "7465737420766563746f7220",
    "00200014", "0002a1470113a9faa5d3f179bc25f4b5bed2b9d9", "00080014", "a382954e4be67bf11784c97c8292c275bfe3ed41",
    "80280004", "c8fb0b4c"))

# RTP: the header shapes the media path meets, each with a payload that starts a keyframe of its codec.
vp8_key = hexbytes("9000", "9d012a") + b"\x00" * 8            # S=1 PID=0, frame tag P=0, start code
h264_idr = hexbytes("65", "888400") + b"\x00" * 8              # NAL type 5
one_byte_ext = hexbytes("bede0002", "22001234", "41020000")    # abs-send-time-like id 2, tw-seq id 4
two_byte_ext = hexbytes("10000002", "0303aabbcc00", "0000")
write("rtp", "vp8-keyframe-one-byte-ext", hexbytes("90600001", "00000064", "11111111") + one_byte_ext + vp8_key)
write("rtp", "h264-idr-two-byte-ext", hexbytes("90e00002", "000000c8", "22222222") + two_byte_ext + h264_idr)
write("rtp", "csrc-and-padding", hexbytes("a26f0003", "0000012c", "33333333", "00000001", "00000002") + b"opus" + hexbytes("000003"))
write("rtp", "vp9-keyframe", hexbytes("80620004", "00000190", "44444444", "88", "00") + b"\x00" * 6)
write("rtp", "av1-keyframe", hexbytes("80630005", "000001f4", "55555555", "18", "0a0b00000000") + b"\x00" * 4)

# RTCP: the packets of Sfu.Tests/Media/Rtcp/RtcpPacketTests.cs.
sr = hexbytes("81C8000C", "11111111", "E1B2C3D4", "80000000", "00001000", "00000064", "00002710",
              "22222222", "40", "FFFFFE", "00010005", "00000020", "B2C3D480", "00008000")
sdes = hexbytes("82CA0006", "00000001", "02026162", "01016300", "00000002", "0103", "78797A", "00", "0000")
pli = hexbytes("81CE0002", "00000001", "00000002")
write("rtcp", "sr-sdes-pli", sr + sdes + pli)
write("rtcp", "rr-bye", hexbytes("81C90007", "00001234", "22222222", "40FFFFFE", "00010005", "00000020", "B2C3D480", "00008000",
                                 "81CB0003", "00001234", "04627965", "00000000"))
write("rtcp", "nack-fir", hexbytes("81CD0004", "00000001", "00000002", "00640005", "FFFF0001",
                                   "84CE0004", "00000001", "00000000", "00000002", "07000000"))
write("rtcp", "remb", hexbytes("8FCE0005", "00000001", "00000000", "52454D42", "0103D090", "00000002"))
write("rtcp", "transport-cc", hexbytes("AFCD0007", "00000001", "00000002", "000A0005", "00000103", "2003", "E000",
                                       "040404", "0100", "000003"))

# twcc: the same feedback as the subscriber sends it, and schedules for the recorder (sequence step, arrival step in
# 10 µs units): in order with steady spacing, and one with reordering, a gap and a wrap of the sequence.
write("twcc", "feedback", hexbytes("AFCD0007", "00000001", "00000002", "000A0005", "00000103", "2003", "E000",
                                   "040404", "0100", "000003"))
write("twcc", "steady", b"".join(struct.pack(">bH", 1, 200) for _ in range(40)))
write("twcc", "reordered-gap-wrap", struct.pack(">bH", 1, 100) * 5 + struct.pack(">bH", 3, 50) + struct.pack(">bH", -1, 10)
      + struct.pack(">bH", 100, 6000) + struct.pack(">bH", -128, 5) + struct.pack(">bH", 127, 65535))

# sctp: packets from the data channel peer (the target puts ports, tag and checksum right); its DATA starts at TSN
# 1000, the server's own at 5000 (SctpTarget).
def chunk(kind, flags, value):
    return struct.pack(">BBH", kind, flags, 4 + len(value)) + value + b"\x00" * (-len(value) % 4)

def sctp(*chunks):
    return b"\x00" * 12 + b"".join(chunks)

def data(tsn, flags, stream, ssn, payload, ppid=51):
    return chunk(0, flags, struct.pack(">IHHI", tsn, stream, ssn, ppid) + payload)

sack = chunk(3, 0, struct.pack(">IIHHHHI", 5000, 65536, 1, 1, 2, 3, 4999))
write("sctp", "data-in-order", framed(sctp(data(1000, 3, 0, 0, b"hello")), sctp(data(1001, 3, 0, 1, b"world"), sack)))
write("sctp", "fragments-reordered", framed(sctp(data(1002, 1, 1, 0, b"end")), sctp(data(1000, 7, 2, 0, b"u")),
                                            sctp(data(1001, 2, 1, 0, b"begin"))))
write("sctp", "forward-tsn-reconfig", framed(sctp(data(1001, 3, 0, 1, b"later")),
                                             sctp(chunk(192, 0, struct.pack(">IHH", 1000, 0, 0))),
                                             sctp(chunk(130, 0, struct.pack(">HHIII", 13, 20, 1000, 4999, 1001) + struct.pack(">HH", 0, 1))),
                                             sctp(chunk(130, 0, struct.pack(">HHII", 16, 12, 5000, 1)))))
write("sctp", "control", framed(sctp(chunk(4, 0, struct.pack(">HH", 1, 8) + b"info")), sctp(chunk(0x40, 0, b""), chunk(0x80, 0, b"x")),
                                sctp(chunk(1, 0, struct.pack(">IIHHI", 7, 65536, 16, 16, 9))), sctp(chunk(10, 0, b"\x00" * 64)),
                                sctp(chunk(7, 0, struct.pack(">I", 999))), sctp(chunk(6, 0, b""))))

# SDP: real browser captures.
for fixture in ("chrome-sendonly", "chrome-simulcast", "firefox-simulcast", "safari-sendonly", "chrome-subscribe-answer"):
    with open(os.path.join(FIXTURES, fixture + ".sdp"), "rb") as f:
        write("sdp", fixture, f.read())

# SRTP: flag byte (bit 0 GCM, bit 1 RTCP, bit 2 protect first), then length-prefixed plain packets.
rtp1 = hexbytes("80600001", "00000064", "11111111") + b"\x01" * 40
rtp2 = hexbytes("80600002", "00000096", "11111111") + b"\x02" * 40
rtp_wrap = hexbytes("8060ffff", "00000096", "11111111") + b"\x03" * 20
write("srtp", "cm-rtp-protected", bytes([4]) + framed(rtp1, rtp2, rtp1, rtp_wrap, rtp2))
write("srtp", "gcm-rtp-protected", bytes([5]) + framed(rtp1, rtp2))
write("srtp", "cm-rtcp-protected", bytes([6]) + framed(sr + sdes, pli))
write("srtp", "gcm-rtcp-protected", bytes([7]) + framed(sr, sr))
write("srtp", "cm-rtp-forged", bytes([0]) + framed(rtp1 + b"\x00" * 10))

# Signaling: one JSON message per line, as a client sends them.
def lines(*messages):
    return "\n".join(json.dumps(m, separators=(",", ":")) for m in messages)

with open(os.path.join(FIXTURES, "chrome-sendonly.sdp")) as f:
    offer = f.read()
with open(os.path.join(FIXTURES, "chrome-subscribe-answer.sdp")) as f:
    answer = f.read()
join = {"id": 1, "type": "join", "room": "fuzz", "name": "f", "autoSubscribe": False}
write("signaling", "join-ping-leave", lines(join, {"id": 2, "type": "ping", "lastSeq": 1}, {"id": "x", "type": "leave"}))
write("signaling", "join-publish-unpublish", lines(join, {"id": 2, "type": "publish", "sdp": offer}, {"id": 3, "type": "unpublish", "trackId": "t"}))
write("signaling", "join-subscribe", lines(join, {"id": 2, "type": "subscribe", "trackIds": ["a", "b"]},
                                       {"id": 3, "type": "subscribe-answer", "sdp": answer, "version": 1},
                                       {"id": 4, "type": "unsubscribe", "trackIds": ["a"]}))
write("signaling", "join-ice", lines(join, {"id": 2, "type": "restart-ice", "transport": "subscribe"},
                                     {"id": 3, "type": "candidate", "transport": "publish",
                                      "candidate": {"candidate": "candidate:1 1 udp 2122260223 192.0.2.5 54321 typ host", "sdpMid": "0"}}))
write("signaling", "resume", lines({"id": 1, "type": "resume", "sessionId": "s-1", "resumeToken": "AAAA", "lastSeq": 3}))

# turn: what coturn sends a client on TCP (Sfu.Fuzz's TurnTarget puts its own transaction id in): a 401 with realm and
# nonce, a 438 with a new nonce, an Allocate success with XOR-RELAYED-ADDRESS, XOR-MAPPED-ADDRESS and LIFETIME, a Data
# indication, and ChannelData of odd length with its padding, two frames to a read.
def stun_message(message_type, *attributes):
    body = b"".join(struct.pack(">HH", t, len(v)) + v + b"\x00" * (-len(v) % 4) for t, v in attributes)
    return struct.pack(">HHI", message_type, len(body), 0x2112A442) + b"\x00" * 12 + body


def xor_address(ip, port):
    raw = bytes(int(part) for part in ip.split("."))
    return struct.pack(">BBH", 0, 1, port ^ 0x2112) + bytes(a ^ b for a, b in zip(raw, struct.pack(">I", 0x2112A442)))


unauthorized = stun_message(0x0113, (0x0009, struct.pack(">HBB", 0, 4, 1) + b"Unauthorized"), (0x0014, b"sfu.test"),
                            (0x0015, b"6d5f1c2ab0a94b6e"))
stale = stun_message(0x0113, (0x0009, struct.pack(">HBB", 0, 4, 38) + b"Stale Nonce"), (0x0015, b"0123456789abcdef"))
allocated = stun_message(0x0103, (0x0016, xor_address("127.0.0.3", 20001)), (0x0020, xor_address("127.0.0.1", 40000)),
                         (0x000D, struct.pack(">I", 600)), (0x0008, b"\x00" * 20))
indication = stun_message(0x0017, (0x0012, xor_address("192.0.2.10", 40000)), (0x0013, b"\x00\x01\x00\x00hello"))
channel_data = struct.pack(">HH", 0x4000, 5) + b"media" + b"\x00" * 3
write("turn", "unauthorized-then-stale", b"\x06" + unauthorized + stale)
write("turn", "allocated", b"\x00" + allocated)
write("turn", "indication-and-channel-data", b"\x02" + indication + channel_data + channel_data)
