// Data tracks (docs/PROTOCOL.md, "Data tracks"): a data channel this client opens on its publish connection is a
// track others receive; the server opens a channel per data track on each subscriber's connection, with the track
// id as the channel's protocol.

/**
 * A data channel this client publishes. Survives a new publish connection (after a rejoin): the SDK opens the
 * channel again there, and send() uses the current one.
 */
export class PublishedData extends EventTarget {
  #channel = null;

  constructor(label, options) {
    super();
    this.label = label;
    this.options = Object.freeze({ ...options });
  }

  /** The RTCDataChannel on the current publish connection. */
  get channel() { return this.#channel; }

  /** True while the channel is open: send() would go out. */
  get isOpen() { return this.#channel?.readyState === 'open'; }

  /** Bytes queued in the browser and not sent yet: back-pressure for a fast sender. */
  get bufferedAmount() { return this.#channel?.bufferedAmount ?? 0; }

  /** Sends a string, Blob, ArrayBuffer or view to everyone who receives this track; throws if not open. */
  send(data) {
    if (!this.isOpen) throw new Error(`data channel '${this.label}' is not open`);
    this.#channel.send(data);
  }

  close() {
    this.#channel?.close();
    this.#channel = null;
    this.dispatchEvent(new CustomEvent('close'));
  }

  /** Opens the channel on a (new) publish connection. */
  attach(pc) {
    const channel = pc.createDataChannel(this.label, this.options);
    channel.onopen = () => this.dispatchEvent(new CustomEvent('open'));
    this.#channel = channel;
    return channel;
  }
}

/** The data channel options the server accepts for a publication: ordering and at most one reliability limit. */
export function dataChannelOptions({ ordered = true, maxRetransmits, maxPacketLifeTime } = {}) {
  if (maxRetransmits !== undefined && maxPacketLifeTime !== undefined) throw new Error('maxRetransmits and maxPacketLifeTime exclude each other');
  return {
    ordered,
    ...(maxRetransmits !== undefined ? { maxRetransmits } : {}),
    ...(maxPacketLifeTime !== undefined ? { maxPacketLifeTime } : {}),
  };
}
