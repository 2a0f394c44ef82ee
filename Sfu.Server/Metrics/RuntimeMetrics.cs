using Prometheus;
using Sfu.Media.Diagnostics;

namespace Sfu.Server.Metrics;

/// <summary>
/// The runtime figures a latency-sensitive server wants graphed next to its own: garbage-collection counts,
/// pauses and allocation, CPU, working set, thread pool. A GC pause stops every session and the media worker.
/// Read from the runtime's own counters when the registry is scraped, so they cost nothing in between. The
/// names are those of the runtime's <c>System.Runtime</c> meter, which the dashboard and the load tool read.
/// </summary>
internal static class RuntimeMetrics
{
    private static readonly string[] Generations = ["gen0", "gen1", "gen2", "loh", "poh"];

    public static void Register(CollectorRegistry registry)
    {
        var factory = MetricFactories.For(registry);
        var collections = factory.CreateCounter("dotnet_gc_collections_total",
            "Garbage collections since the process started, each counted once under the oldest generation it collected.", ["gc_heap_generation"]);
        var gen0 = collections.WithLabels("gen0");
        var gen1 = collections.WithLabels("gen1");
        var gen2 = collections.WithLabels("gen2");
        var pause = factory.CreateCounter("dotnet_gc_pause_time_seconds_total", "Time the garbage collector has paused the process.");
        var allocated = factory.CreateCounter("dotnet_gc_heap_total_allocated_bytes_total", "Bytes allocated on the managed heap since the process started.");
        var heapSize = factory.CreateGauge("dotnet_gc_last_collection_heap_size_bytes", "Size of each heap generation after the last collection.", ["gc_heap_generation"]);
        var heapSizes = Generations.Select(g => heapSize.WithLabels(g)).ToArray();
        var cpu = factory.CreateCounter("dotnet_process_cpu_time_seconds_total", "CPU time used by the process, by mode.", ["cpu_mode"]);
        var userCpu = cpu.WithLabels("user");
        var systemCpu = cpu.WithLabels("system");
        var workingSet = factory.CreateGauge("dotnet_process_memory_working_set_bytes", "Physical memory mapped to the process.");
        var threads = factory.CreateGauge("dotnet_thread_pool_thread_count", "Thread-pool threads.");
        var queue = factory.CreateGauge("dotnet_thread_pool_queue_length", "Work items queued to the thread pool, not started yet.");
        var workItems = factory.CreateCounter("dotnet_thread_pool_work_item_count_total", "Work items the thread pool has completed.");
        var contentions = factory.CreateCounter("dotnet_monitor_lock_contentions_total", "Times a thread waited for a lock held by another.");
        // Compiling (and recompiling hot methods at a higher tier) is process CPU: a load measurement that starts on a
        // fresh process reads it as the cost of its packets unless it can tell the two apart.
        var jitTime = factory.CreateCounter("dotnet_jit_compilation_time_seconds_total", "Time the JIT compiler spent compiling methods, on every thread.");
        var jitMethods = factory.CreateCounter("dotnet_jit_compiled_methods_total", "Methods the JIT compiler compiled, recompilations included.");

        registry.AddBeforeCollectCallback(() =>
        {
            int count0 = GC.CollectionCount(0), count1 = GC.CollectionCount(1), count2 = GC.CollectionCount(2);
            gen0.IncTo(count0 - count1);
            gen1.IncTo(count1 - count2);
            gen2.IncTo(count2);
            pause.IncTo(GC.GetTotalPauseDuration().TotalSeconds);
            allocated.IncTo(GC.GetTotalAllocatedBytes());
            var generations = GC.GetGCMemoryInfo().GenerationInfo;
            for (var i = 0; i < generations.Length && i < heapSizes.Length; i++) heapSizes[i].Set(generations[i].SizeAfterBytes);
            var usage = Environment.CpuUsage;
            userCpu.IncTo(usage.UserTime.TotalSeconds);
            systemCpu.IncTo(usage.PrivilegedTime.TotalSeconds);
            workingSet.Set(Environment.WorkingSet);
            threads.Set(ThreadPool.ThreadCount);
            queue.Set(ThreadPool.PendingWorkItemCount);
            workItems.IncTo(ThreadPool.CompletedWorkItemCount);
            contentions.IncTo(Monitor.LockContentionCount);
            jitTime.IncTo(System.Runtime.JitInfo.GetCompilationTime().TotalSeconds);
            jitMethods.IncTo(System.Runtime.JitInfo.GetCompiledMethodCount());
        });
    }
}
