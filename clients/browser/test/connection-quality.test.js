// Connection quality from statistics: loss between samples, RTT of the selected pair, and the coarse level.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QualitySampler, classifyQuality } from '../connection-quality.js';

const report = (...stats) => new Map(stats.map(s => [s.id, s]));
const inbound = (id, packetsReceived, packetsLost) => ({ id, type: 'inbound-rtp', packetsReceived, packetsLost });

test('packet loss is counted between two samples, over every inbound stream', () => {
  const sampler = new QualitySampler();
  sampler.sample(report(inbound('a', 100, 0), inbound('v', 900, 10)));

  const { packetLoss } = sampler.sample(report(inbound('a', 150, 0), inbound('v', 1340, 60)));

  // 490 received and 50 lost since the first sample.
  assert.equal(packetLoss, 50 / 540);
});

test('late packets that shrink packetsLost are no negative loss', () => {
  const sampler = new QualitySampler();
  sampler.sample(report(inbound('v', 100, 5)));
  assert.equal(sampler.sample(report(inbound('v', 200, 3))).packetLoss, 0);
});

test('a connection that only sends takes the loss the far end reports, and RTT from the selected pair', () => {
  const sample = new QualitySampler().sample(report(
    { id: 'T', type: 'transport', selectedCandidatePairId: 'P2' },
    { id: 'P1', type: 'candidate-pair', currentRoundTripTime: 0.9 },
    { id: 'P2', type: 'candidate-pair', currentRoundTripTime: 0.08 },
    { id: 'ra', type: 'remote-inbound-rtp', fractionLost: 0.02 },
    { id: 'rv', type: 'remote-inbound-rtp', fractionLost: 0.07 },
  ));
  assert.deepEqual(sample, { packetLoss: 0.07, rttMs: 80 });
});

test('no statistics yet: loss and RTT unknown', () => {
  assert.deepEqual(new QualitySampler().sample(report()), { packetLoss: null, rttMs: null });
});

test('levels: lost when not connected, poor from 5 % loss or 400 ms RTT, good otherwise', () => {
  assert.equal(classifyQuality({ connected: false, packetLoss: 0, rttMs: 10 }), 'lost');
  assert.equal(classifyQuality({ connected: true, packetLoss: 0.049, rttMs: 399 }), 'good');
  assert.equal(classifyQuality({ connected: true, packetLoss: 0.05, rttMs: 20 }), 'poor');
  assert.equal(classifyQuality({ connected: true, packetLoss: 0, rttMs: 400 }), 'poor');
  assert.equal(classifyQuality({ connected: true, packetLoss: null, rttMs: null }), 'good');
});
