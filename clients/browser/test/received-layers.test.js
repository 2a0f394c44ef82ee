// The SDK's side of adaptive quality, against the fake server: cameras published as simulcast, the layer received
// of each remote track (the `layer` property and event, from `track-layer`), and `setTrackPreferences`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SfuClient } from '../sfu-client.js';
import { FakePeerConnection, fakeTrack, fakeStream, flush, joinedWith } from './fakes.js';

const BOB = {
  peerId: 'bob', name: 'Bob',
  tracks: [{ trackId: 'bob:0', kind: 'audio', mid: '0' }, { trackId: 'bob:1', kind: 'video', mid: '1', simulcast: ['q', 'h', 'f'] }],
};

/** A client joined to a room with Bob in it, through the fake server. */
function joinedWithBob(t, options = {}) {
  return joinedWith(t, SfuClient, [BOB], options);
}

/** Bob's tracks arrive on the subscribe connection the way a browser reports them (ontrack per transceiver). */
async function receiveBobsTracks({ client, server, socket }) {
  const sdp = 'm=audio\na=mid:0\na=msid:bob bob:0\nm=video\na=mid:1\na=msid:bob bob:1\n';
  server.event(socket, 'subscribe-offer', { sdp, version: 1 });
  await flush();
  server.respond(socket, socket.last('subscribe-answer'));
  const pc = client.subscribeConnection;
  const stream = { id: 'bob' };
  for (const [mid, kind] of [['0', 'audio'], ['1', 'video']]) {
    pc.ontrack({ transceiver: { mid }, track: { kind, id: `remote-${kind}` }, streams: [stream] });
  }
  await flush();
  return client.remoteTracks.find(r => r.kind === 'video');
}

test('a 640x480 camera is published as two simulcast layers, the microphone as one encoding', async t => {
  const { client } = await joinedWithBob(t);
  client.publish(fakeStream(fakeTrack('audio'), fakeTrack('video', 'cam', { width: 640, height: 480 })));
  await flush();

  const [mic, camera] = FakePeerConnection.created[0].transceivers;
  assert.equal(mic.sendEncodings, undefined);
  assert.deepEqual(camera.sendEncodings, [
    { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 200_000 },
    { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 700_000 },
  ]);
});

test('simulcast: false publishes the camera as one encoding', async t => {
  const { client } = await joinedWithBob(t, { simulcast: false });
  client.publish(fakeStream(fakeTrack('video', 'cam', { width: 1280, height: 720 })));
  await flush();
  assert.equal(FakePeerConnection.created[0].transceivers[0].sendEncodings, undefined);
});

test('simulcast given as encodings: the camera is published with those', async t => {
  const own = [{ rid: 'a', scaleResolutionDownBy: 3 }, { rid: 'b' }];
  const { client } = await joinedWithBob(t, { simulcast: own });
  client.publish(fakeStream(fakeTrack('video', 'cam', { width: 1280, height: 720 })));
  await flush();
  assert.deepEqual(FakePeerConnection.created[0].transceivers[0].sendEncodings, own);
});

test('getSendingLayers reads the video sender statistics of a published camera', async t => {
  const { client, server, socket } = await joinedWithBob(t);
  const publishing = client.publish(fakeStream(fakeTrack('video', 'cam', { width: 640, height: 480 })));
  await flush();
  server.respond(socket, socket.last('publish'), { sdp: 'answer', tracks: [{ trackId: 'ada:0', kind: 'video', mid: '0' }] });
  const [camera] = await publishing;
  FakePeerConnection.created[0].transceivers[0].sender.stats = new Map([
    ['f', { type: 'outbound-rtp', kind: 'video', rid: 'f', frameWidth: 640, frameHeight: 480, framesPerSecond: 30 }],
    ['h', { type: 'outbound-rtp', kind: 'video', rid: 'h', frameWidth: 320, frameHeight: 240, framesPerSecond: 30 }],
  ]);

  assert.deepEqual((await camera.getSendingLayers()).map(l => `${l.rid} ${l.width}x${l.height}`), ['h 320x240', 'f 640x480']);
});

test('a remote simulcast track: no layer until the server says, then the layer, paused and resumed, with a layer event each time', async t => {
  const session = await joinedWithBob(t);
  const video = await receiveBobsTracks(session);
  const events = [];
  session.client.on('layer', ({ trackId, kind, layer }) => events.push([trackId, kind, layer.paused ? 'paused' : layer.rid, layer.reason]));

  assert.equal(video.trackId, 'bob:1');
  assert.deepEqual(video.layer, { index: null, count: 3, paused: false, reason: null, rid: null, quality: null });

  session.server.event(session.socket, 'track-layer', { trackId: 'bob:1', paused: false, layer: 2, reason: 'bandwidth' });
  assert.deepEqual(video.layer, { index: 2, count: 3, paused: false, reason: 'bandwidth', rid: 'f', quality: 'high' }, 'the same object, live');
  session.server.event(session.socket, 'track-layer', { trackId: 'bob:1', paused: false, layer: 0, reason: 'bandwidth' });
  assert.equal(video.layer.quality, 'low');
  session.server.event(session.socket, 'track-layer', { trackId: 'bob:1', paused: true, reason: 'bandwidth' });
  assert.deepEqual(video.layer, { index: null, count: 3, paused: true, reason: 'bandwidth', rid: null, quality: null });
  session.server.event(session.socket, 'track-layer', { trackId: 'bob:1', paused: false, layer: 1, reason: 'bandwidth' });

  assert.deepEqual(events, [
    ['bob:1', 'video', 'f', 'bandwidth'], ['bob:1', 'video', 'q', 'bandwidth'], ['bob:1', 'video', 'paused', 'bandwidth'], ['bob:1', 'video', 'h', 'bandwidth'],
  ]);
  assert.equal(session.client.remoteTracks.find(r => r.trackId === 'bob:1').layer.quality, 'medium');
});

test('a remote SVC track has no rids: the layer count is the one the server sends', async t => {
  const session = await joinedWith(t, SfuClient, [{ ...BOB, tracks: [BOB.tracks[0], { trackId: 'bob:1', kind: 'video', mid: '1' }] }]);
  const video = await receiveBobsTracks(session);

  assert.deepEqual(video.layer, { index: 0, count: 1, paused: false, reason: null, rid: null, quality: 'high' }, 'one layer until the server says more');
  session.server.event(session.socket, 'track-layer', { trackId: 'bob:1', paused: false, layer: 1, layers: 3, reason: 'bandwidth' });
  assert.deepEqual(video.layer, { index: 1, count: 3, paused: false, reason: 'bandwidth', rid: null, quality: 'medium' });
  session.server.event(session.socket, 'track-layer', { trackId: 'bob:1', paused: false, layer: 2, layers: 3, reason: 'bandwidth' });
  assert.equal(video.layer.quality, 'high');
});

test('a remote track without simulcast is its only layer until paused', async t => {
  const session = await joinedWithBob(t);
  await receiveBobsTracks(session);
  const audio = session.client.remoteTracks.find(r => r.kind === 'audio');

  assert.deepEqual(audio.layer, { index: 0, count: 1, paused: false, reason: null, rid: null, quality: 'high' });
  session.server.event(session.socket, 'track-layer', { trackId: 'bob:0', paused: true, reason: 'cap' });
  assert.equal(audio.layer.paused, true);
  assert.equal(audio.layer.reason, 'cap');
});

test('an unpublished track forgets its layer, so a track published again under the same id starts afresh', async t => {
  const session = await joinedWithBob(t);
  const video = await receiveBobsTracks(session);
  session.server.event(session.socket, 'track-layer', { trackId: 'bob:1', paused: true, reason: 'bandwidth' });
  session.server.event(session.socket, 'track-unpublished', { peerId: 'bob', trackId: 'bob:1' });
  session.server.event(session.socket, 'track-published', { peerId: 'bob', track: BOB.tracks[1] });

  assert.equal(video.layer.paused, false);
  assert.equal(video.layer.index, null);
});

test('setTrackPreferences sends set-track-preferences with the track id; no preferences lift the limits', async t => {
  const { client, server, socket } = await joinedWithBob(t);

  const capped = client.setTrackPreferences('bob:1', { maxWidth: 320, maxHeight: 180, maxTemporalLayer: 1 });
  await flush();
  const request = socket.last('set-track-preferences');
  assert.deepEqual({ ...request, id: undefined }, { id: undefined, type: 'set-track-preferences', trackId: 'bob:1', maxWidth: 320, maxHeight: 180, maxTemporalLayer: 1 });
  server.respond(socket, request);
  await capped;

  const lifted = client.setTrackPreferences('bob:1');
  await flush();
  assert.deepEqual(Object.keys(socket.last('set-track-preferences')).sort(), ['id', 'trackId', 'type']);
  server.refuse(socket, socket.last('set-track-preferences'), 'not_found');
  await assert.rejects(lifted, error => error.code === 'not_found');
});
