// The SDK's session state machine against a fake socket and fake time: join, pings, resume after a drop,
// backoff, close codes, requests repeated after resume, session_expired, and the media API's bookkeeping.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SfuClient, SfuError } from '../sfu-client.js';
import { FakeWebSocket, FakeServer, FakePeerConnection, fakeTrack, fakeStream, flush, useFakeEnvironment } from './fakes.js';

function newClient(options = {}) {
  const client = new SfuClient('ws://sfu.test/ws', { room: 'r', name: 'Ada', WebSocket: FakeWebSocket, ...options });
  const states = [];
  client.on('state', ({ state, reason }) => states.push([state, reason]));
  return { client, states };
}

const lastSocket = () => FakeWebSocket.created[FakeWebSocket.created.length - 1];

/** A client joined through the fake server: returns it with its socket. */
async function joined(options = {}, joinFields = {}) {
  const { client, states } = newClient(options);
  const server = new FakeServer();
  const joining = client.join();
  await flush();
  const socket = lastSocket();
  socket.open();
  await flush();
  server.acceptJoin(socket, joinFields);
  await joining;
  return { client, states, server, socket };
}

/** Drops the socket and answers the resume on the next one. */
async function dropAndResume({ client, server, socket }, code = 1006) {
  socket.drop(code);
  await flush();
  const next = lastSocket();
  assert.notEqual(next, socket, 'a new socket after the drop');
  next.open();
  await flush();
  server.acceptResume(next);
  await flush();
  assert.equal(client.state, 'connected');
  return next;
}

test('join: opens an sfu.v1 socket, sends join with room and name, and is connected (join-success)', async t => {
  useFakeEnvironment(t);
  const { client, states } = newClient();
  const joining = client.join();
  await flush();
  const socket = lastSocket();
  assert.equal(socket.url, 'ws://sfu.test/ws');
  assert.equal(socket.protocol, 'sfu.v1');
  socket.open();
  await flush();
  const join = socket.last('join');
  assert.deepEqual({ room: join.room, name: join.name, autoSubscribe: join.autoSubscribe }, { room: 'r', name: 'Ada', autoSubscribe: true });

  new FakeServer().acceptJoin(socket, { peerId: 'p-ada', sessionId: 'sess' });
  const result = await joining;

  assert.equal(result.peerId, 'p-ada');
  assert.equal(client.peerId, 'p-ada');
  assert.equal(client.sessionId, 'sess');
  assert.equal(client.lastSeq, 1);
  assert.deepEqual(states, [['connecting', null], ['connected', 'join-success']]);
});

test('pings every pingIntervalMs carry the highest seq seen', async t => {
  const time = useFakeEnvironment(t);
  const { server, socket } = await joined();
  server.event(socket, 'peer-joined', { peer: { peerId: 'bob', name: 'Bob', tracks: [] } });

  await time.tick(1000);
  assert.deepEqual(socket.requests('ping').map(p => p.lastSeq), [2]);
  await time.tick(1000);
  assert.equal(socket.requests('ping').length, 2);
});

test('a message with a seq already seen is handled once', async t => {
  useFakeEnvironment(t);
  const { client, socket } = await joined();
  const joinedPeers = [];
  client.on('peer-joined', ({ peer }) => joinedPeers.push(peer.peerId));
  const event = { type: 'event', seq: 2, event: 'peer-joined', peer: { peerId: 'bob', name: 'Bob', tracks: [] } };

  socket.receive(event);
  socket.receive(event);

  assert.deepEqual(joinedPeers, ['bob']);
  assert.equal(client.lastSeq, 2);
});

test('a dropped socket: reconnecting (interrupted), then resume with lastSeq on a new socket, then rejoin-success', async t => {
  useFakeEnvironment(t);
  const session = await joined();
  const { client, states, server, socket } = session;
  server.event(socket, 'peer-joined', { peer: { peerId: 'bob', name: 'Bob', tracks: [] } });

  socket.drop(1006);
  await flush();
  assert.deepEqual(states.at(-1), ['reconnecting', 'interrupted']);
  const next = lastSocket();
  next.open();
  await flush();

  const resume = next.last('resume');
  assert.deepEqual({ sessionId: resume.sessionId, resumeToken: resume.resumeToken, lastSeq: resume.lastSeq }, { sessionId: 's1', resumeToken: 't1', lastSeq: 2 });
  assert.equal(next.requests('join').length, 0, 'the session is resumed, not joined again');
  server.acceptResume(next);
  await flush();
  assert.deepEqual(states.at(-1), ['connected', 'rejoin-success']);
  assert.equal(client.sessionId, 's1');
  assert.deepEqual(client.peers.map(p => p.peerId), ['bob'], 'the room as it was');
});

test('reconnect attempts back off exponentially with jitter bounds, up to backoffMaxMs; lost after 10 s', async t => {
  const time = useFakeEnvironment(t);
  const { states, socket } = await joined();
  socket.drop(1006);
  await flush();

  // Every attempt fails to connect; with Math.random() fixed at 0.5 the delays are the nominal ones.
  const started = [];
  while (started.length < 9) {
    while (FakeWebSocket.created.length === started.length + 1) await time.tick(50);
    started.push(lastSocket().createdAt);
    lastSocket().fail();
    await flush();
  }
  const delays = started.slice(1).map((at, i) => at - started[i]);

  assert.deepEqual(delays.slice(0, 8), [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
  assert.equal(started[0], 0, 'the first attempt is immediate');
  assert.ok(states.some(([state, reason]) => state === 'reconnecting' && reason === 'lost'));
  assert.equal(socket.closedWith, null, 'a dropped socket is not closed again by the client');
});

test('the network coming back (online) cuts a backoff short: reason network-changed, next attempt at once', async t => {
  const time = useFakeEnvironment(t);
  globalThis.window = new EventTarget();
  t.after(() => { delete globalThis.window; });
  const { states, socket } = await joined();
  socket.drop(1006);
  await flush();
  // Five attempts fail as they start; the wait after the fifth is 4 s: stop one second into it.
  for (let attempt = 1; attempt <= 5; attempt++) {
    while (FakeWebSocket.created.length === attempt) await time.tick(50);
    lastSocket().fail();
    await flush();
  }
  await time.tick(1000);
  const attempts = FakeWebSocket.created.length;
  assert.equal(attempts, 6, 'still waiting');

  window.dispatchEvent(new Event('online'));
  await flush();

  assert.deepEqual(states.at(-1), ['reconnecting', 'network-changed']);
  assert.equal(FakeWebSocket.created.length, attempts + 1, 'a new attempt without waiting out the backoff');
});

test('a server silent for interruptedAfterMs is given up: the socket is closed with 3000, never 1000, and the session resumed', async t => {
  const time = useFakeEnvironment(t);
  const { states, socket } = await joined();

  await time.tick(4500);

  assert.deepEqual(states.at(-1), ['reconnecting', 'interrupted']);
  assert.equal(socket.closedWith.code, 3000, 'the server keeps a session whose socket did not close normally');
  lastSocket().open();
  await flush();
  assert.equal(lastSocket().requests('resume').length, 1);
});

for (const [code, state, reason] of [
  [1000, 'disconnected', 'leave'],
  [4010, 'disconnected', 'kicked'],
  [4011, 'disconnected', 'room-closed'],
  [4003, 'failed', 'token-expired'],
  [4001, 'failed', 'superseded'],
]) {
  test(`close ${code} ends the session: ${state} (${reason}), no reconnect`, async t => {
    const time = useFakeEnvironment(t);
    const { states, socket } = await joined();

    socket.drop(code);
    await time.tick(30_000, 1000);

    assert.deepEqual(states.at(-1), [state, reason]);
    assert.equal(FakeWebSocket.created.length, 1, 'no new socket');
  });
}

test('close 4004 (session expired): joins again at once on a new socket', async t => {
  useFakeEnvironment(t);
  const { client, states, server, socket } = await joined();

  socket.drop(4004);
  await flush();
  const next = lastSocket();
  next.open();
  await flush();

  assert.equal(next.requests('resume').length, 0);
  server.acceptJoin(next, { sessionId: 's2', resumeToken: 't2' });
  await flush();
  assert.equal(client.sessionId, 's2');
  assert.deepEqual(states.at(-1), ['connected', 'rejoin-success']);
});

test('requests unanswered when the socket dropped go again after resume with the same id; pings do not', async t => {
  const time = useFakeEnvironment(t);
  const session = await joined();
  const { server, socket } = session;
  await time.tick(1000);
  const answered = session.client.request('candidate', { transport: 'publish', candidate: {} });
  await flush();
  const first = socket.last('candidate');

  const next = await dropAndResume(session);

  const repeated = next.requests('candidate');
  assert.deepEqual(repeated.map(r => r.id), [first.id], 'sent again, with the same id');
  assert.equal(next.requests('ping').length, 0, 'a stale ping is worthless');
  server.respond(next, repeated[0]);
  assert.equal((await answered).ok, true);
});

test('requests made while the socket is down wait, and go out once resumed', async t => {
  useFakeEnvironment(t);
  const session = await joined();
  session.socket.drop(1006);
  await flush();
  const answered = session.client.request('unpublish', { trackId: 'x' });
  await flush();
  const next = lastSocket();
  next.open();
  await flush();
  assert.equal(next.requests('unpublish').length, 0, 'not before the resume is answered');

  session.server.acceptResume(next);
  await flush();
  session.server.respond(next, next.last('unpublish'));
  assert.equal((await answered).ok, true);
});

test('session_expired in answer to resume: joins again at once, and requests of the old session fail with session_expired', async t => {
  useFakeEnvironment(t);
  const { client, states, server, socket } = await joined();
  const orphan = client.request('unpublish', { trackId: 'x' }).then(() => null, error => error);
  await flush();
  socket.drop(1006);
  await flush();
  const resumeSocket = lastSocket();
  resumeSocket.open();
  await flush();

  server.refuse(resumeSocket, resumeSocket.last('resume'), 'session_expired', { numbered: false });
  await flush();

  const error = await orphan;
  assert.ok(error instanceof SfuError && error.code === 'session_expired', String(error));
  const joinSocket = lastSocket();
  assert.notEqual(joinSocket, resumeSocket);
  assert.equal(joinSocket.createdAt, resumeSocket.createdAt, 'no backoff before joining again');
  joinSocket.open();
  await flush();
  assert.equal(joinSocket.last('join').room, 'r');
  server.acceptJoin(joinSocket, { sessionId: 's2', resumeToken: 't2' });
  await flush();
  assert.deepEqual(states.at(-1), ['connected', 'rejoin-success']);
  assert.equal(client.sessionId, 's2');
});

test('a join the server refuses fails at once (join-failed), and join() works again afterwards', async t => {
  useFakeEnvironment(t);
  const { client, states } = newClient();
  const server = new FakeServer();
  const joining = client.join();
  await flush();
  lastSocket().open();
  await flush();
  server.refuse(lastSocket(), lastSocket().last('join'), 'room_full', { numbered: false });

  await assert.rejects(joining, /join ended failed \(join-failed\)/);
  assert.deepEqual(states.at(-1), ['failed', 'join-failed']);

  const again = client.join();
  await flush();
  lastSocket().open();
  await flush();
  server.acceptJoin(lastSocket());
  await again;
  assert.equal(client.state, 'connected');
});

test('an unreachable server keeps the first join connecting and retrying', async t => {
  const time = useFakeEnvironment(t);
  const { client, states } = newClient();
  const joining = client.join();
  await flush();
  for (let i = 0; i < 3; i++) {
    lastSocket().fail();
    await time.tick(2000);
  }
  assert.equal(FakeWebSocket.created.length, 4);
  assert.deepEqual(states, [['connecting', null]]);

  lastSocket().open();
  await flush();
  new FakeServer().acceptJoin(lastSocket());
  await joining;
  assert.deepEqual(states.at(-1), ['connected', 'join-success']);
});

test('leave sends leave, closes with 1000 and ends disconnected (leave)', async t => {
  useFakeEnvironment(t);
  const { client, states, server, socket } = await joined();
  const leaving = client.leave();
  await flush();
  server.respond(socket, socket.last('leave'));
  await leaving;

  assert.equal(socket.closedWith.code, 1000);
  assert.deepEqual(states.at(-1), ['disconnected', 'leave']);
});

test('subscribe and unsubscribe send the track ids', async t => {
  useFakeEnvironment(t);
  const { client, server, socket } = await joined({ autoSubscribe: false });
  assert.equal(socket.last('join').autoSubscribe, false);

  const subscribed = client.subscribe(['bob:0', 'bob:1']);
  await flush();
  assert.deepEqual(socket.last('subscribe').trackIds, ['bob:0', 'bob:1']);
  server.respond(socket, socket.last('subscribe'));
  await subscribed;
  const unsubscribed = client.unsubscribe(new Set(['bob:1']));
  await flush();
  assert.deepEqual(socket.last('unsubscribe').trackIds, ['bob:1']);
  server.refuse(socket, socket.last('unsubscribe'), 'not_found');
  await assert.rejects(unsubscribed, error => error.code === 'not_found');
});

test('peer-state marks a peer interrupted and active again', async t => {
  useFakeEnvironment(t);
  const { client, server, socket } = await joined({}, { peers: [{ peerId: 'bob', name: 'Bob', tracks: [] }] });
  const seen = [];
  client.on('peer-state', ({ peerId, state }) => seen.push([peerId, state]));
  assert.equal(client.peers[0].state, 'active');

  server.event(socket, 'peer-state', { peerId: 'bob', state: 'interrupted' });
  assert.equal(client.peers[0].state, 'interrupted');
  server.event(socket, 'peer-state', { peerId: 'bob', state: 'active' });

  assert.equal(client.peers[0].state, 'active');
  assert.deepEqual(seen, [['bob', 'interrupted'], ['bob', 'active']]);
});

test('track-removed for an unpublished track and for every track of a peer that left', async t => {
  useFakeEnvironment(t);
  const tracks = [{ trackId: 'bob:0', kind: 'audio', mid: '0' }, { trackId: 'bob:1', kind: 'video', mid: '1' }];
  const { client, server, socket } = await joined({}, { peers: [{ peerId: 'bob', name: 'Bob', tracks }] });
  server.event(socket, 'peer-joined', { peer: { peerId: 'cy', name: 'Cy', tracks: [] } });
  server.event(socket, 'track-published', { peerId: 'cy', track: { trackId: 'cy:0', kind: 'video', mid: '0' } });
  const removed = [];
  client.on('track-removed', ({ peerId, trackId }) => removed.push(`${peerId}/${trackId}`));

  server.event(socket, 'track-unpublished', { peerId: 'bob', trackId: 'bob:0' });
  server.event(socket, 'peer-left', { peerId: 'cy', reason: 'leave' });

  assert.deepEqual(removed, ['bob/bob:0', 'cy/cy:0']);
  assert.deepEqual(client.peers.map(p => [p.peerId, p.tracks.map(t => t.trackId)]), [['bob', ['bob:1']]]);
});

/** Publishes a microphone and a camera through the fake server; returns the published tracks. */
async function publishMicAndCamera({ client, server, socket }, peerId = 'ada') {
  const mic = fakeTrack('audio');
  const camera = fakeTrack('video');
  const publishing = client.publish(fakeStream(mic, camera));
  await flush();
  server.respond(socket, socket.last('publish'), {
    sdp: 'answer',
    tracks: [{ trackId: `${peerId}:0`, kind: 'audio', mid: '0' }, { trackId: `${peerId}:1`, kind: 'video', mid: '1' }],
  });
  return { published: await publishing, mic, camera };
}

test('publish resolves with a published track per track, named by the ids of the publish response', async t => {
  useFakeEnvironment(t);
  const session = await joined();
  const { published, mic, camera } = await publishMicAndCamera(session);

  assert.deepEqual(published.map(p => [p.trackId, p.kind]), [['ada:0', 'audio'], ['ada:1', 'video']]);
  assert.equal(published[0].track, mic);
  assert.equal(published[1].track, camera);
  const [pc] = FakePeerConnection.created;
  assert.deepEqual(pc.transceivers.map(t => t.direction), ['sendonly', 'sendonly']);
  assert.deepEqual(session.client.publishedTracks, published);
});

test('mute and unmute switch the sent track off and on; replaceTrack sends another device, muted state kept', async t => {
  useFakeEnvironment(t);
  const session = await joined();
  const { published: [, camera] } = await publishMicAndCamera(session);
  const [pc] = FakePeerConnection.created;

  camera.mute();
  assert.equal(camera.muted, true);
  assert.equal(camera.track.enabled, false);
  const other = fakeTrack('video', 'usb-camera');
  await camera.replaceTrack(other);

  assert.equal(pc.transceivers[1].sender.track, other, 'the sender sends the new camera');
  assert.equal(camera.track, other);
  assert.equal(other.enabled, false, 'still muted');
  assert.equal(pc.offers.length, 1, 'no renegotiation for a device switch');
  camera.unmute();
  assert.equal(other.enabled, true);
  await assert.rejects(camera.replaceTrack(fakeTrack('audio')), TypeError);
});

test('stop unpublishes the track and renegotiates it inactive, so no later offer carries it', async t => {
  useFakeEnvironment(t);
  const session = await joined();
  const { server, socket } = session;
  const { published: [mic] } = await publishMicAndCamera(session);
  const [pc] = FakePeerConnection.created;

  const stopping = mic.stop();
  await flush();
  assert.equal(socket.last('unpublish').trackId, 'ada:0');
  server.respond(socket, socket.last('unpublish'));
  await flush();
  server.respond(socket, socket.last('publish'), { sdp: 'answer', tracks: [{ trackId: 'ada:1', kind: 'video', mid: '1' }] });
  await stopping;

  assert.equal(pc.transceivers[0].direction, 'inactive');
  assert.equal(pc.transceivers[0].sender.track, null);
  assert.match(pc.offers[1].sdp, /mid:0 inactive/);
  assert.deepEqual(session.client.publishedTracks.map(p => p.trackId), ['ada:1']);
  assert.equal(mic.stopped, true);
});

test('after a re-join the same tracks are published again on a new connection, under their new ids', async t => {
  useFakeEnvironment(t);
  const session = await joined();
  const { client, server, socket } = session;
  const { published } = await publishMicAndCamera(session);
  socket.drop(4004);
  await flush();
  const next = lastSocket();
  next.open();
  await flush();
  server.acceptJoin(next, { sessionId: 's2', resumeToken: 't2', peerId: 'ada2' });
  await flush();

  server.respond(next, next.last('publish'), {
    sdp: 'answer', tracks: [{ trackId: 'ada2:0', kind: 'audio', mid: '0' }, { trackId: 'ada2:1', kind: 'video', mid: '1' }],
  });
  await flush();

  assert.equal(FakePeerConnection.created.length, 2);
  assert.equal(FakePeerConnection.created[0].closed, true, 'the old connection belonged to the old session');
  assert.deepEqual(FakePeerConnection.created[1].transceivers.map(t => t.sender.track), published.map(p => p.track));
  assert.deepEqual(published.map(p => p.trackId), ['ada2:0', 'ada2:1']);
  assert.deepEqual(client.publishedTracks, published);
});

test('quality: lost while reconnecting, from the statistics otherwise', async t => {
  const time = useFakeEnvironment(t);
  const session = await joined();
  const samples = [];
  session.client.on('quality', q => samples.push(q));
  await publishMicAndCamera(session);
  const [pc] = FakePeerConnection.created;
  pc.connectionState = 'connected';
  pc.stats = new Map([
    ['T', { id: 'T', type: 'transport', selectedCandidatePairId: 'P' }],
    ['P', { id: 'P', type: 'candidate-pair', currentRoundTripTime: 0.05 }],
    ['R', { id: 'R', type: 'remote-inbound-rtp', fractionLost: 0.01 }],
  ]);

  await time.tick(2000);
  assert.deepEqual(samples.at(-1), { quality: 'good', packetLoss: 0.01, rttMs: 50, transport: 'publish' });
  pc.stats.get('P').currentRoundTripTime = 0.6;
  await time.tick(2000);
  assert.equal(samples.at(-1).quality, 'poor');

  session.socket.drop(1006);
  await time.tick(2000);
  assert.equal(samples.at(-1).quality, 'lost');
  assert.equal(session.client.quality.quality, 'lost');
});

const turn = [{ urls: ['turn:192.0.2.7:3478?transport=tcp'], username: '1767225600:ada', credential: 'c2VjcmV0' }];

test('the TURN servers of the join response go into both connections; the application\'s own iceServers win', async t => {
  useFakeEnvironment(t);
  const { client, server, socket } = await joined();
  const session = { client, server, socket };
  // joined() answered without iceServers: nothing is added.
  await publishMicAndCamera(session);
  assert.equal(FakePeerConnection.created[0].configuration.iceServers, undefined);

  FakePeerConnection.created = [];
  const withTurn = await joined({}, { iceServers: turn });
  await publishMicAndCamera(withTurn);
  assert.deepEqual(FakePeerConnection.created[0].configuration.iceServers, turn);
  assert.equal(FakePeerConnection.created[0].configuration.bundlePolicy, 'max-bundle');

  FakePeerConnection.created = [];
  const own = [{ urls: 'stun:stun.example.org' }];
  const overridden = await joined({ rtcConfiguration: { iceServers: own } }, { iceServers: turn });
  await publishMicAndCamera(overridden);
  assert.deepEqual(FakePeerConnection.created[0].configuration.iceServers, own);
});

test('ICE disconnected for iceDisconnectedRestartMs restarts ICE; back to connected sooner does not; failed restarts at once', async t => {
  const time = useFakeEnvironment(t);
  const session = await joined();
  await publishMicAndCamera(session);
  const [pc] = FakePeerConnection.created;
  const restarts = () => pc.offers.filter(o => o.iceRestart).length;

  // The server answers pings meanwhile, so the session itself stays connected.
  const answerPing = () => session.server.respond(session.socket, session.socket.last('ping'));
  pc.iceState('disconnected');
  await time.tick(1500);
  answerPing();
  pc.iceState('connected');
  await time.tick(1500);
  answerPing();
  await flush();
  assert.equal(restarts(), 0, 'a short disconnection is left to the browser');

  pc.iceState('disconnected');
  await time.tick(1999);
  answerPing();
  await flush();
  assert.equal(restarts(), 0);
  await time.tick(1);
  await flush();
  assert.equal(restarts(), 1, 'disconnected for 2 s: ICE restart with a new publish offer');
  assert.equal(session.socket.requests('publish').length, 2);
  session.server.respond(session.socket, session.socket.last('publish'), { sdp: 'answer', tracks: [] });
  await flush();

  pc.iceState('failed');
  await flush();
  assert.equal(restarts(), 2, 'failed: restarted at once');
});
