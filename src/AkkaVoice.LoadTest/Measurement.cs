using System.Diagnostics;
using HdrHistogram;

namespace AkkaVoice.LoadTest;

/// <summary>
/// The counters of one measured step. Frames are attributed by their send timestamp: a frame counts
/// (as expected, delivered, late or duplicate) only when it was sent inside [WindowStart, WindowEnd),
/// so warm-up frames and frames of a previous step never mix in.
/// </summary>
/// <remarks>
/// Receivers run on many threads at up to a few hundred thousand frames a second, so their side is split
/// into shards (a member always uses the same one), each a plain histogram and plain counters behind its
/// own lock: one uncontended lock per frame instead of several contended atomic operations.
/// </remarks>
public sealed class Measurement
{
    /// <summary>Latencies are recorded in microseconds up to this (a minute); anything later is clamped.</summary>
    public const long MaxLatencyMicros = 60_000_000;

    /// <summary>Receiver shards; far more than cores, so two readers rarely meet on one lock.</summary>
    public const int Shards = 32;

    private static readonly double MicrosPerTick = 1_000_000.0 / Stopwatch.Frequency;

    private readonly long[] expectedBySecond;
    private readonly Shard[] shards;
    private long sent, sentInWindow, expected, sendBusy, sendErrors;

    public Measurement(int step, int rooms, double warmupSeconds, double measureSeconds, double drainSeconds)
    {
        Step = step;
        Rooms = rooms;
        Start = Stopwatch.GetTimestamp();
        WindowStart = Start + (long)(warmupSeconds * Stopwatch.Frequency);
        WindowEnd = WindowStart + (long)(measureSeconds * Stopwatch.Frequency);
        MeasureSeconds = measureSeconds;
        int seconds = (int)Math.Ceiling(warmupSeconds + measureSeconds + drainSeconds) + 2;
        expectedBySecond = new long[seconds];
        shards = new Shard[Shards];
        for (int i = 0; i < shards.Length; i++) shards[i] = new Shard(seconds);
    }

    public int Step { get; }
    public int Rooms { get; }
    public long Start { get; }
    public long WindowStart { get; }
    public long WindowEnd { get; }
    public double MeasureSeconds { get; }

    public long Sent => Interlocked.Read(ref sent);
    public long SentInWindow => Interlocked.Read(ref sentInWindow);
    public long Expected => Interlocked.Read(ref expected);
    public long SendBusy => Interlocked.Read(ref sendBusy);
    public long SendErrors => Interlocked.Read(ref sendErrors);

    public bool InWindow(long timestamp) => timestamp >= WindowStart && timestamp < WindowEnd;

    /// <summary>A sender put a frame on the wire at <paramref name="timestamp"/>; <paramref name="receivers"/> should get it.</summary>
    public void OnSent(long timestamp, int receivers)
    {
        Interlocked.Increment(ref sent);
        int second = SecondOf(timestamp);
        if ((uint)second < (uint)expectedBySecond.Length) Interlocked.Add(ref expectedBySecond[second], receivers);
        if (!InWindow(timestamp)) return;
        Interlocked.Increment(ref sentInWindow);
        Interlocked.Add(ref expected, receivers);
    }

    public void OnSendBusy() => Interlocked.Increment(ref sendBusy);

    public void OnSendError() => Interlocked.Increment(ref sendErrors);

    /// <summary>What a receiver made of one frame.</summary>
    public enum Arrival
    {
        New,
        Late,
        Duplicate,
        Malformed,
        Foreign,
    }

    /// <summary>Records one received frame sent at <paramref name="sentAt"/>, seen at <paramref name="now"/>, in shard <paramref name="shard"/>.</summary>
    public void OnReceived(int shard, Arrival arrival, long sentAt, long now)
    {
        var s = shards[shard];
        bool inWindow = InWindow(sentAt);
        lock (s)
        {
            switch (arrival)
            {
                case Arrival.New or Arrival.Late:
                    long micros = Math.Clamp((long)((now - sentAt) * MicrosPerTick), 1, MaxLatencyMicros);
                    int second = SecondOf(sentAt);
                    if ((uint)second < (uint)s.DeliveredBySecond.Length) s.DeliveredBySecond[second]++;
                    s.Live.RecordValue(micros);
                    s.LiveCount++;
                    if (!inWindow) return;
                    s.Delivered++;
                    s.Window.RecordValue(micros);
                    if (arrival == Arrival.Late) s.OrderViolations++;
                    break;
                case Arrival.Duplicate:
                    if (inWindow) s.Duplicates++;
                    break;
                case Arrival.Malformed:
                    s.Malformed++;
                    break;
                case Arrival.Foreign:
                    s.Foreign++;
                    break;
            }
        }
    }

    public long Delivered => Sum(s => s.Delivered);
    public long Duplicates => Sum(s => s.Duplicates);
    public long OrderViolations => Sum(s => s.OrderViolations);
    public long Malformed => Sum(s => s.Malformed);
    public long Foreign => Sum(s => s.Foreign);

    /// <summary>Latencies since the last call (all frames, warm-up included), for the progress line; resets them.</summary>
    public LongHistogram TakeLive()
    {
        var h = NewHistogram();
        foreach (var s in shards)
        {
            lock (s)
            {
                if (s.LiveCount == 0) continue;
                h.Add(s.Live);
                s.Live.Reset();
                s.LiveCount = 0;
            }
        }
        return h;
    }

    /// <summary>Latencies of the measured window so far.</summary>
    public LongHistogram WindowSoFar()
    {
        var h = NewHistogram();
        foreach (var s in shards)
        {
            lock (s) h.Add(s.Window);
        }
        return h;
    }

    /// <summary>Loss over the seconds that are at least <paramref name="settleSeconds"/> old (their frames had time to arrive); NaN before any.</summary>
    public double LossSoFar(long now, double settleSeconds)
    {
        int complete = Math.Min((int)Math.Floor((now - Start) / (double)Stopwatch.Frequency - settleSeconds), expectedBySecond.Length);
        long expectedSoFar = 0, delivered = 0;
        for (int i = 0; i < complete; i++) expectedSoFar += Interlocked.Read(ref expectedBySecond[i]);
        foreach (var s in shards)
        {
            lock (s)
            {
                for (int i = 0; i < complete; i++) delivered += s.DeliveredBySecond[i];
            }
        }
        return expectedSoFar == 0 ? double.NaN : Math.Max(0, 1 - (double)delivered / expectedSoFar);
    }

    /// <summary>The value at <paramref name="percentile"/>, or 0 for an empty histogram.</summary>
    public static long Percentile(HistogramBase h, double percentile) => h.TotalCount == 0 ? 0 : h.GetValueAtPercentile(percentile);

    private long Sum(Func<Shard, long> field)
    {
        long total = 0;
        foreach (var s in shards)
        {
            lock (s) total += field(s);
        }
        return total;
    }

    private int SecondOf(long timestamp) => (int)((timestamp - Start) / Stopwatch.Frequency);

    public static LongHistogram NewHistogram() => new(1, MaxLatencyMicros, 3);

    private sealed class Shard(int seconds)
    {
        public readonly LongHistogram Live = NewHistogram();
        public readonly LongHistogram Window = NewHistogram();
        public readonly long[] DeliveredBySecond = new long[seconds];
        public long LiveCount, Delivered, Duplicates, OrderViolations, Malformed, Foreign;
    }
}
