using System.Diagnostics;
using AkkaVoice.Cluster.Connections;
using Xunit;

namespace AkkaVoice.Tests.Connections;

public sealed class AsyncSignalTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public void A_wait_after_a_set_completes_at_once()
    {
        var signal = new AsyncSignal();
        signal.Set();
        Assert.True(signal.WaitAsync().IsCompletedSuccessfully);
    }

    [Fact]
    public async Task A_set_is_consumed_by_one_wait()
    {
        var signal = new AsyncSignal();
        signal.Set();
        await signal.WaitAsync();
        var next = signal.WaitAsync();
        Assert.False(next.IsCompleted);
        signal.Set();
        await next.AsTask().WaitAsync(Patience);
    }

    [Fact]
    public void Sets_before_a_wait_wake_it_once()
    {
        var signal = new AsyncSignal();
        signal.Set();
        signal.Set();
        signal.Set();
        Assert.True(signal.WaitAsync().IsCompletedSuccessfully);
        Assert.False(signal.WaitAsync().IsCompleted);
    }

    [Fact]
    public async Task A_set_after_a_wait_completes_it()
    {
        var signal = new AsyncSignal();
        var wait = signal.WaitAsync();
        Assert.False(wait.IsCompleted);
        signal.Set();
        await wait.AsTask().WaitAsync(Patience);
    }

    [Fact]
    public async Task A_set_from_another_thread_completes_the_wait()
    {
        var signal = new AsyncSignal();
        var wait = signal.WaitAsync().AsTask();
        await Task.Run(signal.Set);
        await wait.WaitAsync(Patience);
    }

    [Fact]
    public async Task A_set_never_runs_the_waiter_on_the_setters_thread()
    {
        // The relay sets the signal for every frame; the socket writer's code must not run on the relay's thread.
        var signal = new AsyncSignal();
        using var release = new ManualResetEventSlim();
        var waiter = WaitThenBlockAsync(signal, release);
        try
        {
            var set = Task.Factory.StartNew(signal.Set, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            await set.WaitAsync(Patience);
        }
        finally
        {
            release.Set();
        }
        await waiter.WaitAsync(Patience);

        static async Task WaitThenBlockAsync(AsyncSignal signal, ManualResetEventSlim release)
        {
            await signal.WaitAsync();
            release.Wait();
        }
    }

    [Fact]
    public async Task A_set_landing_just_as_the_waiter_starts_to_wait_is_never_lost()
    {
        // Waiter and setter go in lock step: the waiter announces each wait and the setter sets once,
        // with random jitter on both sides so that over many rounds the set lands before, during and
        // after the wait begins. The waiter polls its wait instead of awaiting it, so that a round costs
        // microseconds, not a thread pool hop. A lost wakeup leaves one wait incomplete and fails the test.
        // On a busy machine the rounds stop at the time budget, so the test stays short there too.
        const int Rounds = 50_000;
        var budget = Stopwatch.StartNew();
        var signal = new AsyncSignal();
        int armed = 0;
        bool abandoned = false;
        var setter = new Thread(() =>
        {
            var jitter = new Random(1);
            for (int round = 1; round <= Rounds; round++)
            {
                var spin = new SpinWait();
                while (Volatile.Read(ref armed) < round)
                {
                    if (Volatile.Read(ref abandoned)) return;
                    spin.SpinOnce(sleep1Threshold: -1);
                }
                Thread.SpinWait(jitter.Next(0, 32));
                signal.Set();
            }
        }) { IsBackground = true };
        setter.Start();
        try
        {
            var jitter = new Random(2);
            for (int round = 1; round <= Rounds && budget.Elapsed < TimeSpan.FromSeconds(5); round++)
            {
                Volatile.Write(ref armed, round);
                Thread.SpinWait(jitter.Next(0, 32));
                var wait = signal.WaitAsync();
                long started = Stopwatch.GetTimestamp();
                var spin = new SpinWait();
                while (!wait.IsCompleted)
                {
                    Assert.True(Stopwatch.GetElapsedTime(started) < Patience, $"the set of round {round} was lost");
                    spin.SpinOnce(sleep1Threshold: -1);
                }
                // Completed, so this runs on without a hop; it also checks the wait did not fail.
                await wait;
            }
        }
        finally
        {
            Volatile.Write(ref abandoned, true);
            setter.Join();
        }
        // Every set was consumed by exactly one wait: nothing is left over.
        Assert.False(signal.WaitAsync().IsCompleted);
    }

    [Fact]
    public async Task Many_concurrent_sets_from_several_threads_with_one_waiter_lose_no_wakeup()
    {
        const int Threads = 3, SetsEach = 20_000;
        const long Total = Threads * SetsEach;
        var signal = new AsyncSignal();
        long sets = 0, wakeups = 0;
        var waiterRunning = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var waiter = Task.Run(async () =>
        {
            waiterRunning.SetResult();
            do
            {
                await signal.WaitAsync();
                wakeups++;
            }
            while (Interlocked.Read(ref sets) < Total);
        });
        await waiterRunning.Task.WaitAsync(Patience);
        var setters = Enumerable.Range(0, Threads).Select(t => Task.Factory.StartNew(() =>
        {
            // Short random pauses spread the sets out, so the waiter wakes and waits again many times
            // while the others keep setting.
            var jitter = new Random(t);
            for (int i = 0; i < SetsEach; i++)
            {
                Interlocked.Increment(ref sets);
                signal.Set();
                Thread.SpinWait(jitter.Next(0, 200));
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();

        await Task.WhenAll(setters).WaitAsync(TimeSpan.FromSeconds(60));
        await waiter.WaitAsync(Patience);
        // Sets that land before the waiter gets round to waiting again collapse into one wakeup.
        Assert.InRange(wakeups, 1, Total);
    }
}
