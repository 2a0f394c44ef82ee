using System.Globalization;

namespace Sfu.Media.Sdp;

/// <summary>H.264 profiles as negotiated in SDP: what a decoder must support, not the exact profile_idc.</summary>
public enum H264Profile
{
    ConstrainedBaseline,
    Baseline,
    Main,
    ConstrainedHigh,
    High,
}

/// <summary>
/// The H.264 profile-level-id fmtp parameter (RFC 6184 section 8.1): three hex bytes,
/// profile_idc, profile-iop (constraint_set0..5 flags) and level_idc. Two ids describe the same
/// profile when the profile_idc/constraint-flag combination maps to the same <see cref="H264Profile"/>
/// (42e01f and 4de01f are both Constrained Baseline); the level is negotiated separately.
/// </summary>
public readonly record struct H264ProfileLevelId(byte ProfileIdc, byte ProfileIop, byte LevelIdc)
{
    /// <summary>RFC 6184: when profile-level-id is absent, 420010 (Baseline, level 1) is implied.</summary>
    public static H264ProfileLevelId Default { get; } = new(0x42, 0x00, 0x0a);

    private const byte ConstraintSet0 = 0x80;
    private const byte ConstraintSet1 = 0x40;
    private const byte ConstraintSet3 = 0x10;

    /// <summary>The profile, or null for combinations WebRTC does not use (e.g. High 10, 4:4:4).</summary>
    public H264Profile? Profile
    {
        get
        {
            // constraint_set4/5 and the reserved bits must be clear except where a profile says otherwise.
            return ProfileIdc switch
            {
                0x42 when (ProfileIop & 0x4f) == ConstraintSet1 => H264Profile.ConstrainedBaseline,
                0x42 when (ProfileIop & 0x4f) == 0 => H264Profile.Baseline,
                0x4d when (ProfileIop & 0x8f) == ConstraintSet0 => H264Profile.ConstrainedBaseline,
                0x4d when (ProfileIop & 0x8f) == 0 => H264Profile.Main,
                0x58 when (ProfileIop & 0xcf) == (ConstraintSet0 | ConstraintSet1) => H264Profile.ConstrainedBaseline,
                0x58 when (ProfileIop & 0xcf) == ConstraintSet0 => H264Profile.Baseline,
                0x64 when ProfileIop == 0x0c => H264Profile.ConstrainedHigh,
                0x64 when ProfileIop == 0 => H264Profile.High,
                _ => null,
            };
        }
    }

    /// <summary>
    /// Level 1b is coded as level_idc 11 plus constraint_set3 in the Baseline family; it sits
    /// between level 1 and level 1.1, so comparisons use this ordinal (level_idc * 10, 1b = 105).
    /// </summary>
    public int LevelOrder => IsLevel1b ? 105 : LevelIdc * 10;

    private bool IsLevel1b => LevelIdc == 11 && (ProfileIop & ConstraintSet3) != 0 && ProfileIdc is 0x42 or 0x4d or 0x58;

    public static bool TryParse(string? text, out H264ProfileLevelId value)
    {
        value = default;
        if (text is null || text.Length != 6 || !uint.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var n))
        {
            return false;
        }

        value = new H264ProfileLevelId((byte)(n >> 16), (byte)(n >> 8), (byte)n);
        return value.LevelIdc != 0;
    }

    /// <summary>Reads the codec's profile-level-id, applying the RFC 6184 default when it is absent.</summary>
    public static H264ProfileLevelId? FromParameters(FormatParameters parameters)
    {
        var text = parameters["profile-level-id"];
        if (text is null)
        {
            return Default;
        }

        return TryParse(text, out var value) ? value : null;
    }

    /// <summary>This id with another id's level (used when an answer must lower the level).</summary>
    public H264ProfileLevelId WithLevelOf(H264ProfileLevelId other)
    {
        // Keep our own flags, but constraint_set3 means "level 1b" only together with level 11;
        // carry it over from the other id so the level keeps its meaning.
        var iop = (byte)((ProfileIop & ~ConstraintSet3) | (other.IsLevel1b ? ConstraintSet3 : 0));
        return new H264ProfileLevelId(ProfileIdc, IsLevel1b || other.IsLevel1b ? iop : ProfileIop, other.LevelIdc);
    }

    public override string ToString() => $"{ProfileIdc:x2}{ProfileIop:x2}{LevelIdc:x2}";
}
