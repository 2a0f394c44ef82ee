// Connection quality for people: packet loss and round-trip time read from RTCPeerConnection statistics, and a
// coarse level (good / poor / lost) a page can show next to a name.

/** Quality levels, from best to worst. */
export const Quality = Object.freeze({
  good: 'good',
  poor: 'poor',
  lost: 'lost',
});

// Beyond these, calls visibly stutter (video freezes, audio concealment is heard).
const POOR_PACKET_LOSS = 0.05;
const POOR_RTT_MS = 400;

/**
 * The level of a sample. `connected` is false while signaling reconnects or the media connection is
 * disconnected or failed; loss and RTT are null when the statistics did not have them.
 */
export function classifyQuality({ connected, packetLoss, rttMs }) {
  if (!connected) return Quality.lost;
  if ((packetLoss ?? 0) >= POOR_PACKET_LOSS || (rttMs ?? 0) >= POOR_RTT_MS) return Quality.poor;
  return Quality.good;
}

/**
 * Turns successive getStats() reports of one RTCPeerConnection into the packet loss since the previous report
 * and the current round-trip time. Loss comes from what this side receives (inbound-rtp); a connection that only
 * sends falls back on what the far end reports (remote-inbound-rtp fractionLost).
 */
export class QualitySampler {
  #received = 0;
  #lost = 0;

  /** @param {Map<string, object> | Iterable<[string, object]>} report an RTCStatsReport or anything shaped like one */
  sample(report) {
    const stats = [...report.values()];
    let received = 0;
    let lost = 0;
    let remoteLoss = null;
    for (const s of stats) {
      if (s.type === 'inbound-rtp') {
        received += s.packetsReceived ?? 0;
        lost += s.packetsLost ?? 0;
      } else if (s.type === 'remote-inbound-rtp' && typeof s.fractionLost === 'number') {
        remoteLoss = Math.max(remoteLoss ?? 0, s.fractionLost);
      }
    }
    const newlyReceived = received - this.#received;
    // packetsLost may shrink when late packets arrive after all; that is no negative loss.
    const newlyLost = Math.max(0, lost - this.#lost);
    this.#received = received;
    this.#lost = lost;
    const expected = newlyReceived + newlyLost;
    const pair = selectedCandidatePair(stats);
    return {
      packetLoss: expected > 0 ? newlyLost / expected : remoteLoss,
      rttMs: typeof pair?.currentRoundTripTime === 'number' ? pair.currentRoundTripTime * 1000 : null,
    };
  }
}

function selectedCandidatePair(stats) {
  const transport = stats.find(s => s.type === 'transport' && s.selectedCandidatePairId);
  if (transport) return stats.find(s => s.id === transport.selectedCandidatePairId);
  return stats.find(s => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded');
}
