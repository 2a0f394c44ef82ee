namespace Sfu.Media.Sdp;

/// <summary>An a= line this library has no model for, kept verbatim so a round trip does not lose it.</summary>
public sealed record SdpAttribute(string Name, string? Value)
{
    public override string ToString() => Value is null ? Name : $"{Name}:{Value}";
}

/// <summary>A non-attribute line (i=, u=, e=, p=, b=, r=, z=, k=) kept verbatim.</summary>
public sealed record SdpLine(char Type, string Value)
{
    public override string ToString() => $"{Type}={Value}";
}
