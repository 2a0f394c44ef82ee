// Compiled by `tsc --noEmit` (test/package.test.js): how a TypeScript application uses the SDK. A wrong type in
// sfu-client.d.ts makes this fail to compile; the @ts-expect-error lines make sure the types are not too loose.

import { SfuClient, SfuError, State, Quality, type PublishedTrack, type ConnectionQuality, type Peer } from '@sfu/client';

async function call(camera: MediaStream, otherCamera: MediaStreamTrack): Promise<void> {
  const client = new SfuClient('wss://sfu.example/ws', { room: 'demo', name: 'Ada', autoSubscribe: false });

  const off = client.on('state', ({ state, reason }) => {
    if (state === State.reconnecting && reason === 'lost') console.log('still trying');
  });
  client.on('peer-state', ({ peerId, state }) => console.log(peerId, state === 'interrupted'));
  client.on('track', ({ track, peerId, kind }) => console.log(track.id, peerId ?? 'unknown', kind));
  client.on('track-removed', ({ peerId, trackId }) => console.log(peerId, trackId));
  client.on('layer', ({ trackId, layer }) => console.log(trackId, layer.paused ? 'paused' : `${layer.quality} (${layer.index} of ${layer.count})`));
  client.on('quality', (q: ConnectionQuality) => console.log(q.quality === Quality.poor, q.packetLoss ?? 0, q.rttMs));
  // @ts-expect-error: no such event
  client.on('peer-joinned', () => {});

  const joined = await client.join();
  const peers: Peer[] = client.peers;
  console.log(joined.peerId, joined.room.peers.length, peers.map(p => p.name));

  const published: PublishedTrack[] = await client.publish(camera);
  const video = published.find(p => p.kind === 'video');
  video?.mute();
  await video?.replaceTrack(otherCamera);
  video?.unmute();
  const layers = await video?.getSendingLayers();
  console.log(layers?.map(l => `${l.rid}: ${l.width}x${l.height}`));
  const id: string | null = published[0].trackId;
  // @ts-expect-error: trackId is read-only
  published[0].trackId = 'mine';
  await published[0].stop();

  const chat = await client.publishData('chat');
  if (chat.isOpen && chat.bufferedAmount < 65536) chat.send('hello');
  const fast = await client.publishData('cursor', { ordered: false, maxRetransmits: 0 });
  fast.close();
  client.on('data', ({ peerId, label, data }) => console.log(peerId, label, typeof data === 'string' ? data : data.byteLength));
  client.on('data-track', ({ trackId, channel }) => console.log(trackId, channel.readyState));
  for (const track of peers.flatMap(p => p.tracks)) if (track.kind === 'data') console.log(track.label, track.ordered);
  // @ts-expect-error: a reliability limit is a number
  await client.publishData('x', { maxRetransmits: 'none' });

  await client.subscribe(peers.flatMap(p => p.tracks.map(t => t.trackId)));
  await client.unsubscribe(new Set([id ?? '']));
  const remote = client.remoteTracks.find(r => r.kind === 'video');
  if (remote?.trackId) await client.setTrackPreferences(remote.trackId, { maxWidth: 320, maxHeight: 180 });
  // @ts-expect-error: the layer is the server's to say
  if (remote) remote.layer = remote.layer;
  // @ts-expect-error: not a preference
  await client.setTrackPreferences('t', { maxBitrate: 1 });
  try {
    await client.request('restart-ice', { transport: 'subscribe' });
  } catch (error) {
    if (error instanceof SfuError && error.code === 'not_found') console.log('no subscribe connection yet');
  }
  // @ts-expect-error: not a scenario
  await client.simulate('explode');
  off();
  await client.leave();
}

console.log(call);
