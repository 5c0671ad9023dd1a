using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AkkaVoice.LoadTest;

/// <summary>Latency percentiles in milliseconds, as receivers measured them (send to receive, same clock).</summary>
public sealed record LatencyMs(double P50, double P90, double P99, double P999, double Max, double Mean);

/// <summary>The figures of one measured step.</summary>
public sealed record StepResult(
    int Step,
    int Rooms,
    int Connections,
    int Speakers,
    double Seconds,
    long FramesSent,
    long Expected,
    long Delivered,
    double SentPerSecond,
    double ExpectedPerSecond,
    double DeliveredPerSecond,
    double LossRatio,
    long Duplicates,
    long OrderViolations,
    long Malformed,
    long Foreign,
    long SendBusy,
    long SendErrors,
    long SkippedFrames,
    LatencyMs LatencyMs)
{
    /// <summary>Set for ramp steps: whether the step met --max-p99-ms and --max-loss.</summary>
    public bool? Passed { get; init; }

    internal static StepResult From(Measurement m, LoadRun run, LoadOptions options, long skipped)
    {
        var h = m.WindowSoFar();
        double Ms(double micros) => Math.Round(micros / 1000.0, 3);
        var latency = h.TotalCount == 0
            ? new LatencyMs(0, 0, 0, 0, 0, 0)
            : new LatencyMs(Ms(Measurement.Percentile(h, 50)), Ms(Measurement.Percentile(h, 90)), Ms(Measurement.Percentile(h, 99)),
                Ms(Measurement.Percentile(h, 99.9)), Ms(HdrHistogram.HistogramExtensions.GetMaxValue(h)), Ms(HdrHistogram.HistogramExtensions.GetMean(h)));
        long expected = m.Expected, delivered = m.Delivered;
        double seconds = m.MeasureSeconds;
        return new StepResult(m.Step, m.Rooms, run.Connections, m.Rooms * options.Speakers, seconds,
            m.SentInWindow, expected, delivered,
            Math.Round(m.SentInWindow / seconds, 1), Math.Round(expected / seconds, 1), Math.Round(delivered / seconds, 1),
            expected == 0 ? 0 : Math.Max(0, 1 - (double)delivered / expected),
            m.Duplicates, m.OrderViolations, m.Malformed, m.Foreign, m.SendBusy, m.SendErrors, skipped, latency);
    }

    public string Summary() => LoadRun.Invariant($"""
          rooms {Rooms}, connections {Connections}, speakers {Speakers}, measured {Seconds:0.#} s
          sent        {FramesSent,12:N0} frames   ({SentPerSecond:N0}/s)
          expected    {Expected,12:N0} deliveries ({ExpectedPerSecond:N0}/s)
          delivered   {Delivered,12:N0} deliveries ({DeliveredPerSecond:N0}/s)
          loss        {LossRatio:0.000000}   duplicates {Duplicates}   order violations {OrderViolations}
          latency ms  p50 {LatencyMs.P50:0.00}  p90 {LatencyMs.P90:0.00}  p99 {LatencyMs.P99:0.00}  p99.9 {LatencyMs.P999:0.00}  max {LatencyMs.Max:0.00}  mean {LatencyMs.Mean:0.00}
          sender      {SendBusy} sends waited on the previous one, {SkippedFrames} frames skipped (generator behind), {SendErrors} send errors
        """);
}

/// <summary>The whole run as written by --json.</summary>
public sealed record RunResult(
    string? Label,
    DateTimeOffset Started,
    string[] Nodes,
    string Placement,
    int MembersPerRoom,
    int SpeakersPerRoom,
    double Fps,
    int PayloadBytes,
    double WarmupSeconds,
    int ConnectFailures,
    double ConnectSeconds,
    bool Ramp,
    StepResult[] Steps,
    StepResult? Result)
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public string Summary()
    {
        var sb = new StringBuilder();
        sb.AppendLine(LoadRun.Invariant($"AkkaVoice load {(Label is null ? "" : $"'{Label}' ")}on {Nodes.Length} node(s), placement {Placement}, {MembersPerRoom} members / {SpeakersPerRoom} speakers per room, {Fps} fps, {PayloadBytes} B payload"));
        if (ConnectFailures > 0) sb.AppendLine(LoadRun.Invariant($"  {ConnectFailures} connections failed"));
        if (Ramp)
        {
            foreach (var s in Steps)
                sb.AppendLine(LoadRun.Invariant($"  step {s.Step}: {s.Rooms} rooms, {s.DeliveredPerSecond:N0} deliveries/s, loss {s.LossRatio:0.0000}, p99 {s.LatencyMs.P99:0.00} ms: {(s.Passed == true ? "passed" : "failed")}"));
            sb.AppendLine(Result is null ? "  no step passed" : LoadRun.Invariant($"  highest step that passed: {Result.Step} ({Result.Rooms} rooms)"));
        }
        if (Result is not null) sb.Append(Result.Summary());
        return sb.ToString();
    }
}
