namespace Sfu.Media.Sdp;

/// <summary>a=setup (RFC 4145 / RFC 5763): who starts the DTLS handshake.</summary>
public enum DtlsSetup
{
    ActPass,
    Active,
    Passive,
    HoldConn,
}

internal static class DtlsSetupText
{
    public static bool TryParse(string text, out DtlsSetup setup)
    {
        switch (text)
        {
            case "actpass": setup = DtlsSetup.ActPass; return true;
            case "active": setup = DtlsSetup.Active; return true;
            case "passive": setup = DtlsSetup.Passive; return true;
            case "holdconn": setup = DtlsSetup.HoldConn; return true;
            default: setup = default; return false;
        }
    }

    public static string ToSdp(this DtlsSetup setup) => setup switch
    {
        DtlsSetup.ActPass => "actpass",
        DtlsSetup.Active => "active",
        DtlsSetup.Passive => "passive",
        _ => "holdconn",
    };
}
