// Data tracks in the SDK: publishData opens a channel on the publish connection and negotiates once; send() goes
// through the current channel; a server-opened channel on the subscribe connection surfaces as data-track and data.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SfuClient } from '../sfu-client.js';
import { FakePeerConnection, flush, joinedWith } from './fakes.js';

function joined(t) {
  return joinedWith(t, SfuClient, [{ peerId: 'bob', name: 'Bob', tracks: [{ trackId: 'bob/publish:1', kind: 'data', label: 'chat', ordered: true }] }], { name: 'Ada' });
}

test('publishData opens a channel with the options on the publish connection, negotiates once, and sends when open', async t => {
  const { client, server, socket } = await joined(t);

  const publishing = client.publishData('chat');
  await flush();
  server.respond(socket, socket.last('publish'), { sdp: 'answer', tracks: [] });
  const chat = await publishing;
  const pc = FakePeerConnection.created[0];
  assert.equal(pc.dataChannels.length, 1);
  assert.equal(pc.dataChannels[0].label, 'chat');
  assert.deepEqual(pc.dataChannels[0].options, { ordered: true });
  assert.throws(() => chat.send('early'), /not open/);

  pc.dataChannels[0].open();
  chat.send('hello');
  assert.deepEqual(pc.dataChannels[0].sent, ['hello']);

  // A second channel opens in-band on the same association: no new offer.
  const fast = await client.publishData('fast', { ordered: false, maxRetransmits: 0 });
  assert.equal(socket.requests('publish').length, 1);
  assert.deepEqual(pc.dataChannels[1].options, { ordered: false, maxRetransmits: 0 });
  assert.equal(fast.label, 'fast');
});

test('publishData refuses both reliability limits at once', async t => {
  const { client } = await joined(t);
  await assert.rejects(async () => client.publishData('x', { maxRetransmits: 1, maxPacketLifeTime: 100 }), /exclude each other/);
});

test('a server-opened channel on the subscribe connection is a data track of its publisher; its messages are data events', async t => {
  const { client, server, socket } = await joined(t);
  const tracks = [];
  const messages = [];
  client.on('data-track', detail => tracks.push(detail));
  client.on('data', detail => messages.push(detail));

  server.event(socket, 'subscribe-offer', { sdp: 'offer', version: 1 });
  await flush();
  const pc = FakePeerConnection.created.find(p => p.ondatachannel);
  const channel = pc.remoteDataChannel('chat', 'bob/publish:1');
  channel.receive('hi');
  channel.receive('there');

  assert.deepEqual(tracks.map(({ trackId, peerId, label }) => ({ trackId, peerId, label })), [{ trackId: 'bob/publish:1', peerId: 'bob', label: 'chat' }]);
  assert.equal(tracks[0].channel, channel);
  assert.deepEqual(messages.map(m => [m.peerId, m.label, m.data]), [['bob', 'chat', 'hi'], ['bob', 'chat', 'there']]);
});
