namespace Sfu.Media.Sdp;

/// <summary>
/// A well-formed description that cannot be negotiated (no BUNDLE, no rtcp-mux, an answer that
/// does not match its offer). Distinct from <see cref="SdpParseException"/> so signaling can tell a
/// client "your SDP is broken" apart from "your SDP asks for something this server does not do".
/// </summary>
public sealed class SdpNegotiationException(string message) : InvalidOperationException(message);
