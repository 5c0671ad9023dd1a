using System.Diagnostics;
using HdrHistogram;

namespace AkkaVoice.LoadTest;

/// <summary>
/// The counters of one measured step. Frames are attributed by their send timestamp: a frame counts
/// (as expected, delivered, late or duplicate) only when it was sent inside [WindowStart, WindowEnd),
/// so warm-up frames and frames of a previous step never mix in. Senders and receivers on many threads
/// write here; the progress loop and the final report read.
/// </summary>
public sealed class Measurement
{
    /// <summary>Latencies are recorded in microseconds up to this (a minute); anything later is clamped.</summary>
    public const long MaxLatencyMicros = 60_000_000;

    private static readonly double MicrosPerTick = 1_000_000.0 / Stopwatch.Frequency;

    private readonly long[] expectedBySecond;
    private readonly long[] deliveredBySecond;
    private readonly Recorder windowLatency = NewRecorder();
    private readonly Recorder liveLatency = NewRecorder();
    private readonly LongHistogram window = NewHistogram();
    private HistogramBase? windowInterval, liveInterval;

    public long Sent, SentInWindow, Expected, Delivered, Duplicates, OrderViolations, Malformed, Foreign, SendBusy, SendErrors;

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
        deliveredBySecond = new long[seconds];
    }

    public int Step { get; }
    public int Rooms { get; }
    public long Start { get; }
    public long WindowStart { get; }
    public long WindowEnd { get; }
    public double MeasureSeconds { get; }

    public bool InWindow(long timestamp) => timestamp >= WindowStart && timestamp < WindowEnd;

    /// <summary>A sender put a frame on the wire at <paramref name="timestamp"/>; <paramref name="receivers"/> should get it.</summary>
    public void OnSent(long timestamp, int receivers)
    {
        Interlocked.Increment(ref Sent);
        int second = SecondOf(timestamp);
        if ((uint)second < (uint)expectedBySecond.Length) Interlocked.Add(ref expectedBySecond[second], receivers);
        if (!InWindow(timestamp)) return;
        Interlocked.Increment(ref SentInWindow);
        Interlocked.Add(ref Expected, receivers);
    }

    /// <summary>A receiver got a frame sent at <paramref name="sentAt"/>, not seen before.</summary>
    public void OnDelivered(long sentAt, long now)
    {
        long micros = Math.Clamp((long)((now - sentAt) * MicrosPerTick), 1, MaxLatencyMicros);
        int second = SecondOf(sentAt);
        if ((uint)second < (uint)deliveredBySecond.Length) Interlocked.Increment(ref deliveredBySecond[second]);
        liveLatency.RecordValue(micros);
        if (!InWindow(sentAt)) return;
        Interlocked.Increment(ref Delivered);
        windowLatency.RecordValue(micros);
    }

    public void OnDuplicate(long sentAt)
    {
        if (InWindow(sentAt)) Interlocked.Increment(ref Duplicates);
    }

    public void OnOrderViolation(long sentAt)
    {
        if (InWindow(sentAt)) Interlocked.Increment(ref OrderViolations);
    }

    /// <summary>Latencies of the last interval (all frames, warm-up included); for the progress line. Single reader.</summary>
    public HistogramBase TakeLiveInterval()
    {
        liveInterval = liveLatency.GetIntervalHistogram(liveInterval);
        return liveInterval;
    }

    /// <summary>Latencies of the measured window so far. Single reader.</summary>
    public HistogramBase WindowSoFar()
    {
        windowInterval = windowLatency.GetIntervalHistogram(windowInterval);
        window.Add(windowInterval);
        return window;
    }

    /// <summary>Loss over the seconds that are at least <paramref name="settleSeconds"/> old (their frames had time to arrive); NaN before any.</summary>
    public double LossSoFar(long now, double settleSeconds)
    {
        int complete = (int)Math.Floor((now - Start) / (double)Stopwatch.Frequency - settleSeconds);
        long expected = 0, delivered = 0;
        for (int s = 0; s < Math.Min(complete, expectedBySecond.Length); s++)
        {
            expected += Volatile.Read(ref expectedBySecond[s]);
            delivered += Volatile.Read(ref deliveredBySecond[s]);
        }
        return expected == 0 ? double.NaN : Math.Max(0, 1 - (double)delivered / expected);
    }

    private int SecondOf(long timestamp) => (int)((timestamp - Start) / Stopwatch.Frequency);

    private static Recorder NewRecorder() =>
        new(1, MaxLatencyMicros, 3, (id, low, high, digits) => new LongConcurrentHistogram(id, low, high, digits));

    private static LongHistogram NewHistogram() => new(1, MaxLatencyMicros, 3);
}
