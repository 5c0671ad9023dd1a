using System.Diagnostics;

namespace AkkaVoice.Cluster;

/// <summary>
/// A token bucket for one thread (a connection's reader, a room actor), so no lock: <paramref name="perSecond"/>
/// tokens a second, at most <paramref name="burst"/> saved up. Times are <see cref="Stopwatch"/> timestamps.
/// </summary>
internal struct TokenBucket(double perSecond, int burst)
{
    private readonly long ticksPerToken = (long)(Stopwatch.Frequency / perSecond);
    private double tokens = burst;
    private long lastRefill = Stopwatch.GetTimestamp();

    public bool TryTake(long now)
    {
        tokens = Math.Min(burst, tokens + (double)(now - lastRefill) / ticksPerToken);
        lastRefill = now;
        if (tokens < 1) return false;
        tokens -= 1;
        return true;
    }
}
