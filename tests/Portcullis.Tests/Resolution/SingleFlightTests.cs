using Portcullis.Resolution;

namespace Portcullis.Tests.Resolution;

/// <summary>One run per key: callers share it, a caller's cancellation is its own, a finished run is gone before its result is seen.</summary>
public sealed class SingleFlightTests
{
    private readonly SingleFlight<string, int> _flights = new(StringComparer.Ordinal);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30); // generous: only a hang fails

    [Fact]
    public async Task Concurrent_callers_share_one_run()
    {
        int runs = 0;
        var gate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var callers = Enumerable.Range(0, 8)
            .Select(_ => _flights.RunDetachedAsync("a", _ => { Interlocked.Increment(ref runs); return gate.Task; }, CancellationToken.None))
            .ToList();
        Assert.Equal(1, _flights.Count);
        gate.SetResult(42);
        Assert.All(await Task.WhenAll(callers).WaitAsync(Bound), r => Assert.Equal(42, r));
        Assert.Equal(1, runs);
        Assert.Equal(0, _flights.Count);
    }

    [Fact]
    public async Task Different_keys_run_separately()
    {
        var a = _flights.RunDetachedAsync("a", _ => Task.FromResult(1), CancellationToken.None);
        var b = _flights.RunDetachedAsync("b", _ => Task.FromResult(2), CancellationToken.None);
        Assert.Equal((1, 2), (await a.WaitAsync(Bound), await b.WaitAsync(Bound)));
    }

    [Fact]
    public async Task One_callers_cancellation_stops_only_its_wait()
    {
        var gate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var hangUp = new CancellationTokenSource();
        var leaving = _flights.RunDetachedAsync("a", _ => gate.Task, hangUp.Token);
        var staying = _flights.RunDetachedAsync("a", _ => Task.FromResult(-1), CancellationToken.None);
        await hangUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leaving.WaitAsync(Bound));
        gate.SetResult(7);
        Assert.Equal(7, await staying.WaitAsync(Bound)); // the shared run went on
    }

    [Fact]
    public async Task A_failure_reaches_every_caller_and_the_next_call_runs_again()
    {
        var gate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = _flights.RunDetachedAsync("a", _ => gate.Task, CancellationToken.None);
        var second = _flights.RunAsync("a", (_, _) => Task.FromResult(-1), CancellationToken.None);
        gate.SetException(new InvalidOperationException("boom"));
        Assert.Equal("boom", (await Assert.ThrowsAsync<InvalidOperationException>(() => first.WaitAsync(Bound))).Message);
        Assert.Equal("boom", (await Assert.ThrowsAsync<InvalidOperationException>(() => second.WaitAsync(Bound))).Message);
        Assert.Equal(5, await _flights.RunDetachedAsync("a", _ => Task.FromResult(5), CancellationToken.None).WaitAsync(Bound));
    }

    [Fact]
    public async Task An_owned_run_throws_to_its_caller_even_when_the_work_throws_synchronously()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            _flights.RunAsync("a", (_, _) => throw new InvalidOperationException("sync"), CancellationToken.None).WaitAsync(Bound));
        Assert.Equal("sync", ex.Message);
        Assert.Equal(0, _flights.Count);
    }

    [Fact]
    public async Task An_owned_run_uses_the_callers_token_and_joiners_share_its_cancellation()
    {
        using var cts = new CancellationTokenSource();
        var owned = _flights.RunAsync("a", async (_, ct) => { await Task.Delay(Timeout.Infinite, ct); return 1; }, cts.Token);
        var joiner = _flights.RunDetachedAsync("a", _ => Task.FromResult(-1), CancellationToken.None);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => owned.WaitAsync(Bound));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => joiner.WaitAsync(Bound));
        Assert.Equal(0, _flights.Count);
    }

    [Fact]
    public async Task A_caller_resumed_by_the_result_starts_a_new_run()
    {
        // The continuation runs when the result is published: by then the finished run must be unregistered,
        // or this second call would take the old result instead of running.
        int runs = 0;
        var second = _flights.RunDetachedAsync("a", _ => Task.FromResult(Interlocked.Increment(ref runs)), CancellationToken.None)
            .ContinueWith(_ => _flights.RunDetachedAsync("a", _ => Task.FromResult(Interlocked.Increment(ref runs) * 10), CancellationToken.None),
                TaskContinuationOptions.ExecuteSynchronously).Unwrap();
        Assert.Equal(20, await second.WaitAsync(Bound));
        Assert.Equal(2, runs);
    }
}
