namespace Sfu.Signaling.Rooms;

/// <summary>Why a peer left a room, as told to the others in <c>peer-left</c>.</summary>
public enum PeerLeftReason { Leave, Timeout, Kicked, Replaced, RoomClosed }

public static class PeerLeftReasonNames
{
    public static string ToWire(this PeerLeftReason reason) => reason switch
    {
        PeerLeftReason.Leave => "leave",
        PeerLeftReason.Timeout => "timeout",
        PeerLeftReason.Kicked => "kicked",
        PeerLeftReason.Replaced => "replaced",
        _ => "room-closed",
    };
}
