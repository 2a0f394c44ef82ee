"""A WebRTC peer built on aiortc (a client nobody on this project wrote), driven over stdin/stdout by a test.

Modes:
  publish    prints {"offer": sdp}; reads {"answer": sdp}; sends a synthetic video (and audio) track.
  subscribe  reads {"offer": sdp} lines (each subscribe-offer); prints {"answer": sdp}; counts what arrives
             and prints {"video_frames": n, "audio_frames": m} about every half second.
Runs until stdin closes or the time limit (argv[2], seconds) passes.
"""
import asyncio
import json
import sys

import aioice.ice
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

# aioice leaves out loopback addresses when gathering; the test network is loopback only.
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]


def emit(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def read_message(reader):
    line = await reader.readline()
    if not line:
        return None
    return json.loads(line)


async def publish(reader, limit):
    pc = RTCPeerConnection()
    pc.addTrack(VideoStreamTrack())
    pc.addTrack(AudioStreamTrack())
    await pc.setLocalDescription(await pc.createOffer())
    emit({"offer": pc.localDescription.sdp})
    answer = await read_message(reader)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["answer"], type="answer"))
    emit({"state": "answered"})
    try:
        await asyncio.wait_for(reader.readline(), timeout=limit)
    except asyncio.TimeoutError:
        pass
    await pc.close()


async def subscribe(reader, limit):
    pc = RTCPeerConnection()
    counts = {"video_frames": 0, "audio_frames": 0}

    @pc.on("track")
    def on_track(track):
        key = "video_frames" if track.kind == "video" else "audio_frames"

        async def drain():
            while True:
                try:
                    await track.recv()
                except Exception:
                    return
                counts[key] += 1

        asyncio.ensure_future(drain())

    async def negotiate():
        while True:
            message = await read_message(reader)
            if message is None:
                return
            await pc.setRemoteDescription(RTCSessionDescription(sdp=message["offer"], type="offer"))
            await pc.setLocalDescription(await pc.createAnswer())
            emit({"answer": pc.localDescription.sdp})

    async def report():
        while True:
            await asyncio.sleep(0.5)
            emit(dict(counts))

    tasks = [asyncio.ensure_future(negotiate()), asyncio.ensure_future(report())]
    await asyncio.sleep(limit)
    for task in tasks:
        task.cancel()
    await pc.close()


async def main():
    mode, limit = sys.argv[1], float(sys.argv[2])
    loop = asyncio.get_event_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    await (publish(reader, limit) if mode == "publish" else subscribe(reader, limit))


asyncio.run(main())
