using System.Runtime.InteropServices;

namespace Sfu.Media.Interop;

/// <summary>Owns one <c>SSL_CTX</c>.</summary>
/// <remarks>
/// SSL_new takes its own reference on the context, so connections stay valid if this handle
/// is released first; no managed AddRef is needed to keep the parent alive.
/// </remarks>
internal sealed class SafeSslContextHandle : SafeHandle
{
    public SafeSslContextHandle()
        : base(0, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        Ssl.SSL_CTX_free(handle);
        return true;
    }
}
