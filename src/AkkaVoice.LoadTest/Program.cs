using AkkaVoice.LoadTest;

// `chaos`: the probe scripts/chaos.sh drives (ChaosProbe), not a load run.
if (args.Length > 0 && args[0] == "chaos") return await ChaosProbe.RunAsync(args[1..]);
// `listing`: fills a running cluster with rooms and times GET /api/v1/rooms (ListingBench).
if (args.Length > 0 && args[0] == "listing") return await ListingBench.RunAsync(args[1..]);
// `stage`: the stage-room benchmark scripts/stage-bench.sh runs (StageBench).
if (args.Length > 0 && args[0] == "stage") return await StageBench.RunAsync(args[1..]);

LoadOptions? options;
try
{
    options = LoadOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
if (options is null)
{
    Console.WriteLine(LoadOptions.Help);
    return 0;
}

// Thousands of sockets complete reads on the pool at once; start with enough threads not to wait for injection.
ThreadPool.GetMinThreads(out var workers, out var io);
ThreadPool.SetMinThreads(Math.Max(workers, Environment.ProcessorCount * 4), io);

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

var started = DateTimeOffset.UtcNow;
var steps = new List<StepResult>();
StepResult? result = null;
using var nodes = new NodeMap(options);
var run = new LoadRun(options, nodes);
try
{
    await nodes.InitializeAsync(cancel.Token);
    if (!options.Ramp)
    {
        await run.GrowToAsync(options.Rooms, cancel.Token);
        result = await run.MeasureAsync(0, options.Duration, cancel.Token);
        steps.Add(result);
    }
    else
    {
        double rooms = options.Rooms;
        for (int step = 0; step < options.MaxSteps; step++)
        {
            int target = Math.Max(run.RoomCount + (step == 0 ? 0 : 1), (int)Math.Round(rooms));
            await run.GrowToAsync(target, cancel.Token);
            var s = await run.MeasureAsync(step, options.StepSeconds, cancel.Token);
            s = s with { Passed = s.LatencyMs.P99 <= options.MaxP99Ms && s.LossRatio <= options.MaxLoss && s.Delivered > 0 };
            steps.Add(s);
            Console.Error.WriteLine(LoadRun.Invariant($"step {step}: {s.Rooms} rooms, {s.DeliveredPerSecond:N0} deliveries/s, loss {s.LossRatio:0.0000}, p99 {s.LatencyMs.P99:0.00} ms: {(s.Passed == true ? "passed" : "failed")}"));
            if (s.Passed != true) break;
            result = s;
            rooms *= options.RampFactor;
        }
    }
}
catch (OperationCanceledException) when (cancel.IsCancellationRequested)
{
    Console.Error.WriteLine("interrupted");
}
catch (Exception e) when (e is HttpRequestException or InvalidOperationException)
{
    Console.Error.WriteLine($"load test failed: {e.Message}");
    await run.DisposeAsync();
    return 1;
}

var summary = new RunResult(options.Label, started, [.. options.Nodes.Select(n => n.ToString())], options.Placement.ToString().ToLowerInvariant(),
    options.Members, options.Speakers, options.Fps, options.Payload, options.Warmup, run.ConnectFailures, Math.Round(run.ConnectSeconds, 2),
    options.Ramp, [.. steps], result);
if (options.Heal) Console.Error.WriteLine(LoadRun.Invariant($"healing clients reconnected {run.Reconnects} times"));
Console.Error.WriteLine("closing connections");
await run.DisposeAsync();
Console.WriteLine(summary.Summary());
if (options.Json is not null)
{
    var dir = Path.GetDirectoryName(Path.GetFullPath(options.Json));
    if (dir is not null) Directory.CreateDirectory(dir);
    await File.WriteAllTextAsync(options.Json, summary.ToJson());
}
return result is null ? 1 : 0;
