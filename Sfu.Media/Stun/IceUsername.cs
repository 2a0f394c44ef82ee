namespace Sfu.Media.Stun;

/// <summary>
/// The USERNAME of an ICE connectivity check is "receiverUfrag:senderUfrag" (RFC 8445 section 7.2.2):
/// the server finds the transport by the first half and checks the second against the remote ufrag.
/// </summary>
public static class IceUsername
{
    /// <summary>Splits at the first ':'; false when there is none or either half is empty.</summary>
    public static bool TrySplit(ReadOnlySpan<byte> username, out ReadOnlySpan<byte> localUfrag, out ReadOnlySpan<byte> remoteUfrag)
    {
        int colon = username.IndexOf((byte)':');
        if (colon <= 0 || colon == username.Length - 1)
        {
            localUfrag = default;
            remoteUfrag = default;
            return false;
        }

        localUfrag = username[..colon];
        remoteUfrag = username[(colon + 1)..];
        return true;
    }

    /// <summary>Writes "receiverUfrag:senderUfrag" (what a client puts in its checks); returns the length or 0 if it does not fit.</summary>
    public static int Write(Span<byte> destination, ReadOnlySpan<byte> receiverUfrag, ReadOnlySpan<byte> senderUfrag)
    {
        int length = receiverUfrag.Length + 1 + senderUfrag.Length;
        if (length > destination.Length)
        {
            return 0;
        }

        receiverUfrag.CopyTo(destination);
        destination[receiverUfrag.Length] = (byte)':';
        senderUfrag.CopyTo(destination[(receiverUfrag.Length + 1)..]);
        return length;
    }
}
