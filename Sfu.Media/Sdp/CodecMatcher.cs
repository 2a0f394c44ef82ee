namespace Sfu.Media.Sdp;

/// <summary>
/// Chooses the one codec (plus its RTX) the server will receive on an offered m-line.
/// One codec, not several: the SFU forwards without transcoding, and a publisher that could switch
/// codecs mid-call would break subscribers that negotiated the first one.
/// </summary>
public static class CodecMatcher
{
    public static NegotiatedCodec? Select(MediaDescription offered, MediaKind kind, MediaCapabilities capabilities)
    {
        RtpCodec? best = null;
        (int Family, int Variant, int Index) bestRank = default;
        var familyOrder = new List<string>();

        for (var index = 0; index < offered.Codecs.Count; index++)
        {
            var codec = offered.Codecs[index];
            if (codec.IsRtx || VariantRank(codec, kind, capabilities) is not { } variant)
            {
                continue;
            }

            var family = FamilyRank(codec.Name, kind == MediaKind.Video ? capabilities.VideoCodecPreference : null, familyOrder);
            if (family < 0)
            {
                continue;
            }

            var rank = (family, variant, index);
            if (best is null || rank.CompareTo(bestRank) < 0)
            {
                best = codec;
                bestRank = rank;
            }
        }

        return best is null ? null : Negotiate(best, offered, capabilities);
    }

    // Lower is better; null when the server cannot take this variant at all.
    private static int? VariantRank(RtpCodec codec, MediaKind kind, MediaCapabilities capabilities)
    {
        if (kind == MediaKind.Audio)
        {
            return codec.Is(CodecNames.Opus) && codec.ClockRate == 48000 && (codec.Channels ?? 1) == 2 ? 0 : null;
        }

        if (codec.ClockRate != 90000)
        {
            return null;
        }

        if (codec.Is(CodecNames.Vp8))
        {
            return capabilities.Vp8 ? 0 : null;
        }

        if (codec.Is(CodecNames.Av1))
        {
            return capabilities.Av1 ? 0 : null;
        }

        if (codec.Is(CodecNames.Vp9))
        {
            var rank = IndexOf(capabilities.Vp9Profiles, codec.Parameters.GetInt("profile-id", 0));
            return capabilities.Vp9 && rank >= 0 ? rank : null;
        }

        if (codec.Is(CodecNames.H264))
        {
            // Mode 0 (single NAL unit) cannot carry large frames split into FU-A; every browser offers mode 1.
            if (!capabilities.H264 || codec.Parameters.GetInt("packetization-mode", 0) != 1)
            {
                return null;
            }

            var profile = H264ProfileLevelId.FromParameters(codec.Parameters)?.Profile;
            var rank = profile is { } p ? IndexOf(capabilities.H264Profiles, p) : -1;
            return rank >= 0 ? rank : null;
        }

        return null;
    }

    // Either the server's configured order, or the order in which the offer first names each family.
    private static int FamilyRank(string name, IReadOnlyList<string>? preference, List<string> seen)
    {
        if (preference is not null)
        {
            return IndexOf(preference, name, StringComparer.OrdinalIgnoreCase);
        }

        var index = IndexOf(seen, name, StringComparer.OrdinalIgnoreCase);
        if (index >= 0)
        {
            return index;
        }

        seen.Add(name);
        return seen.Count - 1;
    }

    private static NegotiatedCodec Negotiate(RtpCodec codec, MediaDescription offered, MediaCapabilities capabilities)
    {
        var parameters = codec.Parameters.Clone();
        if (codec.Is(CodecNames.H264))
        {
            parameters.Set("profile-level-id", AnswerProfileLevelId(codec.Parameters, capabilities).ToString());
        }

        var feedback = codec.Feedback.Concat(offered.WildcardFeedback)
            .Where(capabilities.Feedback.Contains)
            .Distinct()
            .ToArray();
        var rtx = offered.Codecs.Find(c => c.IsRtx && c.AssociatedPayloadType == codec.PayloadType && c.ClockRate == codec.ClockRate);
        return new NegotiatedCodec(codec.PayloadType, codec.Name, codec.ClockRate, codec.Channels, parameters, feedback, rtx?.PayloadType);
    }

    /// <summary>
    /// RFC 6184 8.2.2: the answer keeps the offered profile; its level is the lower of the offered
    /// level and the server's cap. (With level-asymmetry-allowed the answer could name any level the
    /// server can receive, but the SFU only relays: never asking for more than the publisher offered
    /// keeps streams decodable by subscribers who negotiated the same.)
    /// </summary>
    private static H264ProfileLevelId AnswerProfileLevelId(FormatParameters offered, MediaCapabilities capabilities)
    {
        var id = H264ProfileLevelId.FromParameters(offered)!.Value;
        var cap = new H264ProfileLevelId(id.ProfileIdc, 0, capabilities.H264MaxLevel);
        return id.LevelOrder <= cap.LevelOrder ? id : id.WithLevelOf(cap);
    }

    private static int IndexOf<T>(IReadOnlyList<T> list, T value, IEqualityComparer<T>? comparer = null)
    {
        comparer ??= EqualityComparer<T>.Default;
        for (var i = 0; i < list.Count; i++)
        {
            if (comparer.Equals(list[i], value))
            {
                return i;
            }
        }

        return -1;
    }
}
