using Sfu.Media.Pipes;

namespace Sfu.Tests.Media.Pipes;

/// <summary>The ring between two workers: order, wrap-around, its byte bound, closing, and when it wakes the reader.</summary>
public sealed class WorkerPipeTests
{
    // NUnit runs every test on one instance: each starts counting from zero.
    private int _wakes;

    [SetUp]
    public void ResetWakes() => _wakes = 0;

    [Test]
    public void Entries_ComeOutInOrder_WithKindTagArrivalAndPayload_ThenThePipeIsEmpty()
    {
        var pipe = new WorkerPipe(() => _wakes++, 4096);
        Assert.That(pipe.TryWrite(PipeEntryKind.Rtp, 2, 1234, [1, 2, 3]), Is.True);
        Assert.That(pipe.TryWrite(PipeEntryKind.Data, 1, 0, [9]), Is.True);

        var seen = new Recorder();
        Assert.That(pipe.Drain(seen, maxEntries: 10), Is.False, "nothing left");
        Assert.Multiple(() =>
        {
            Assert.That(seen.Entries, Is.EqualTo(new[] { (PipeEntryKind.Rtp, (byte)2, 1234L, "1,2,3"), (PipeEntryKind.Data, (byte)1, 0L, "9") }));
            Assert.That(pipe.QueuedBytes, Is.Zero);
        });
    }

    [Test]
    public void ThousandsOfEntries_ThroughASmallRing_WrapAroundItsEnd_AndEveryOneArrivesIntact()
    {
        var pipe = new WorkerPipe(() => _wakes++, 4096);
        var seen = new Recorder();
        var expected = new List<string>();
        for (var i = 0; i < 5000; i++)
        {
            // Lengths that do not divide the ring, so entries straddle its end and padding is needed.
            var payload = Enumerable.Range(0, 1 + (i * 37 % 300)).Select(b => (byte)(b + i)).ToArray();
            Assert.That(pipe.TryWrite(PipeEntryKind.Rtp, 0, i, payload), Is.True, $"entry {i}");
            expected.Add(string.Join(',', payload));
            if (i % 7 == 6) pipe.Drain(seen, maxEntries: 100);
        }
        pipe.Drain(seen, maxEntries: 10_000);

        Assert.Multiple(() =>
        {
            Assert.That(seen.Entries.Select(e => e.Payload), Is.EqualTo(expected));
            Assert.That(seen.Entries.Select(e => e.Arrival), Is.EqualTo(Enumerable.Range(0, 5000).Select(i => (long)i)));
        });
    }

    [Test]
    public void AFullRing_RefusesTheEntry_UntilTheReaderFreesRoom()
    {
        var pipe = new WorkerPipe(() => _wakes++, 4096);
        var written = 0;
        while (pipe.TryWrite(PipeEntryKind.Rtp, 0, 0, new byte[1000])) written++;

        Assert.Multiple(() =>
        {
            Assert.That(written, Is.EqualTo(4), "a 1000-byte entry takes 1024 bytes (header and alignment): four fit in 4096");
            Assert.That(pipe.QueuedBytes, Is.LessThanOrEqualTo(pipe.CapacityBytes));
        });
        Assert.That(pipe.Drain(new Recorder(), maxEntries: 1), Is.True, "three entries still wait");
        Assert.That(pipe.TryWrite(PipeEntryKind.Rtp, 0, 0, new byte[1000]), Is.True, "one entry's room is free again");
    }

    [Test]
    public void AnEntryLargerThanTheRing_IsRefused()
    {
        var pipe = new WorkerPipe(() => _wakes++, 4096);
        Assert.That(pipe.TryWrite(PipeEntryKind.Rtp, 0, 0, new byte[5000]), Is.False);
    }

    [Test]
    public void TheReaderIsWoken_OnlyWhenItHadReadEverything_NotForEveryEntry()
    {
        var pipe = new WorkerPipe(() => _wakes++, 4096);
        pipe.TryWrite(PipeEntryKind.Rtp, 0, 0, [1]);
        pipe.TryWrite(PipeEntryKind.Rtp, 0, 0, [2]);
        pipe.TryWrite(PipeEntryKind.Rtp, 0, 0, [3]);
        Assert.That(_wakes, Is.EqualTo(1), "the first entry into an empty pipe wakes; the reader will find the rest");

        pipe.Drain(new Recorder(), maxEntries: 2);
        pipe.TryWrite(PipeEntryKind.Rtp, 0, 0, [4]);
        Assert.That(_wakes, Is.EqualTo(1), "the reader has not caught up: it comes back for the rest by itself");

        pipe.Drain(new Recorder(), maxEntries: 10);
        pipe.TryWrite(PipeEntryKind.Rtp, 0, 0, [5]);
        Assert.That(_wakes, Is.EqualTo(2), "caught up, so it may be asleep: wake it");
    }

    [Test]
    public async Task AWriterAndAReaderOnTwoThreads_LoseNothing_AndTheReaderIsNeverLeftAsleepWithEntriesWaiting()
    {
        using var woken = new SemaphoreSlim(0);
        var pipe = new WorkerPipe(() => woken.Release(), 16 * 1024);
        const int Count = 200_000;
        var reader = Task.Run(async () =>
        {
            var seen = new SequenceChecker();
            while (seen.Next < Count)
            {
                // Sleeps like a worker: only a wake (or the give-up, which fails the test) brings it back. The give-up is
                // long because a loaded CI machine can keep the writer off its core for seconds; a lost wake waits forever.
                if (!pipe.Drain(seen, maxEntries: 64) && seen.Next < Count && !await woken.WaitAsync(TimeSpan.FromSeconds(15))) return seen;
            }
            return seen;
        });
        // Until the reader is done or gave up: a writer waiting for room that a reader who gave up never frees would
        // hang the suite (it did once on CI, under load, before the give-up was long enough).
        for (var i = 0; i < Count && !reader.IsCompleted;)
        {
            if (pipe.TryWrite(PipeEntryKind.Rtp, 0, i, BitConverter.GetBytes(i))) i++;
            else Thread.Yield();
        }
        var checker = await reader;

        Assert.Multiple(() =>
        {
            Assert.That(checker.Next, Is.EqualTo(Count), "every entry read, none left waiting for a wake that never came");
            Assert.That(checker.OutOfOrder, Is.Zero);
        });
    }

    private sealed class Recorder : IPipeEntryHandler
    {
        public List<(PipeEntryKind Kind, byte Tag, long Arrival, string Payload)> Entries { get; } = [];

        public void Handle(PipeEntry entry) => Entries.Add((entry.Kind, entry.Tag, entry.Arrival, string.Join(',', entry.Payload.ToArray())));
    }

    private sealed class SequenceChecker : IPipeEntryHandler
    {
        public int Next { get; private set; }

        public int OutOfOrder { get; private set; }

        public void Handle(PipeEntry entry)
        {
            if (BitConverter.ToInt32(entry.Payload) != Next) OutOfOrder++;
            Next++;
        }
    }
}
