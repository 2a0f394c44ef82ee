using SharpFuzz;
using Sfu.Fuzz;

// Under afl-fuzz (fuzz/run.sh) this loops in-process over AFL's inputs; run by hand it executes the target once on
// standard input, which is how a crash file is reproduced: dotnet Sfu.Fuzz.dll <target> < crash-file
if (args is ["--capture-dtls", var directory])
{
    DtlsSeedCapture.WriteTo(directory);
    return 0;
}

if (args.Length != 1 || !FuzzTargets.Names.Contains(args[0]))
{
    Console.Error.WriteLine($"usage: Sfu.Fuzz <target> | --capture-dtls <dir>   (targets: {string.Join(", ", FuzzTargets.Names)})");
    return 2;
}

// Instrumented code may only run once Fuzzer.Run has attached AFL's coverage map, so the target (whose set-up calls
// into Sfu.Media and Sfu.Signaling) is created inside the first execution.
FuzzTarget? target = null;
var input = new MemoryStream();
Fuzzer.Run(stream =>
{
    target ??= FuzzTargets.Create(args[0])!;
    input.SetLength(0);
    stream.CopyTo(input);
    target.Execute(input.GetBuffer().AsSpan(0, (int)input.Length));
});
target?.Dispose();
return 0;
