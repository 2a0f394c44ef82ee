using System.Runtime.InteropServices;

namespace Sfu.Media.Interop;

/// <summary>Owns one reference to an <c>EVP_PKEY</c>.</summary>
internal sealed class SafeEvpPKeyHandle : SafeHandle
{
    public SafeEvpPKeyHandle()
        : base(0, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        Crypto.EVP_PKEY_free(handle);
        return true;
    }
}
