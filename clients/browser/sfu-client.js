// Browser SDK for the SFU, signaling protocol v1 (docs/PROTOCOL.md). ES modules, no run-time dependencies.
//
//   const client = new SfuClient('wss://host/ws', { room: 'demo', name: 'Ada' });
//   client.on('state', ({ state, reason }) => ...);
//   client.on('track', ({ track, stream, peerId, trackId }) => ...);
//   await client.join();
//   const [mic, camera] = await client.publish(await navigator.mediaDevices.getUserMedia({ audio: true, video: true }));
//
// The package's entry point (types in sfu-client.d.ts). Sfu.Server's build copies the package's modules into its
// output wwwroot, so the server serves this file as /sfu-client.js, with CORS.

import { PublishedTrack, assignTrackId } from './published-track.js';
import { QualitySampler, classifyQuality } from './connection-quality.js';
import { sendEncodingsFor, layerQuality } from './simulcast.js';
import { PublishedData, dataChannelOptions } from './data-track.js';

export { PublishedTrack } from './published-track.js';
export { Quality, QualitySampler, classifyQuality } from './connection-quality.js';
export { simulcastEncodings } from './simulcast.js';
export { PublishedData } from './data-track.js';

/** Client connection states (PROTOCOL.md, "Client connection states"). */
export const State = Object.freeze({
  disconnected: 'disconnected',
  connecting: 'connecting',
  connected: 'connected',
  reconnecting: 'reconnecting',
  failed: 'failed',
});

/** The signaling states a peer can be in, as others see it (`peer-state`). */
export const PeerState = Object.freeze({
  active: 'active',
  interrupted: 'interrupted',
});

const SUBPROTOCOL = 'sfu.v1';
const SOCKET_OPEN = 1; // WebSocket.OPEN, also for WebSocket implementations given in options

// A close code of our own (3000-3999 is free for applications). Anything but 1000 tells the server the socket
// dropped rather than the peer leaving, so the session stays resumable.
const CLOSE_RECONNECT = 3000;

const DEFAULTS = {
  name: undefined,
  token: undefined,
  autoSubscribe: true,
  // Used until the join response tells the server's own timing.
  pingIntervalMs: 1000,
  interruptedAfterMs: 4000,
  lostAfterMs: 10000,
  giveUpAfterMs: 20 * 60 * 1000,
  backoffInitialMs: 250,
  backoffMaxMs: 10000,
  openTimeoutMs: 5000,
  // How long a remote track may wait for the event that says whose it is before it is surfaced anyway.
  trackOwnerWaitMs: 2000,
  // How often connection quality is sampled from the statistics.
  qualityIntervalMs: 2000,
  rtcConfiguration: {},
  // How long ICE may stay `disconnected` before the client restarts it (`failed` restarts at once): long enough for
  // the browser to move to a backup path of its own (ICE-TCP, TURN), short enough to be back within seconds when the
  // network blocks the path in use.
  iceDisconnectedRestartMs: 2000,
  // Cameras go out as simulcast (layers for the capture size), so the server can send each subscriber the layer
  // its link carries; false sends one encoding, an array gives the sendEncodings (lowest layer first).
  simulcast: true,
  // The WebSocket constructor: the browser's, or one given for another run time (node's tests give a fake).
  WebSocket: globalThis.WebSocket,
};

/** An error response from the server: `code` is one of PROTOCOL.md's error codes. */
export class SfuError extends Error {
  constructor(code, message) {
    super(`${code}: ${message ?? ''}`);
    this.name = 'SfuError';
    this.code = code;
  }
}

export class SfuClient extends EventTarget {
  #url;
  #options;
  #state = State.disconnected;
  #socket = null;
  #wantConnected = false;

  // The session, once joined. It outlives sockets; only session_expired makes us join afresh.
  #sessionId = null;
  #resumeToken = null;
  #peerId = null;
  #timing = null;
  #iceServers = null; // TURN servers with credentials for this peer, from the join or resume response
  #lastSeq = 0;

  #nextId = 1;
  #pending = new Map(); // id -> { message, resolve, reject }: answered requests leave, the rest are repeated after resume
  #handshake = null; // the join or resume in flight on the current socket
  #ready = false; // the current socket carries the session: requests may go out
  #retrying = false;
  #joinResult = null;
  #lastError = null;

  #pingTimer = null;
  #watchTimer = null;
  #lastHeard = 0;
  #wake = null; // cuts a reconnect backoff short (network back online)
  #qualityTimer = null;
  #quality = null;
  #qualitySampler = null; // { pc, sampler }: statistics are differences, so one sampler per connection

  #peers = new Map(); // peerId -> { peerId, name, state, tracks: Map<trackId, Track> }

  #published = new Map(); // PublishedTrack -> its RTCRtpTransceiver on the current publish connection
  #publishedData = new Set(); // PublishedData, reopened on every new publish connection
  #publishControl = {
    replace: (published, track) => this.#transceiverOf(published).sender.replaceTrack(track),
    stop: published => this.#stopPublishing(published),
    stats: published => this.#transceiverOf(published).sender.getStats(),
  };
  #publishPc = null;
  #publishChain = Promise.resolve();
  #subscribePc = null;
  #subscribeChain = Promise.resolve();
  #offerWaiters = []; // resolved when the next subscribe-offer is queued
  #msidByMid = new Map();
  #remoteTracks = new Map(); // mid -> { mid, track, stream, streamId, msidTrackId, surfaced }
  #receivedLayers = new Map(); // trackId -> { layer, layers, paused, reason } from the last track-layer event

  constructor(url, options = {}) {
    super();
    this.#url = url;
    this.#options = { ...DEFAULTS, ...options };
    if (!this.#options.room) throw new TypeError('options.room is required');
    if (typeof window !== 'undefined') window.addEventListener('online', () => this.#networkChanged());
  }

  get state() { return this.#state; }
  get peerId() { return this.#peerId; }
  get sessionId() { return this.#sessionId; }
  get lastSeq() { return this.#lastSeq; }
  get room() { return this.#options.room; }
  get timing() { return this.#timing; }
  get publishConnection() { return this.#publishPc; }
  get subscribeConnection() { return this.#subscribePc; }
  /** The last connection quality sample (`quality` event), or null before the first. */
  get quality() { return this.#quality; }
  /** The tracks this client publishes, in the order they were published. */
  get publishedTracks() { return [...this.#published.keys()]; }

  /** The other peers in the room, with their state (`active`, `interrupted`) and the tracks they publish. */
  get peers() {
    return [...this.#peers.values()].map(p => ({ peerId: p.peerId, name: p.name, state: p.state, tracks: [...p.tracks.values()] }));
  }

  /** Every remote track received so far, with whom it belongs to when known. */
  get remoteTracks() {
    return [...this.#remoteTracks.values()].map(entry => this.#describeTrack(entry));
  }

  /** Adds a listener for `name` and returns a function that removes it. The listener gets the event's detail. */
  on(name, listener) {
    const handler = e => listener(e.detail);
    this.addEventListener(name, handler);
    return () => this.removeEventListener(name, handler);
  }

  /** Connects and joins the room. Resolves with the join result once `connected`; rejects on `failed`. */
  async join() {
    if (this.#state !== State.disconnected && this.#state !== State.failed) throw new Error(`cannot join while ${this.#state}`);
    this.#wantConnected = true;
    this.#setState(State.connecting, null);
    this.#startQualityTimer();
    const outcome = this.#waitForSettledState();
    this.#connectLoop(State.connecting, null);
    const { state, reason } = await outcome;
    if (state !== State.connected) throw new Error(`join ended ${state} (${reason})`, { cause: this.#lastError });
    return this.#joinResult;
  }

  /** Leaves the room for good: the server tells the others `peer-left` with reason `leave`. */
  async leave() {
    const wasConnected = this.#ready;
    this.#wantConnected = false;
    if (wasConnected) {
      // The server closes the socket after answering; do not wait long for an answer a dying socket may not bring.
      await Promise.race([this.request('leave', {}).catch(() => {}), new Promise(r => setTimeout(r, 2000))]);
    }
    this.#teardown(1000, 'leave');
    this.#setState(State.disconnected, 'leave');
  }

  /**
   * Sends a request and resolves with the response (rejects with SfuError on `ok: false`). While the socket is
   * down the request waits; after a resume every unanswered request is sent again with the same id, and the
   * server answers each at most once.
   */
  request(type, fields = {}) {
    const id = this.#nextId++;
    const message = { ...fields, id, type };
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { message, resolve, reject });
      if (this.#ready) this.#send(message);
    });
  }

  /** Fault injection (needs `Sfu:Signaling:AllowSimulate` on the server): `drop-signal`, `pause-media`, `forget-path`. */
  simulate(scenario, durationMs) {
    return this.request('simulate', durationMs === undefined ? { scenario } : { scenario, durationMs });
  }

  /**
   * Publishes every track of `stream` over the publish connection (adding to what is already published). Resolves
   * with a PublishedTrack per track of the stream, in the stream's order, once the server answered.
   */
  publish(stream) {
    return this.#queuePublish(async () => {
      const pc = this.#publishPc ?? this.#createPublishConnection();
      const result = [];
      for (const track of stream.getTracks()) {
        let published = this.publishedTracks.find(p => p.track === track);
        if (!published) {
          published = new PublishedTrack(track, stream, this.#publishControl);
          this.#published.set(published, this.#addSender(pc, track, stream));
        }
        result.push(published);
      }
      await this.#negotiatePublish(pc, false);
      return result;
    });
  }

  /**
   * Publishes a data track: opens a data channel `label` on the publish connection (options: `ordered`, and
   * `maxRetransmits` or `maxPacketLifeTime` for an unreliable one). Resolves with a PublishedData, whose send()
   * reaches every peer that receives the track, once the server answered the offer that carries the channel.
   */
  publishData(label, options = {}) {
    const data = new PublishedData(label, dataChannelOptions(options));
    return this.#queuePublish(async () => {
      const pc = this.#publishPc ?? this.#createPublishConnection();
      const firstChannel = this.#publishedData.size === 0;
      this.#publishedData.add(data);
      data.addEventListener('close', () => this.#publishedData.delete(data), { once: true });
      data.attach(pc);
      // Only the first channel changes the SDP (the data section); later ones open in-band on the same association.
      if (firstChannel || !pc.remoteDescription) await this.#negotiatePublish(pc, false);
      return data;
    });
  }

  /**
   * Limits what this client receives of a remote track (`set-track-preferences`): `maxLayer` (0 = lowest),
   * `maxWidth`/`maxHeight` (the size it is shown at), `maxTemporalLayer`, `paused`. Each call replaces the last;
   * no preferences lift every limit.
   */
  setTrackPreferences(trackId, preferences = {}) {
    return this.request('set-track-preferences', { ...preferences, trackId });
  }

  /** The `unpublish` request for one of this client's track ids. `PublishedTrack.stop()` does it and more. */
  unpublish(trackId) {
    return this.request('unpublish', { trackId });
  }

  /** Starts receiving these tracks (ids from `track-published` or `peers`); for clients joined with `autoSubscribe: false`. */
  subscribe(trackIds) {
    return this.request('subscribe', { trackIds: [...trackIds] });
  }

  /** Stops receiving these tracks; the server renegotiates the subscribe connection without them. */
  unsubscribe(trackIds) {
    return this.request('unsubscribe', { trackIds: [...trackIds] });
  }

  /** Restarts ICE on both connections: a new publish offer, and a new subscribe offer asked of the server. */
  async restartIce() {
    const work = [];
    if (this.#publishPc) work.push(this.#queuePublish(() => this.#negotiatePublish(this.#publishPc, true)));
    // The server answers restart-ice, then sends the new subscribe offer: wait for that offer to be queued
    // (the waiter is set before asking, so either order works), then for our answer to it.
    if (this.#subscribePc) {
      const offered = this.#nextSubscribeOffer();
      work.push(this.request('restart-ice', { transport: 'subscribe' }).then(() => offered).then(() => this.#subscribeChain));
    }
    await Promise.all(work);
  }

  // ---- session: join, resume, the socket ----

  /** Opens a socket and joins, or resumes the session when there is one. */
  async #openSession() {
    const socket = await this.#openSocket();
    if (this.#sessionId) {
      const result = await this.#handshakeOn(socket, {
        type: 'resume', sessionId: this.#sessionId, resumeToken: this.#resumeToken, lastSeq: this.#lastSeq,
      });
      this.#useIceServers(result.iceServers);
      this.#ready = true;
      this.#startTimers();
      // The replay of what we missed follows the response; what we asked but never heard about goes again.
      for (const [, entry] of [...this.#pending].sort(([a], [b]) => a - b)) this.#send(entry.message);
      return result;
    }
    this.#lastSeq = 0;
    const o = this.#options;
    const result = await this.#handshakeOn(socket, {
      type: 'join', room: o.room, name: o.name, token: o.token, autoSubscribe: o.autoSubscribe,
    });
    this.#sessionId = result.sessionId;
    this.#resumeToken = result.resumeToken;
    this.#peerId = result.peerId;
    this.#timing = result.timing ?? null;
    this.#useIceServers(result.iceServers);
    this.#joinResult = result;
    this.#peers.clear();
    for (const peer of result.room?.peers ?? []) this.#addPeer(peer);
    this.#ready = true;
    this.#startTimers();
    for (const [, entry] of this.#pending) this.#send(entry.message);
    return result;
  }

  #openSocket() {
    return new Promise((resolve, reject) => {
      const socket = new this.#options.WebSocket(this.#url, SUBPROTOCOL);
      const timer = setTimeout(() => { socket.close(); reject(new Error('socket open timed out')); }, this.#options.openTimeoutMs);
      socket.onopen = () => {
        clearTimeout(timer);
        this.#adopt(socket);
        resolve(socket);
      };
      socket.onerror = socket.onclose = () => {
        clearTimeout(timer);
        reject(new Error('socket failed to open'));
      };
    });
  }

  #adopt(socket) {
    this.#socket = socket;
    this.#lastHeard = performance.now();
    socket.onmessage = e => { if (socket === this.#socket) this.#onMessage(e.data); };
    socket.onerror = null;
    socket.onclose = e => { if (socket === this.#socket) this.#onClose(e.code); };
  }

  #handshakeOn(socket, fields) {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const handshake = { id };
      const settle = fn => value => {
        clearTimeout(timer);
        if (this.#handshake === handshake) this.#handshake = null;
        fn(value);
      };
      handshake.resolve = settle(resolve);
      handshake.reject = settle(reject);
      // A server that accepted the socket but never answers must not stall reconnecting forever.
      const timer = setTimeout(() => handshake.reject(new Error(`no answer to ${fields.type}`)), this.#options.openTimeoutMs);
      this.#handshake = handshake;
      socket.send(JSON.stringify({ ...fields, id }));
    });
  }

  #send(message) {
    if (this.#socket?.readyState === SOCKET_OPEN) this.#socket.send(JSON.stringify(message));
  }

  #onMessage(text) {
    this.#lastHeard = performance.now();
    let message;
    try { message = JSON.parse(text); } catch { return; }
    this.#emit('message', message);
    if (typeof message.seq === 'number') {
      // Replays after a resume and repeated answers carry seqs we already handled: each counts once.
      if (message.seq <= this.#lastSeq) return;
      this.#lastSeq = message.seq;
    }
    if (message.type === 'response') this.#onResponse(message);
    else if (message.type === 'event') this.#onEvent(message);
  }

  #onResponse(message) {
    const handshake = this.#handshake;
    if (handshake && message.id === handshake.id) {
      this.#handshake = null;
      if (message.ok) handshake.resolve(message);
      else handshake.reject(new SfuError(message.error?.code, message.error?.message));
      return;
    }
    const entry = this.#pending.get(message.id);
    if (!entry) return; // a ping's answer, or one we gave up on
    this.#pending.delete(message.id);
    if (message.ok) entry.resolve(message);
    else entry.reject(new SfuError(message.error?.code, message.error?.message));
  }

  #onClose(code) {
    this.#stopTimers();
    this.#socket = null;
    this.#ready = false;
    if (this.#handshake) {
      this.#handshake.reject(new Error(`socket closed (${code}) during handshake`));
      this.#handshake = null;
    }
    if (!this.#wantConnected) return;
    switch (code) {
      case 1000: this.#end(State.disconnected, 'leave'); break;
      case 4010: this.#end(State.disconnected, 'kicked'); break;
      case 4011: this.#end(State.disconnected, 'room-closed'); break;
      case 4003: this.#end(State.failed, 'token-expired'); break;
      // Another socket resumed this session; fighting over it would only flap.
      case 4001: this.#end(State.failed, 'superseded'); break;
      case 4004: this.#forgetSession(); this.#connectLoop(State.reconnecting, 'interrupted'); break;
      default: this.#connectLoop(State.reconnecting, 'interrupted');
    }
  }

  /**
   * Connects until it works, with exponential backoff: resumes while the session lives, joins (again) once it
   * expired. Runs once at a time; the initial join goes through it too, staying `connecting` while it retries.
   */
  async #connectLoop(state, reason) {
    if (this.#retrying) return;
    this.#retrying = true;
    const initial = state === State.connecting;
    if (!initial) this.#setState(state, reason);
    const o = this.#options;
    const started = performance.now();
    const lostTimer = setTimeout(() => {
      if (this.#state === State.reconnecting) this.#setState(State.reconnecting, 'lost');
    }, o.lostAfterMs);
    let attempt = 0;
    try {
      while (this.#wantConnected) {
        if (performance.now() - started > o.giveUpAfterMs) return this.#end(State.failed, 'join-failed');
        if (attempt > 0) await this.#sleep(Math.min(o.backoffMaxMs, o.backoffInitialMs * 2 ** (attempt - 1)) * (0.75 + Math.random() / 2));
        attempt++;
        if (!this.#wantConnected) return;
        const rejoin = this.#sessionId === null && !initial;
        try {
          await this.#openSession();
          if (rejoin) this.#restartMediaAfterRejoin();
          this.#setState(State.connected, initial ? 'join-success' : 'rejoin-success');
          return;
        } catch (error) {
          this.#lastError = error;
          this.#teardownSocket();
          const code = error instanceof SfuError ? error.code : null;
          if (code === 'session_expired' || code === 'bad_resume_token') {
            this.#forgetSession();
            attempt = 0; // join again right away
          } else if (code === 'unauthorized') {
            return this.#end(State.failed, initial ? 'join-failed' : 'token-expired');
          } else if (code !== null && !isRetryable(code)) {
            return this.#end(State.failed, 'join-failed');
          }
        }
      }
    } finally {
      clearTimeout(lostTimer);
      this.#retrying = false;
    }
  }

  /** The session is gone: requests made in it cannot be answered any more. */
  #forgetSession() {
    this.#sessionId = this.#resumeToken = null;
    for (const [, entry] of this.#pending) entry.reject(new SfuError('session_expired', 'the session ended before this request was answered'));
    this.#pending.clear();
  }

  /** A new session has new transports on the server: start both connections over, publishing the same tracks. */
  #restartMediaAfterRejoin() {
    this.#closeMedia();
    if (this.#published.size === 0 && this.#publishedData.size === 0) return;
    this.#queuePublish(async () => {
      const pc = this.#createPublishConnection();
      for (const published of this.#published.keys()) {
        this.#published.set(published, this.#addSender(pc, published.track, published.stream));
      }
      for (const data of this.#publishedData) data.attach(pc);
      await this.#negotiatePublish(pc, false);
    }).catch(error => this.#emit('error', { error }));
  }

  #networkChanged() {
    if (this.#retrying) {
      if (this.#state === State.reconnecting) this.#setState(State.reconnecting, 'network-changed');
      this.#wake?.();
    } else if (this.#state === State.connected) {
      this.restartIce().catch(error => this.#emit('error', { error }));
    }
  }

  #sleep(ms) {
    return new Promise(resolve => {
      const timer = setTimeout(done, ms);
      function done() { clearTimeout(timer); resolve(); }
      this.#wake = done;
    }).finally(() => { this.#wake = null; });
  }

  #startTimers() {
    this.#stopTimers();
    const timing = this.#timing ?? {};
    const pingMs = timing.pingIntervalMs ?? this.#options.pingIntervalMs;
    const silentMs = this.#options.interruptedAfterMs;
    // Pings are not kept for repeating: a stale one is worthless, the next carries a newer lastSeq.
    this.#pingTimer = setInterval(() => this.#send({ id: this.#nextId++, type: 'ping', lastSeq: this.#lastSeq }), pingMs);
    this.#watchTimer = setInterval(() => {
      // A socket can look open long after its path died; the server answers every ping, so silence means gone.
      if (performance.now() - this.#lastHeard > silentMs && this.#state === State.connected) {
        this.#teardownSocket();
        this.#connectLoop(State.reconnecting, 'interrupted');
      }
    }, Math.min(500, pingMs));
  }

  #stopTimers() {
    clearInterval(this.#pingTimer);
    clearInterval(this.#watchTimer);
    this.#pingTimer = this.#watchTimer = null;
  }

  #teardownSocket(code = CLOSE_RECONNECT, reason = 'reconnect') {
    this.#stopTimers();
    this.#ready = false;
    const socket = this.#socket;
    this.#socket = null;
    if (socket && socket.readyState <= SOCKET_OPEN) socket.close(code, reason);
  }

  #teardown(code, reason) {
    this.#teardownSocket(code, reason);
    this.#stopQualityTimer();
    this.#closeMedia();
    this.#published.clear();
    this.#sessionId = this.#resumeToken = null;
    for (const [, entry] of this.#pending) entry.reject(new Error(`client ${reason}`));
    this.#pending.clear();
  }

  #end(state, reason) {
    this.#wantConnected = false;
    this.#teardown(CLOSE_RECONNECT, reason);
    this.#setState(state, reason, state === State.failed ? this.#lastError : undefined);
  }

  #waitForSettledState() {
    return new Promise(resolve => {
      const off = this.on('state', ({ state, reason }) => {
        if (state === State.connected || state === State.failed || state === State.disconnected) { off(); resolve({ state, reason }); }
      });
    });
  }

  #setState(state, reason, error) {
    const previous = this.#state;
    this.#state = state;
    this.#emit('state', { state, reason, previous, peerId: this.#peerId, ...(error ? { error: String(error) } : {}) });
  }

  #emit(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }

  // ---- room events ----

  #onEvent(message) {
    switch (message.event) {
      case 'peer-joined': this.#addPeer(message.peer); break;
      case 'peer-left': this.#removePeer(message.peerId); break;
      case 'peer-state': { const peer = this.#peerOf(message.peerId); if (peer) peer.state = message.state; break; }
      case 'track-published': this.#peerOf(message.peerId)?.tracks.set(message.track.trackId, message.track); break;
      case 'track-unpublished': this.#removeTrack(message.peerId, message.trackId); break;
      case 'subscribe-offer': this.#queueSubscribeOffer(message.sdp, message.version); break;
      case 'track-layer': this.#receivedLayers.set(message.trackId, { layer: message.layer ?? null, layers: message.layers ?? null, paused: message.paused, reason: message.reason }); break;
      case 'kicked': case 'room-closed': break; // the close code that follows ends the session
    }
    this.#emit(message.event, message);
    if (message.event === 'peer-joined' || message.event === 'track-published') this.#surfaceResolvedTracks();
    if (message.event === 'track-layer') this.#emitLayer(message.trackId);
  }

  #addPeer(peer) {
    this.#peers.set(peer.peerId, {
      peerId: peer.peerId, name: peer.name, state: PeerState.active, tracks: new Map((peer.tracks ?? []).map(t => [t.trackId, t])),
    });
  }

  /** A peer that left takes its tracks along: each gets `track-removed`, as if unpublished. */
  #removePeer(peerId) {
    for (const trackId of [...(this.#peerOf(peerId)?.tracks.keys() ?? [])]) this.#removeTrack(peerId, trackId);
    this.#peers.delete(peerId);
  }

  #removeTrack(peerId, trackId) {
    if (!this.#peerOf(peerId)?.tracks.delete(trackId)) return;
    this.#receivedLayers.delete(trackId);
    this.#emit('track-removed', { peerId, trackId });
  }

  #peerOf(peerId) { return this.#peers.get(peerId); }

  // ---- media ----

  #queuePublish(work) {
    const run = this.#publishChain.then(work);
    this.#publishChain = run.catch(() => {});
    return run;
  }

  #createPublishConnection() {
    const pc = new RTCPeerConnection(this.#rtcConfiguration());
    this.#watchMedia(pc, 'publish');
    this.#publishPc = pc;
    return pc;
  }

  async #negotiatePublish(pc, iceRestart) {
    // No trickle: the server is ICE-lite and learns our address from our own connectivity checks.
    const offer = await pc.createOffer({ iceRestart });
    await pc.setLocalDescription(offer);
    const { sdp, tracks = [] } = await this.request('publish', { sdp: offer.sdp });
    if (pc !== this.#publishPc) return; // torn down meanwhile
    await pc.setRemoteDescription({ type: 'answer', sdp });
    // The answer's track list names our tracks by the mids of their transceivers.
    for (const [published, transceiver] of this.#published) {
      const named = tracks.find(t => t.mid === transceiver.mid);
      if (named) assignTrackId(published, named.trackId);
    }
  }

  #addSender(pc, track, stream) {
    const sendEncodings = sendEncodingsFor(track, this.#options.simulcast);
    return pc.addTransceiver(track, { direction: 'sendonly', streams: [stream], ...(sendEncodings ? { sendEncodings } : {}) });
  }

  #transceiverOf(published) {
    const transceiver = this.#published.get(published);
    if (!transceiver) throw new Error('this track is not published');
    return transceiver;
  }

  /**
   * Unpublishes, then stops sending on the transceiver and renegotiates, so no later offer (an ICE restart)
   * carries the track again.
   */
  #stopPublishing(published) {
    return this.#queuePublish(async () => {
      const transceiver = this.#transceiverOf(published);
      this.#published.delete(published);
      if (published.trackId) await this.unpublish(published.trackId);
      transceiver.direction = 'inactive';
      await transceiver.sender.replaceTrack(null);
      await this.#negotiatePublish(this.#publishPc, false);
    });
  }

  #queueSubscribeOffer(sdp, version) {
    // Offers are answered one at a time and in order, each with the version it came with.
    this.#subscribeChain = this.#subscribeChain
      .then(() => this.#answerSubscribeOffer(sdp, version))
      .catch(error => this.#emit('error', { error }));
    for (const resolve of this.#offerWaiters.splice(0)) resolve();
  }

  /** A promise settled when the next subscribe-offer has been put in the subscribe chain. */
  #nextSubscribeOffer() {
    return new Promise(resolve => this.#offerWaiters.push(resolve));
  }

  async #answerSubscribeOffer(sdp, version) {
    const pc = this.#subscribePc ?? this.#createSubscribeConnection();
    for (const [mid, msid] of msidsByMid(sdp)) this.#msidByMid.set(mid, msid);
    await pc.setRemoteDescription({ type: 'offer', sdp });
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    await this.request('subscribe-answer', { sdp: answer.sdp, version });
  }

  #createSubscribeConnection() {
    const pc = new RTCPeerConnection(this.#rtcConfiguration());
    this.#watchMedia(pc, 'subscribe');
    pc.ontrack = e => this.#onRemoteTrack(e);
    pc.ondatachannel = e => this.#onRemoteDataChannel(e.channel);
    this.#subscribePc = pc;
    return pc;
  }

  /** A channel the server opened for a data track: its protocol is the track id (PROTOCOL.md, "Data tracks"). */
  #onRemoteDataChannel(channel) {
    const trackId = channel.protocol;
    const peerId = [...this.#peers.values()].find(p => p.tracks.has(trackId))?.peerId ?? null;
    const describe = () => ({ trackId, peerId, label: channel.label });
    channel.binaryType = 'arraybuffer';
    channel.onmessage = e => this.#emit('data', { ...describe(), data: e.data });
    channel.onclose = () => this.#emit('data-track-closed', describe());
    this.#emit('data-track', { ...describe(), channel });
  }

  /** The application's rtcConfiguration wins; the server's TURN servers fill in when it names none. */
  #rtcConfiguration() {
    const servers = this.#iceServers ? { iceServers: this.#iceServers } : {};
    return { bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require', ...servers, ...this.#options.rtcConfiguration };
  }

  /** New TURN credentials (join, or resume after a long outage): connections already open use them from their next restart. */
  #useIceServers(servers) {
    if (!Array.isArray(servers)) return;
    this.#iceServers = servers;
    if (this.#options.rtcConfiguration.iceServers) return;
    for (const pc of [this.#publishPc, this.#subscribePc]) {
      if (pc && pc.connectionState !== 'closed') pc.setConfiguration({ ...pc.getConfiguration(), iceServers: servers });
    }
  }

  #watchMedia(pc, transport) {
    let disconnectedTimer = null;
    // A dead path is worth a fresh start; the signaling session is what carries us across it. `failed` comes late
    // (Chromium waits for every pair to fail), so a path that stays `disconnected` restarts too: the network may have
    // started blocking UDP, and the new checks find the ICE-TCP or TURN path.
    const restart = () => {
      clearTimeout(disconnectedTimer);
      disconnectedTimer = null;
      if (this.#state !== State.connected || pc.connectionState === 'closed') return;
      const restarted = transport === 'publish'
        ? (pc === this.#publishPc ? this.#queuePublish(() => this.#negotiatePublish(pc, true)) : Promise.resolve())
        : (pc === this.#subscribePc ? this.request('restart-ice', { transport: 'subscribe' }) : Promise.resolve());
      restarted.catch(error => this.#emit('error', { error }));
    };
    pc.onconnectionstatechange = () => this.#emit('media-state', { transport, state: pc.connectionState });
    pc.oniceconnectionstatechange = () => {
      const state = pc.iceConnectionState;
      if (state === 'failed') restart();
      else if (state === 'disconnected') disconnectedTimer ??= setTimeout(restart, this.#options.iceDisconnectedRestartMs);
      else {
        clearTimeout(disconnectedTimer);
        disconnectedTimer = null;
      }
    };
  }

  #onRemoteTrack(e) {
    const mid = e.transceiver?.mid ?? null;
    const msid = this.#msidByMid.get(mid) ?? {};
    const stream = e.streams[0] ?? new MediaStream([e.track]);
    const entry = {
      mid, track: e.track, stream,
      streamId: msid.streamId ?? stream.id, msidTrackId: msid.trackId ?? e.track.id,
      surfaced: false,
    };
    this.#remoteTracks.set(mid ?? e.track.id, entry);
    if (this.#describeTrack(entry).peerId) this.#surface(entry);
    // The offer may come before the event that names the track's owner; do not hold the track back for long.
    else setTimeout(() => this.#surface(entry), this.#options.trackOwnerWaitMs);
  }

  #surfaceResolvedTracks() {
    for (const entry of this.#remoteTracks.values()) {
      if (!entry.surfaced && this.#describeTrack(entry).peerId) this.#surface(entry);
    }
  }

  #surface(entry) {
    if (entry.surfaced) return;
    entry.surfaced = true;
    this.#emit('track', this.#describeTrack(entry));
  }

  /** Whose is this track? By the msid's track id if the server used ours, else by its stream id naming the peer. */
  #describeTrack(entry) {
    let peerId = null;
    let trackId = null;
    for (const peer of this.#peers.values()) {
      if (peer.tracks.has(entry.msidTrackId)) { peerId = peer.peerId; trackId = entry.msidTrackId; break; }
    }
    if (!peerId && this.#peers.has(entry.streamId)) {
      peerId = entry.streamId;
      const ofKind = [...this.#peers.get(peerId).tracks.values()].filter(t => t.kind === entry.track.kind);
      trackId = (ofKind.length === 1 ? ofKind[0].trackId : null) ?? entry.msidTrackId;
    }
    const layerOf = () => this.#layerOf(peerId, trackId);
    return {
      peerId, trackId, kind: entry.track.kind, mid: entry.mid, track: entry.track, stream: entry.stream,
      get layer() { return layerOf(); },
    };
  }

  // ---- received layers ----

  /**
   * The layer received of a remote track now: `index` (0 = lowest; null while a simulcast track's first layer is
   * awaited or while paused), `count`, its `rid`, `quality` (low/medium/high), and whether the server `paused` it
   * (and why: `reason` of the last track-layer event).
   */
  #layerOf(peerId, trackId) {
    const rids = this.#peerOf(peerId)?.tracks.get(trackId)?.simulcast ?? [];
    const received = this.#receivedLayers.get(trackId);
    // The server says how many layers the track has (an SVC track's spatial layers have no rids); older servers do not.
    const count = Math.max(1, received?.layers ?? rids.length);
    const paused = received?.paused ?? false;
    const index = paused ? null : received?.layer ?? (count === 1 ? 0 : null);
    return {
      index, count, paused, reason: received?.reason ?? null,
      rid: index === null ? null : rids[index] ?? null,
      quality: index === null ? null : layerQuality(index, count),
    };
  }

  #emitLayer(trackId) {
    for (const entry of this.#remoteTracks.values()) {
      const remote = this.#describeTrack(entry);
      if (remote.trackId === trackId) this.#emit('layer', { ...remote, layer: remote.layer });
    }
  }

  // ---- connection quality ----

  #startQualityTimer() {
    this.#stopQualityTimer();
    this.#qualityTimer = setInterval(() => {
      this.#sampleQuality().catch(error => this.#emit('error', { error }));
    }, this.#options.qualityIntervalMs);
  }

  #stopQualityTimer() {
    clearInterval(this.#qualityTimer);
    this.#qualityTimer = null;
  }

  /** Samples the subscribe connection (what we receive), or the publish connection when nothing is received. */
  async #sampleQuality() {
    const pc = this.#subscribePc ?? this.#publishPc;
    const transport = pc === null ? null : pc === this.#subscribePc ? 'subscribe' : 'publish';
    let connected = this.#state === State.connected;
    let figures = { packetLoss: null, rttMs: null };
    if (pc) {
      connected &&= pc.connectionState !== 'disconnected' && pc.connectionState !== 'failed';
      if (this.#qualitySampler?.pc !== pc) this.#qualitySampler = { pc, sampler: new QualitySampler() };
      const { sampler } = this.#qualitySampler;
      figures = sampler.sample(await pc.getStats());
    }
    if (!this.#qualityTimer) return; // stopped while the statistics were read
    this.#quality = { quality: classifyQuality({ connected, ...figures }), ...figures, transport };
    this.#emit('quality', this.#quality);
  }

  #closeMedia() {
    this.#publishPc?.close();
    this.#subscribePc?.close();
    this.#publishPc = this.#subscribePc = null;
    this.#msidByMid.clear();
    this.#remoteTracks.clear();
    this.#receivedLayers.clear();
  }
}

/** Errors that a later attempt may not get. */
function isRetryable(code) {
  return code === 'rate_limited' || code === 'internal' || code === undefined;
}

/** mid -> { streamId, trackId } from an SDP's a=msid lines (or the legacy a=ssrc ... msid: form). */
export function msidsByMid(sdp) {
  const result = new Map();
  let mid = null;
  let msid = null;
  const flush = () => { if (mid !== null && msid) result.set(mid, msid); };
  for (const raw of sdp.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('m=')) { flush(); mid = null; msid = null; }
    else if (line.startsWith('a=mid:')) mid = line.slice(6);
    else if (line.startsWith('a=msid:') && !msid) msid = splitMsid(line.slice(7));
    else if (!msid && /^a=ssrc:\d+ msid:/.test(line)) msid = splitMsid(line.slice(line.indexOf('msid:') + 5));
  }
  flush();
  return result;
}

function splitMsid(value) {
  const [streamId, trackId] = value.trim().split(/\s+/);
  return { streamId, trackId };
}
