using System.Runtime.InteropServices;

namespace Sfu.Media.Interop;

/// <summary>
/// An eventfd (non-blocking): a counter in the kernel that any thread can raise and that <c>poll</c> reports as
/// readable while it is non-zero. Passing the handle (not its number) to <c>read</c>/<c>write</c> keeps a signal sent
/// during disposal from reaching whatever file reuses the number: the marshaller refuses a closed handle.
/// </summary>
internal sealed class SafeEventFdHandle : SafeHandle
{
    private SafeEventFdHandle() : base(invalidHandleValue: -1, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == -1;

    /// <summary>The descriptor's number, for <c>poll</c>; valid while the handle is open.</summary>
    public int Number => (int)handle;

    public static SafeEventFdHandle Create()
    {
        var fd = Libc.eventfd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
        if (fd < 0) throw new IOException($"eventfd failed (errno {Marshal.GetLastPInvokeError()})");
        var created = new SafeEventFdHandle();
        created.SetHandle(fd);
        return created;
    }

    /// <summary>Raises the counter, which makes the descriptor readable. Any thread; ignored once disposed.</summary>
    public unsafe void Signal()
    {
        ulong one = 1;
        try
        {
            Libc.write(this, &one, sizeof(ulong));
        }
        catch (ObjectDisposedException)
        {
            // Nothing waits on a closed event any more.
        }
    }

    /// <summary>Resets the counter to zero (a read of an eventfd returns and clears it).</summary>
    public unsafe void Drain()
    {
        ulong value;
        Libc.read(this, &value, sizeof(ulong));
    }

    protected override bool ReleaseHandle() => Libc.close((int)handle) == 0;
}
