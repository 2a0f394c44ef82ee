using System.Globalization;
using System.Runtime.InteropServices;

namespace Sfu.MediaLoad.Servers;

/// <summary>A server's process on this machine, through /proc.</summary>
static partial class ServerProcess
{
    private const int ScClockTicks = 2; // _SC_CLK_TCK on Linux

    /// <summary>utime + stime of every thread of the process so far.</summary>
    public static TimeSpan? CpuTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / (double)sysconf(ScClockTicks));
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>The process holding the socket that listens on TCP <paramref name="port"/>, or null.</summary>
    public static int? FindListening(int port)
    {
        var inodes = new HashSet<string>();
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(table)) continue;
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                // sl local_address rem_address st ... inode (10th column); local_address is ADDR:PORT in hex, 0A = LISTEN.
                var columns = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (columns.Length > 9 && columns[3] == "0A" && int.Parse(columns[1][(columns[1].IndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture) == port)
                    inodes.Add($"socket:[{columns[9]}]");
            }
        }
        if (inodes.Count == 0) return null;
        foreach (var process in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(process), out var pid)) continue;
            try
            {
                foreach (var fd in Directory.EnumerateFileSystemEntries($"{process}/fd"))
                {
                    if (new FileInfo(fd).LinkTarget is { } target && inodes.Contains(target)) return pid;
                }
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException) { }
        }
        return null;
    }

    [LibraryImport("libc")]
    private static partial long sysconf(int name);
}
