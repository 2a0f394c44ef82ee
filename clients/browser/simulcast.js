// Simulcast for published cameras: which layers to send for a capture size, and what each layer is worth.
//
// The server ranks a track's layers in the order the offer lists them, lowest first (docs/PROTOCOL.md,
// "Simulcast tracks"), so the encodings here go from the smallest picture to the full capture.

// Layers by how much they scale the capture down, named the way browsers and other SFUs name them
// (quarter, half, full).
const LAYERS = [{ rid: 'q', scale: 4 }, { rid: 'h', scale: 2 }, { rid: 'f', scale: 1 }];

// A layer whose shorter side would be under this is not worth its bits (libwebrtc's own table sends one layer
// at 320x180, two from 480x270, three from 960x540; this keeps the same counts).
const MIN_SHORT_SIDE = 135;

// Highest bitrate per layer by its pixel count, from the largest picture down (libwebrtc's defaults for those
// sizes); a layer gets the entry of the largest size it reaches.
const MAX_BITRATES = [
  [1920 * 1080, 5_000_000],
  [1280 * 720, 2_500_000],
  [960 * 540, 1_200_000],
  [640 * 360, 700_000],
  [480 * 270, 450_000],
  [320 * 180, 200_000],
  [0, 150_000],
];

/** The highest bitrate (bits/s) worth sending for a picture of this size. */
export function maxBitrateFor(width, height) {
  const pixels = width * height;
  return MAX_BITRATES.find(([atLeast]) => pixels >= atLeast)[1];
}

/**
 * The `sendEncodings` for a video track captured at `width` x `height`: up to three layers (q, h, f at 1/4, 1/2
 * and full size) whose shorter side is at least 135 pixels, lowest first. Undefined (one ordinary encoding) when
 * the size is unknown or only the full size qualifies.
 */
export function simulcastEncodings(width, height) {
  if (!(width > 0 && height > 0)) return undefined;
  const layers = LAYERS.filter(({ scale }) => Math.min(width, height) / scale >= MIN_SHORT_SIDE);
  if (layers.length < 2) return undefined;
  return layers.map(({ rid, scale }) => ({
    rid,
    scaleResolutionDownBy: scale,
    maxBitrate: maxBitrateFor(Math.round(width / scale), Math.round(height / scale)),
  }));
}

/**
 * What to pass as `sendEncodings` when publishing `track`, by the `simulcast` option: `true` (layers for the
 * capture size), `false` (one encoding), or the encodings themselves. Audio always gets one encoding.
 */
export function sendEncodingsFor(track, simulcast) {
  if (track.kind !== 'video' || simulcast === false) return undefined;
  if (Array.isArray(simulcast)) return simulcast.map(encoding => ({ ...encoding }));
  const { width, height } = track.getSettings?.() ?? {};
  return simulcastEncodings(width, height);
}

/**
 * The layers a sender is sending now, from its statistics (`RTCRtpSender.getStats()`), lowest first: one entry
 * per encoding with its rid (null without simulcast), picture size, frame rate, whether it is sending, and why
 * the browser holds its quality back (`qualityLimitationReason`).
 */
export function sendingLayers(report) {
  const layers = [];
  for (const s of report.values()) {
    if (s.type !== 'outbound-rtp' || s.kind !== 'video') continue;
    layers.push({
      rid: s.rid ?? null,
      width: s.frameWidth ?? 0,
      height: s.frameHeight ?? 0,
      framesPerSecond: s.framesPerSecond ?? 0,
      active: s.active ?? true,
      qualityLimitationReason: s.qualityLimitationReason ?? null,
    });
  }
  return layers.sort((a, b) => a.width * a.height - b.width * b.height);
}

/** A word for layer `index` of `count`, for people: the top layer is `high`, the bottom one `low`. */
export function layerQuality(index, count) {
  if (index === count - 1) return 'high';
  return index === 0 ? 'low' : 'medium';
}
