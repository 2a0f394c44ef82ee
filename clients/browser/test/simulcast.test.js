// The simulcast layers a camera is published with, for capture sizes, and a sender's layers from its statistics.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simulcastEncodings, sendEncodingsFor, sendingLayers, maxBitrateFor, layerQuality } from '../simulcast.js';
import { fakeTrack } from './fakes.js';

const describe = encodings => encodings?.map(e => `${e.rid}/${e.scaleResolutionDownBy}@${e.maxBitrate / 1000}k`);

test('layers for the usual capture sizes: lowest first, those whose shorter side reaches 135 pixels', () => {
  assert.deepEqual(describe(simulcastEncodings(1920, 1080)), ['q/4@450k', 'h/2@1200k', 'f/1@5000k']);
  assert.deepEqual(describe(simulcastEncodings(1280, 720)), ['q/4@200k', 'h/2@700k', 'f/1@2500k']);
  assert.deepEqual(describe(simulcastEncodings(960, 540)), ['q/4@150k', 'h/2@450k', 'f/1@1200k']);
  assert.deepEqual(describe(simulcastEncodings(640, 480)), ['h/2@200k', 'f/1@700k']);
  assert.deepEqual(describe(simulcastEncodings(480, 640)), ['h/2@200k', 'f/1@700k'], 'portrait like landscape');
  assert.deepEqual(describe(simulcastEncodings(640, 360)), ['h/2@200k', 'f/1@700k']);
});

test('a small or unknown capture is sent as one encoding', () => {
  assert.equal(simulcastEncodings(320, 240), undefined);
  assert.equal(simulcastEncodings(480, 260), undefined, 'the half layer would be 130 high');
  assert.equal(simulcastEncodings(undefined, undefined), undefined);
  assert.equal(simulcastEncodings(0, 0), undefined);
});

test('bitrate by the largest size a layer reaches', () => {
  assert.equal(maxBitrateFor(160, 120), 150_000);
  assert.equal(maxBitrateFor(320, 180), 200_000);
  assert.equal(maxBitrateFor(320, 240), 200_000);
  assert.equal(maxBitrateFor(3840, 2160), 5_000_000);
});

test('the simulcast option: true by the capture size, false one encoding, an array as given; audio never', () => {
  const camera = fakeTrack('video', 'cam', { width: 1280, height: 720 });
  assert.equal(sendEncodingsFor(camera, true).length, 3);
  assert.equal(sendEncodingsFor(camera, false), undefined);
  const own = [{ rid: 'lo', scaleResolutionDownBy: 2 }, { rid: 'hi' }];
  const given = sendEncodingsFor(camera, own);
  assert.deepEqual(given, own);
  assert.notEqual(given[0], own[0], 'a copy: the browser may write to it');
  assert.equal(sendEncodingsFor(fakeTrack('audio'), true), undefined);
  assert.equal(sendEncodingsFor({ kind: 'video' }, true), undefined, 'a track without getSettings');
});

test('sending layers from a sender report: video outbound-rtp only, smallest first', () => {
  const report = new Map([
    ['o2', { type: 'outbound-rtp', kind: 'video', rid: 'f', frameWidth: 640, frameHeight: 480, framesPerSecond: 30, qualityLimitationReason: 'none' }],
    ['o1', { type: 'outbound-rtp', kind: 'video', rid: 'h', frameWidth: 320, frameHeight: 240, framesPerSecond: 30, active: true, qualityLimitationReason: 'none' }],
    ['a', { type: 'outbound-rtp', kind: 'audio' }],
    ['c', { type: 'codec', mimeType: 'video/VP8' }],
  ]);
  assert.deepEqual(sendingLayers(report).map(l => `${l.rid} ${l.width}x${l.height} ${l.framesPerSecond} ${l.active}`),
    ['h 320x240 30 true', 'f 640x480 30 true']);
  assert.deepEqual(sendingLayers(new Map([['o', { type: 'outbound-rtp', kind: 'video', active: false }]])),
    [{ rid: null, width: 0, height: 0, framesPerSecond: 0, active: false, qualityLimitationReason: null }], 'a layer not sent yet');
});

test('layer words: the top one high, the bottom one low', () => {
  assert.deepEqual([0, 1, 2].map(i => layerQuality(i, 3)), ['low', 'medium', 'high']);
  assert.deepEqual([0, 1].map(i => layerQuality(i, 2)), ['low', 'high']);
  assert.equal(layerQuality(0, 1), 'high', 'the only layer is the best there is');
});
