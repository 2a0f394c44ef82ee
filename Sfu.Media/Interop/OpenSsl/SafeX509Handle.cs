using System.Runtime.InteropServices;

namespace Sfu.Media.Interop;

/// <summary>Owns one reference to an <c>X509</c>.</summary>
internal sealed class SafeX509Handle : SafeHandle
{
    public SafeX509Handle()
        : base(0, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        Crypto.X509_free(handle);
        return true;
    }
}
