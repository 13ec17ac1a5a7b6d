namespace Portcullis.TlsRpt;

/// <summary>
/// Bounds the work reports cause: at most <c>workers</c> are decoded, parsed and stored at a time,
/// on the thread pool but never more threads than that (the socketmap keeps the rest), and at most
/// <c>queue</c> more wait, their bodies in memory. A request beyond that is refused before its body
/// is read.
/// </summary>
public sealed class ReportIntake(int workers, int queue)
{
    private readonly SemaphoreSlim _workers = new(workers, workers);
    private int _inside;

    public int Capacity => workers + queue;

    /// <summary>Admits a request (reading, waiting or processing); false when full. Pair with <see cref="Leave"/>.</summary>
    public bool TryEnter()
    {
        if (Interlocked.Increment(ref _inside) <= Capacity)
            return true;
        Interlocked.Decrement(ref _inside);
        return false;
    }

    public void Leave() => Interlocked.Decrement(ref _inside);

    /// <summary>Runs <paramref name="work"/> when a worker is free; once started it runs to the end (a store is never left half-done).</summary>
    public async Task<T> RunAsync<T>(Func<T> work, CancellationToken ct)
    {
        await _workers.WaitAsync(ct);
        try
        {
            return await Task.Run(work, CancellationToken.None);
        }
        finally
        {
            _workers.Release();
        }
    }
}
