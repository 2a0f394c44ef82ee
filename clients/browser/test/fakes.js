// Stand-ins for what a browser gives the SDK, driven by the tests: a WebSocket whose "network" side the test
// plays (open, messages, drops), a server that numbers its messages like the real one, and an RTCPeerConnection
// that records what the SDK did to it. No real network.

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;

export class FakeWebSocket {
  /** Every socket the client created, oldest first. */
  static created = [];

  constructor(url, protocol) {
    this.url = url;
    this.protocol = protocol;
    this.readyState = CONNECTING;
    this.sent = [];
    this.closedWith = null;
    this.createdAt = Date.now();
    FakeWebSocket.created.push(this);
  }

  // ---- what the SDK calls ----

  send(text) {
    if (this.readyState !== OPEN) throw new Error('send on a socket that is not open');
    this.sent.push(JSON.parse(text));
  }

  /** The client closing: a browser reports the close later; the SDK has let go of the socket by then. */
  close(code, reason) {
    this.closedWith = { code, reason };
    this.readyState = CLOSED;
  }

  // ---- what the test does as the network or the server ----

  open() {
    this.readyState = OPEN;
    this.onopen?.({});
  }

  /** The connection cannot be made. */
  fail() {
    this.readyState = CLOSED;
    this.onerror?.({});
    this.onclose?.({ code: 1006 });
  }

  /** The server closes with `code`, or the connection drops (1006). */
  drop(code = 1006) {
    this.readyState = CLOSED;
    this.onclose?.({ code });
  }

  receive(message) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }

  /** The requests of this type the client sent on this socket. */
  requests(type) {
    return this.sent.filter(m => m.type === type);
  }

  last(type) {
    const requests = this.requests(type);
    if (requests.length === 0) throw new Error(`no ${type} request on this socket; sent: ${JSON.stringify(this.sent.map(m => m.type))}`);
    return requests[requests.length - 1];
  }
}

/** The server's side of one session: numbers responses and events with seq like the real server. */
export class FakeServer {
  seq = 0;

  respond(socket, request, fields = {}) {
    socket.receive({ type: 'response', id: request.id, seq: ++this.seq, ok: true, ...fields });
  }

  refuse(socket, request, code, { numbered = true } = {}) {
    const message = { type: 'response', id: request.id, ok: false, error: { code, message: `refused: ${code}` } };
    socket.receive(numbered ? { ...message, seq: ++this.seq } : message);
  }

  event(socket, event, fields = {}) {
    socket.receive({ type: 'event', seq: ++this.seq, event, ...fields });
  }

  /** Answers a join the way the real server does (numbered from 1, a fresh session). */
  acceptJoin(socket, { sessionId = 's1', resumeToken = 't1', peerId = 'ada', peers = [], iceServers } = {}) {
    this.seq = 0;
    this.respond(socket, socket.last('join'), {
      sessionId, resumeToken, peerId, room: { id: 'r', peers },
      timing: { pingIntervalMs: 1000, interruptedAfterMs: 4000, offlineAfterMs: 20000, emptyRoomCloseMs: 10000 },
      ...(iceServers ? { iceServers } : {}),
    });
  }

  /** Answers a resume: its response has no seq (it belongs to the socket, not to the session's stream). */
  acceptResume(socket, replayed = 0) {
    socket.receive({ type: 'response', id: socket.last('resume').id, ok: true, peerId: 'ada', replayed });
  }
}

export class FakePeerConnection {
  static created = [];

  constructor(configuration) {
    this.configuration = configuration;
    this.transceivers = [];
    this.offers = [];
    this.remoteDescription = null;
    this.connectionState = 'new';
    this.iceConnectionState = 'new';
    this.closed = false;
    this.stats = new Map();
    this.dataChannels = [];
    FakePeerConnection.created.push(this);
  }

  createDataChannel(label, options) {
    const channel = new FakeDataChannel(label, options);
    this.dataChannels.push(channel);
    return channel;
  }

  /** The server opening a channel on this (subscribe) connection. */
  remoteDataChannel(label, protocol) {
    const channel = new FakeDataChannel(label, {}, protocol);
    channel.readyState = 'open';
    this.ondatachannel?.({ channel });
    return channel;
  }

  addTransceiver(track, init) {
    const transceiver = {
      mid: null,
      direction: init.direction,
      streams: init.streams,
      sendEncodings: init.sendEncodings,
      sender: { track, stats: new Map(), replaceTrack: async next => { transceiver.sender.track = next; }, getStats: async () => transceiver.sender.stats },
    };
    this.transceivers.push(transceiver);
    return transceiver;
  }

  getSenders() {
    return this.transceivers.map(t => t.sender);
  }

  /** An "SDP" of one line per transceiver, enough for a test to read what was offered. */
  async createOffer(options) {
    const sdp = this.transceivers.map((t, i) => `m=${t.sender.track?.kind ?? 'none'} mid:${t.mid ?? i} ${t.direction}`).join('\n');
    this.offers.push({ sdp, iceRestart: options?.iceRestart ?? false });
    return { type: 'offer', sdp };
  }

  async createAnswer() {
    return { type: 'answer', sdp: 'answer' };
  }

  async setLocalDescription() {
    this.transceivers.forEach((t, i) => { t.mid ??= String(i); });
  }

  async setRemoteDescription(description) {
    this.remoteDescription = description;
  }

  async getStats() {
    return this.stats;
  }

  getConfiguration() {
    return { ...this.configuration };
  }

  setConfiguration(configuration) {
    this.configuration = configuration;
  }

  /** The browser's ICE agent reporting a new state. */
  iceState(state) {
    this.iceConnectionState = state;
    this.oniceconnectionstatechange?.();
  }

  close() {
    this.closed = true;
  }
}

/** An RTCDataChannel stand-in: records what was sent; the test opens it, delivers messages and closes it. */
export class FakeDataChannel {
  constructor(label, options, protocol = '') {
    this.label = label;
    this.options = options;
    this.protocol = protocol;
    this.readyState = 'connecting';
    this.bufferedAmount = 0;
    this.sent = [];
  }

  send(data) {
    if (this.readyState !== 'open') throw new Error('InvalidStateError');
    this.sent.push(data);
  }

  close() {
    this.readyState = 'closed';
    this.onclose?.();
  }

  open() {
    this.readyState = 'open';
    this.onopen?.();
  }

  receive(data) {
    this.onmessage?.({ data });
  }
}

/** A MediaStreamTrack stand-in; `settings` is what getSettings() gives (a camera's width and height). */
export function fakeTrack(kind, id = `${kind}-1`, settings = {}) {
  return { kind, id, enabled: true, getSettings: () => ({ ...settings }) };
}

export function fakeStream(...tracks) {
  return { id: 'local', getTracks: () => [...tracks] };
}

/** Lets promise chains run: the SDK awaits between steps; timers are the test's to advance. */
export async function flush() {
  for (let i = 0; i < 10; i++) await new Promise(resolve => setImmediate(resolve));
}

/**
 * Fake time for a test: setTimeout, setInterval, Date and performance.now are driven by `tick`; jitter is
 * fixed (Math.random() = 0.5 makes the backoff exactly its nominal delay). Globals the SDK reaches for are fakes.
 */
export function useFakeEnvironment(t) {
  FakeWebSocket.created = [];
  FakePeerConnection.created = [];
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 0 });
  t.mock.method(performance, 'now', () => Date.now());
  t.mock.method(Math, 'random', () => 0.5);
  globalThis.RTCPeerConnection = FakePeerConnection;
  t.after(() => { delete globalThis.RTCPeerConnection; });
  return {
    /** Advances fake time, letting the SDK's promise chains run after each timer. */
    async tick(ms, step = 50) {
      for (let done = 0; done < ms; done += step) {
        t.mock.timers.tick(Math.min(step, ms - done));
        await flush();
      }
    },
  };
}

/** A client joined through the fake server to a room where `peers` already are, in a fake environment. */
export async function joinedWith(t, SfuClient, peers, options = {}) {
  useFakeEnvironment(t);
  const client = new SfuClient('ws://sfu.test/ws', { room: 'r', WebSocket: FakeWebSocket, ...options });
  const server = new FakeServer();
  const joining = client.join();
  await flush();
  const socket = FakeWebSocket.created.at(-1);
  socket.open();
  await flush();
  server.acceptJoin(socket, { peers });
  await joining;
  return { client, server, socket };
}
