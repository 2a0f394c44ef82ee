namespace Sfu.Signaling.Protocol;

/// <summary>The <c>error.code</c> values of PROTOCOL.md.</summary>
public enum ErrorCode
{
    BadRequest,
    UnknownType,
    NotJoined,
    AlreadyJoined,
    Unauthorized,
    Forbidden,
    RoomFull,
    SessionExpired,
    BadResumeToken,
    NotFound,
    TooLarge,
    RateLimited,
    Internal,
}

public static class ErrorCodeNames
{
    /// <summary>The wire spelling of a code, e.g. <c>room_full</c>.</summary>
    public static string ToWire(this ErrorCode code) => code switch
    {
        ErrorCode.BadRequest => "bad_request",
        ErrorCode.UnknownType => "unknown_type",
        ErrorCode.NotJoined => "not_joined",
        ErrorCode.AlreadyJoined => "already_joined",
        ErrorCode.Unauthorized => "unauthorized",
        ErrorCode.Forbidden => "forbidden",
        ErrorCode.RoomFull => "room_full",
        ErrorCode.SessionExpired => "session_expired",
        ErrorCode.BadResumeToken => "bad_resume_token",
        ErrorCode.NotFound => "not_found",
        ErrorCode.TooLarge => "too_large",
        ErrorCode.RateLimited => "rate_limited",
        _ => "internal",
    };
}
