using System.Threading.Tasks.Sources;

namespace AkkaVoice.Cluster.Connections;

/// <summary>
/// An auto-reset event for exactly one waiter that allocates nothing per wait or per set: a paused socket
/// reader waits on it (<c>Outbound.TextDrained</c>), and the writer sets it when the text backlog drains.
/// </summary>
public sealed class AsyncSignal : IValueTaskSource
{
    private const int Idle = 0, Waiting = 1, Signaled = 2;
    private ManualResetValueTaskSourceCore<bool> core = new() { RunContinuationsAsynchronously = true };
    private int state;

    /// <summary>Wakes the waiter, or lets its next wait return at once.</summary>
    public void Set()
    {
        while (true)
        {
            switch (Volatile.Read(ref state))
            {
                case Signaled:
                    return;
                case Idle:
                    if (Interlocked.CompareExchange(ref state, Signaled, Idle) == Idle) return;
                    break;
                default:
                    if (Interlocked.CompareExchange(ref state, Idle, Waiting) == Waiting)
                    {
                        core.SetResult(true);
                        return;
                    }
                    break;
            }
        }
    }

    /// <summary>Completes when <see cref="Set"/> is called; only one caller may wait at a time.</summary>
    public ValueTask WaitAsync()
    {
        if (Interlocked.CompareExchange(ref state, Idle, Signaled) == Signaled) return default;
        core.Reset();
        if (Interlocked.CompareExchange(ref state, Waiting, Idle) == Idle) return new ValueTask(this, core.Version);
        // Set() ran between the two exchanges: consume it.
        Volatile.Write(ref state, Idle);
        return default;
    }

    void IValueTaskSource.GetResult(short token) => core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        core.OnCompleted(continuation, state, token, flags);
}
