namespace Sfu.Media.Dtls;

/// <summary>Where a <see cref="DtlsTransport"/> sends its datagrams (the owning transport's UDP path).</summary>
public interface IDtlsPacketSink
{
    /// <summary>
    /// Sends one datagram (at most <see cref="DtlsTransport.MaxDatagramSize"/> bytes) to the
    /// peer's current address. The span is only valid during the call. Called on whichever
    /// thread is driving the transport, never while the transport holds its lock.
    /// </summary>
    void SendDtls(ReadOnlySpan<byte> datagram);
}

/// <summary>Where a <see cref="DtlsTransport"/> hands the application data it decrypts (SCTP packets, RFC 8261).</summary>
public interface IDtlsApplicationDataSink
{
    /// <summary>One decrypted record, on the thread that fed the datagram, outside the transport's lock. Valid during the call only.</summary>
    void OnDtlsApplicationData(ReadOnlySpan<byte> data);
}
