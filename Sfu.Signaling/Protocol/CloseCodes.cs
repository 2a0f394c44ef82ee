namespace Sfu.Signaling.Protocol;

/// <summary>WebSocket close codes of PROTOCOL.md.</summary>
public static class CloseCodes
{
    public const int Normal = 1000;
    public const int ShuttingDown = 1001;
    public const int ProtocolViolation = 4000;
    public const int Superseded = 4001;
    public const int Unauthorized = 4003;
    public const int SessionExpired = 4004;
    public const int Kicked = 4010;
    public const int RoomClosed = 4011;
}
