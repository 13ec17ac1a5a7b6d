using System.Collections.Concurrent;

namespace Portcullis.Resolution;

/// <summary>
/// At most one run of some work per key at a time: callers arriving while it runs share its result.
/// A finished run is unregistered before its result is published, so a caller resumed by that result
/// and asking again starts a new run instead of taking the old one.
/// </summary>
public sealed class SingleFlight<TKey, T>(IEqualityComparer<TKey>? comparer = null) where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, Task<T>> _inflight = new(comparer);

    /// <summary>Runs in flight now.</summary>
    public int Count => _inflight.Count;

    /// <summary>
    /// Joins the run for <paramref name="key"/>, or starts <paramref name="work"/> on the thread pool, detached from
    /// every caller: one caller's cancellation (Postfix hanging up) only stops that caller's wait.
    /// </summary>
    public Task<T> RunDetachedAsync(TKey key, Func<TKey, Task<T>> work, CancellationToken ct)
    {
        var mine = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var shared = _inflight.GetOrAdd(key, mine.Task);
        if (shared == mine.Task)
            _ = CompleteAsync(key, mine, Task.Run(() => work(key), CancellationToken.None), rethrow: false);
        return shared.WaitAsync(ct);
    }

    /// <summary>
    /// Joins the run for <paramref name="key"/>, or runs <paramref name="work"/> on this caller's token: others that
    /// join meanwhile share its result, its failure and its cancellation.
    /// </summary>
    public async Task<T> RunAsync(TKey key, Func<TKey, CancellationToken, Task<T>> work, CancellationToken ct)
    {
        var mine = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var shared = _inflight.GetOrAdd(key, mine.Task);
        if (shared != mine.Task)
            return await shared.WaitAsync(ct);
        Task<T> run;
        try
        {
            run = work(key, ct);
        }
        catch (Exception ex)
        {
            run = Task.FromException<T>(ex); // a synchronous throw is a failed run like any other
        }
        return await CompleteAsync(key, mine, run, rethrow: true);
    }

    private async Task<T> CompleteAsync(TKey key, TaskCompletionSource<T> mine, Task<T> run, bool rethrow)
    {
        T result;
        try
        {
            result = await run;
        }
        catch (Exception ex)
        {
            Unregister(key, mine);
            mine.SetException(ex);
            if (rethrow)
                throw;
            return default!;
        }
        Unregister(key, mine);
        mine.SetResult(result);
        return result;
    }

    // Only this run's own entry: a newer one may already be registered.
    private void Unregister(TKey key, TaskCompletionSource<T> mine) =>
        _inflight.TryRemove(new KeyValuePair<TKey, Task<T>>(key, mine.Task));
}
