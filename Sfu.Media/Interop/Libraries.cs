namespace Sfu.Media.Interop;

/// <summary>Names of the native libraries this assembly binds to.</summary>
internal static class Libraries
{
    // The versioned sonames: the unversioned libssl.so symlink only exists when the -dev
    // package is installed, and binding to 3.x explicitly keeps the ABI (struct layouts,
    // ctrl numbers) that these declarations were written against.
    internal const string Ssl = "libssl.so.3";
    internal const string Crypto = "libcrypto.so.3";

    // glibc's soname; "libc.so" is a linker script (and only there with libc6-dev), which dlopen cannot load.
    internal const string Libc = "libc.so.6";
}
