// Types of the browser SDK (sfu-client.js and the modules it re-exports). Hand-written: the SDK is plain
// JavaScript with no build step; test/types checks these against a usage file with `tsc --noEmit`.

/** Client connection states (docs/PROTOCOL.md, "Client connection states"). */
export declare const State: {
  readonly disconnected: 'disconnected';
  readonly connecting: 'connecting';
  readonly connected: 'connected';
  readonly reconnecting: 'reconnecting';
  readonly failed: 'failed';
};
export type ConnectionState = (typeof State)[keyof typeof State];

/** Why the state changed; `null` only for `connecting`. */
export type StateReason =
  | 'join-success' | 'interrupted' | 'lost' | 'rejoin-success' | 'join-failed' | 'leave' | 'kicked'
  | 'room-closed' | 'network-changed' | 'token-expired' | 'superseded';

/** Another peer's signaling state as the server sees it (`peer-state`). */
export declare const PeerState: {
  readonly active: 'active';
  readonly interrupted: 'interrupted';
};
export type PeerStateValue = (typeof PeerState)[keyof typeof PeerState];

export declare const Quality: {
  readonly good: 'good';
  readonly poor: 'poor';
  readonly lost: 'lost';
};
export type QualityLevel = (typeof Quality)[keyof typeof Quality];

/** Error codes of docs/PROTOCOL.md. */
export type ErrorCode =
  | 'bad_request' | 'unknown_type' | 'not_joined' | 'already_joined' | 'unauthorized' | 'forbidden' | 'room_full'
  | 'session_expired' | 'bad_resume_token' | 'not_found' | 'too_large' | 'rate_limited' | 'internal';

/** An error response from the server. */
export declare class SfuError extends Error {
  constructor(code: ErrorCode | string, message?: string);
  readonly name: 'SfuError';
  readonly code: ErrorCode | string;
}

/** `Track` of the protocol: a track a peer publishes (media, or data: see DataTrackInfo). */
export type TrackInfo = MediaTrackInfo | DataTrackInfo;

export interface MediaTrackInfo {
  trackId: string;
  kind: 'audio' | 'video';
  mid: string;
  simulcast?: string[];
}

/** A data track: a data channel its publisher opened (PROTOCOL.md, "Data tracks"). */
export interface DataTrackInfo {
  trackId: string;
  kind: 'data';
  label: string;
  ordered: boolean;
  maxRetransmits?: number;
  maxPacketLifeTime?: number;
}

/** publishData's options: ordering, and at most one of the two reliability limits. */
export interface DataChannelOptions {
  ordered?: boolean;
  maxRetransmits?: number;
  maxPacketLifeTime?: number;
}

/** A data channel this client publishes; what publishData() resolves with. */
export declare class PublishedData extends EventTarget {
  private constructor();
  readonly label: string;
  readonly options: Readonly<DataChannelOptions>;
  /** The RTCDataChannel on the current publish connection (a new one after a re-join). */
  readonly channel: RTCDataChannel | null;
  readonly isOpen: boolean;
  readonly bufferedAmount: number;
  /** Sends to every peer that receives the track; throws while the channel is not open. */
  send(data: string | Blob | ArrayBuffer | ArrayBufferView): void;
  close(): void;
}

/** A data track this client receives: the channel the server opened for it. */
export interface RemoteDataTrack {
  trackId: string;
  /** The publisher, when known from the room's track list. */
  peerId: string | null;
  label: string;
}

/** `Peer` of the protocol, as the join response and `peer-joined` give it. */
export interface PeerInfo {
  peerId: string;
  name?: string;
  tracks: TrackInfo[];
}

/** A peer as the client keeps it: with its current state. */
export interface Peer extends PeerInfo {
  state: PeerStateValue;
}

export interface Timing {
  pingIntervalMs: number;
  interruptedAfterMs: number;
  offlineAfterMs: number;
  emptyRoomCloseMs: number;
}

/** Every server response: `ok`, the request's `id`, and the result's fields. */
export interface Response {
  type: 'response';
  id: number | string | null;
  seq?: number;
  ok: boolean;
  error?: { code: ErrorCode | string; message?: string };
  [field: string]: unknown;
}

export interface JoinResult extends Response {
  sessionId: string;
  resumeToken: string;
  peerId: string;
  room: { id: string; peers: PeerInfo[] };
  timing?: Timing;
}

export interface SfuClientOptions {
  /** The room to join (required). */
  room: string;
  name?: string;
  /** A join token (HS256 JWT) when the server requires one. */
  token?: string;
  /** Receive every track in the room without asking (default true); else use subscribe(). */
  autoSubscribe?: boolean;
  /** Until the join response tells the server's own (default 1000). */
  pingIntervalMs?: number;
  /** Server silence before the socket is given up (default 4000). */
  interruptedAfterMs?: number;
  /** Reconnecting this long changes the reason to `lost` (default 10 000). */
  lostAfterMs?: number;
  /** Reconnecting this long ends in `failed` (`join-failed`) (default 20 min). */
  giveUpAfterMs?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** How long a socket may take to open, and a join or resume to be answered (default 5000). */
  openTimeoutMs?: number;
  /** How long a remote track waits for the event naming its owner (default 2000). */
  trackOwnerWaitMs?: number;
  /** How often the `quality` event is sampled (default 2000). */
  qualityIntervalMs?: number;
  /** Merged into both RTCPeerConnections' configuration, over the defaults; its `iceServers`, when given, replace the TURN servers the server sends. */
  rtcConfiguration?: RTCConfiguration;
  /** How long ICE may stay `disconnected` before the client restarts it; `failed` restarts at once. Default 2000. */
  iceDisconnectedRestartMs?: number;
  /**
   * How video tracks are published: `true` (default) as simulcast with layers for the capture size (rids q/h/f at
   * 1/4, 1/2 and full size, those whose shorter side is at least 135 pixels), `false` as one encoding, or the
   * `sendEncodings` to use (lowest layer first).
   */
  simulcast?: boolean | RTCRtpEncodingParameters[];
  /** The WebSocket constructor (default: the global one). */
  WebSocket?: new (url: string, protocols?: string | string[]) => WebSocket;
}

/** The layer this client receives of a remote track, as the server's `track-layer` events tell it. */
export interface ReceivedLayer {
  /** 0 = the lowest; null while paused, or while a simulcast track's first layer is awaited. */
  index: number | null;
  /** How many layers the track has: its simulcast rids, or as many as the server says (an SVC track's spatial layers); 1 for a plain track. */
  count: number;
  /** The layer's rid, for a simulcast track. */
  rid: string | null;
  /** `high` for the top layer, `low` for the bottom one, `medium` between; null when index is. */
  quality: 'low' | 'medium' | 'high' | null;
  /** The server sends nothing of the track (its bandwidth, or this client's preferences). */
  paused: boolean;
  /** Why it last changed; null before the first `track-layer` event. */
  reason: 'bandwidth' | 'cap' | 'layer-lost' | string | null;
}

/** A track received from another peer. `peerId` and `trackId` are null when its owner could not be told. */
export interface RemoteTrack {
  peerId: string | null;
  trackId: string | null;
  kind: 'audio' | 'video' | string;
  mid: string | null;
  track: MediaStreamTrack;
  stream: MediaStream;
  /** The layer received now (live: read it again after a `layer` event). */
  readonly layer: ReceivedLayer;
}

/** What `setTrackPreferences` may limit (docs/PROTOCOL.md, `set-track-preferences`). */
export interface TrackPreferences {
  maxLayer?: number;
  maxWidth?: number;
  maxHeight?: number;
  maxTemporalLayer?: number;
  paused?: boolean;
}

/** One layer a published video track is sending, from its sender's statistics. */
export interface SendingLayer {
  rid: string | null;
  width: number;
  height: number;
  framesPerSecond: number;
  active: boolean;
  qualityLimitationReason: 'none' | 'bandwidth' | 'cpu' | 'other' | string | null;
}

export interface ConnectionQuality {
  quality: QualityLevel;
  /** Fraction of packets lost since the previous sample (0..1), or null when unknown. */
  packetLoss: number | null;
  /** Round-trip time to the server of the sampled connection, or null when unknown. */
  rttMs: number | null;
  /** The connection sampled: `subscribe` while receiving, else `publish`; null without media. */
  transport: 'publish' | 'subscribe' | null;
}

/** What each event passes to `on(name, listener)` (and in `CustomEvent.detail`). */
export interface SfuClientEventMap {
  state: { state: ConnectionState; reason: StateReason | null; previous: ConnectionState; peerId: string | null; error?: string };
  'peer-joined': { peer: PeerInfo; seq: number };
  'peer-left': { peerId: string; reason: 'leave' | 'timeout' | 'kicked' | 'replaced' | string; seq: number };
  'peer-state': { peerId: string; state: PeerStateValue; seq: number };
  'track-published': { peerId: string; track: TrackInfo; seq: number };
  'track-unpublished': { peerId: string; trackId: string; seq: number };
  'subscribe-offer': { sdp: string; version: number; seq: number };
  kicked: { reason: string; seq: number };
  'room-closed': { reason: string; seq: number };
  /** A remote track arrived (once its owner is known, or after trackOwnerWaitMs). */
  track: RemoteTrack;
  /** A remote track went away: unpublished, or its peer left. */
  'track-removed': { peerId: string; trackId: string };
  'media-state': { transport: 'publish' | 'subscribe'; state: RTCPeerConnectionState };
  /** The server's event: the layer received of a track changed, or it was paused or resumed. */
  'track-layer': { trackId: string; paused: boolean; layer?: number; reason: string; seq: number };
  /** The same change for a remote track this client holds, with its new layer. */
  layer: Omit<RemoteTrack, 'layer'> & { layer: ReceivedLayer };
  quality: ConnectionQuality;
  /** The server opened a channel for a data track this client receives. */
  'data-track': RemoteDataTrack & { channel: RTCDataChannel };
  /** A message on a received data track (binary as ArrayBuffer). */
  data: RemoteDataTrack & { data: string | ArrayBuffer };
  'data-track-closed': RemoteDataTrack;
  /** Every message from the server, as parsed. */
  message: Record<string, unknown>;
  error: { error: unknown };
}

/** A local track being published; what publish() resolves with. */
export declare class PublishedTrack {
  private constructor();
  /** The server's id for the track (null until the publish answer named it; new after a re-join). */
  readonly trackId: string | null;
  readonly kind: 'audio' | 'video' | string;
  /** The MediaStreamTrack being sent. */
  readonly track: MediaStreamTrack;
  readonly stream: MediaStream;
  readonly muted: boolean;
  readonly stopped: boolean;
  mute(): void;
  unmute(): void;
  /** Sends another track of the same kind (device switch) via RTCRtpSender.replaceTrack; no renegotiation. */
  replaceTrack(track: MediaStreamTrack): Promise<void>;
  /** What is being sent now, lowest layer first (one entry without simulcast; none for audio). */
  getSendingLayers(): Promise<SendingLayer[]>;
  /** Unpublishes the track; the MediaStreamTrack itself is not stopped. */
  stop(): Promise<void>;
}

export declare class SfuClient extends EventTarget {
  constructor(url: string, options: SfuClientOptions);

  readonly state: ConnectionState;
  readonly peerId: string | null;
  readonly sessionId: string | null;
  readonly lastSeq: number;
  readonly room: string;
  readonly timing: Timing | null;
  readonly publishConnection: RTCPeerConnection | null;
  readonly subscribeConnection: RTCPeerConnection | null;
  readonly quality: ConnectionQuality | null;
  readonly publishedTracks: PublishedTrack[];
  readonly peers: Peer[];
  readonly remoteTracks: RemoteTrack[];

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof SfuClientEventMap>(name: K, listener: (detail: SfuClientEventMap[K]) => void): () => void;

  /** Connects and joins; resolves once connected, rejects when the join fails for good. */
  join(): Promise<JoinResult>;
  leave(): Promise<void>;
  publish(stream: MediaStream): Promise<PublishedTrack[]>;
  /** Publishes a data track: a data channel `label` on the publish connection. Throws for both reliability limits. */
  publishData(label: string, options?: DataChannelOptions): Promise<PublishedData>;
  unpublish(trackId: string): Promise<Response>;
  /** Limits what is received of a remote track; each call replaces the last, `{}` lifts every limit. */
  setTrackPreferences(trackId: string, preferences?: TrackPreferences): Promise<Response>;
  subscribe(trackIds: Iterable<string>): Promise<Response>;
  unsubscribe(trackIds: Iterable<string>): Promise<Response>;
  restartIce(): Promise<void>;
  /** Any protocol request; rejects with SfuError on an error response. */
  request(type: string, fields?: Record<string, unknown>): Promise<Response>;
  /** Fault injection; the server needs Sfu:Signaling:AllowSimulate. */
  simulate(scenario: 'drop-signal' | 'pause-media' | 'forget-path', durationMs?: number): Promise<Response>;
}

/** Turns successive getStats() reports of one connection into loss since the previous one and the current RTT. */
export declare class QualitySampler {
  sample(report: ReadonlyMap<string, any>): { packetLoss: number | null; rttMs: number | null };
}

export declare function classifyQuality(sample: { connected: boolean; packetLoss: number | null; rttMs: number | null }): QualityLevel;

/** The simulcast `sendEncodings` for a capture of this size (lowest layer first), or undefined for one encoding. */
export declare function simulcastEncodings(width: number, height: number): RTCRtpEncodingParameters[] | undefined;

/** mid -> msid parts, from an SDP's a=msid lines (or the legacy a=ssrc ... msid: form). */
export declare function msidsByMid(sdp: string): Map<string, { streamId: string; trackId: string | undefined }>;
