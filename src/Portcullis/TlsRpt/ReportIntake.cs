using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Portcullis.TlsRpt;

/// <summary>
/// Bounds the work reports cause: <c>workers</c> dedicated threads, niced so the socketmap's threads
/// win any contention for the CPU, decode, parse and store one report each at a time (each with one
/// reused decompression buffer, so a flood does not churn the large-object heap); at most
/// <c>queue</c> more wait, their bodies in memory. A request beyond that is refused before its body
/// is read.
/// </summary>
public sealed class ReportIntake : IDisposable
{
    /// <summary>Linux nice value of the worker threads (per thread on Linux; raising it needs no privilege).</summary>
    public const int WorkerNice = 19;

    private sealed class Work(Func<byte[], (ReceiveOutcome, string)> run)
    {
        public readonly Func<byte[], (ReceiveOutcome, string)> Run = run;
        public readonly TaskCompletionSource<(ReceiveOutcome, string)> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int State; // 0 waiting, 1 running, 2 abandoned by its request
    }

    private readonly BlockingCollection<Work> _queue = new();
    private readonly int _workers, _waiting;
    private int _inside;

    public ReportIntake(int workers, int queue, int maxBodyBytes)
    {
        (_workers, _waiting) = (workers, queue);
        Bodies = System.Buffers.ArrayPool<byte>.Create(maxBodyBytes + 1, workers + queue);
        for (int i = 0; i < workers; i++)
            new Thread(Loop) { IsBackground = true, Name = $"tlsrpt-worker-{i}" }.Start();
    }

    public int Capacity => _workers + _waiting;

    /// <summary>Buffers for the admitted requests' bodies: one per admitted request at most, so after warming up a
    /// flood allocates none (bodies above 85 KB would be large objects, each adding to the next blocking full GC).</summary>
    public System.Buffers.ArrayPool<byte> Bodies { get; }

    /// <summary>Admits a request (reading, waiting or processing); false when full. Pair with <see cref="Leave"/>.</summary>
    public bool TryEnter()
    {
        if (Interlocked.Increment(ref _inside) <= Capacity)
            return true;
        Interlocked.Decrement(ref _inside);
        return false;
    }

    public void Leave() => Interlocked.Decrement(ref _inside);

    /// <summary>Runs <paramref name="work"/> on a worker with its decompression buffer. Cancelled before a worker
    /// took it, it never runs; once started it runs to the end (a store is never left half-done).</summary>
    public async Task<(ReceiveOutcome Outcome, string Detail)> RunAsync(Func<byte[], (ReceiveOutcome, string)> work, CancellationToken ct)
    {
        var item = new Work(work);
        _queue.Add(item, ct);
        try
        {
            return await item.Done.Task.WaitAsync(ct);
        }
        catch (OperationCanceledException) when (Interlocked.CompareExchange(ref item.State, 2, 0) == 1)
        {
            return await item.Done.Task; // already running: its outcome stands
        }
    }

    private void Loop()
    {
        Nice(WorkerNice);
        // Allocated at the first report, not at start: most daemons receive none, and 10 MB per worker would be
        // most of an idle daemon's heap.
        byte[]? scratch = null;
        foreach (var item in _queue.GetConsumingEnumerable())
        {
            if (Interlocked.CompareExchange(ref item.State, 1, 0) != 0)
                continue;
            try
            {
                scratch ??= new byte[ReportInput.MaxReportBytes + 1];
                item.Done.SetResult(item.Run(scratch));
            }
            catch (Exception ex)
            {
                item.Done.SetException(ex);
            }
        }
    }

    private static void Nice(int value)
    {
        if (!OperatingSystem.IsLinux())
            return;
        try
        {
            _ = SetPriority(0, GetTid(), value); // PRIO_PROCESS with a thread id: this thread only
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            // An old libc without gettid: the workers run at normal priority, still bounded in number.
        }
    }

    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int GetTid();

    [DllImport("libc", EntryPoint = "setpriority")]
    private static extern int SetPriority(int which, int who, int prio);

    public void Dispose() => _queue.CompleteAdding();
}
