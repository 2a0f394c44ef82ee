// One local track the client publishes: what `SfuClient.publish()` returns.

import { sendingLayers } from './simulcast.js';

/** Sets the server's id of a published track; for SfuClient only (the package entry point does not export it). */
export let assignTrackId;

/**
 * A published track. `trackId` is the server's id for it (the one others see in `track-published`); it changes
 * when the client has to join afresh after its session expired, since the server then knows it as a new track.
 */
export class PublishedTrack {
  #trackId = null;
  #kind;
  #track;
  #stream;
  #muted = false;
  #stopped = false;
  #control;

  /** @internal Created by SfuClient; `control` does what needs the publish connection. */
  constructor(track, stream, control) {
    this.#kind = track.kind;
    this.#track = track;
    this.#stream = stream;
    this.#control = control;
  }

  static {
    assignTrackId = (published, trackId) => { published.#trackId = trackId; };
  }

  /** The server's id, once the publish answer named it. */
  get trackId() { return this.#trackId; }
  get kind() { return this.#kind; }
  /** The MediaStreamTrack being sent (after replaceTrack, the new one). */
  get track() { return this.#track; }
  get stream() { return this.#stream; }
  get muted() { return this.#muted; }
  get stopped() { return this.#stopped; }

  /** Sends silence or black frames instead of the track; the others keep the track and hear/see it again on unmute. */
  mute() { this.#setMuted(true); }

  unmute() { this.#setMuted(false); }

  /**
   * Sends another track of the same kind instead, without renegotiating (a camera or microphone switch). The
   * muted state carries over. The old track is not stopped: it is the caller's.
   */
  async replaceTrack(track) {
    if (this.#stopped) throw new Error('this track was stopped');
    if (track.kind !== this.#kind) throw new TypeError(`cannot replace a ${this.#kind} track with a ${track.kind} track`);
    track.enabled = !this.#muted;
    await this.#control.replace(this, track);
    this.#track = track;
  }

  /**
   * What the browser is sending of this track now, lowest layer first (one entry without simulcast): rid, picture
   * size, frame rate, whether the layer is active and why the browser limits its quality.
   */
  async getSendingLayers() {
    if (this.#stopped) return [];
    return sendingLayers(await this.#control.stats(this));
  }

  /** Stops publishing it (`unpublish`); the others get `track-unpublished`. The MediaStreamTrack is the caller's. */
  async stop() {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#control.stop(this);
  }

  #setMuted(muted) {
    this.#muted = muted;
    this.#track.enabled = !muted;
  }
}
