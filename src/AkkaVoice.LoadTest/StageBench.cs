using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using AkkaVoice.Client;

namespace AkkaVoice.LoadTest;

/// <summary>
/// The stage-room benchmark (<c>AkkaVoice.LoadTest stage</c>, run by scripts/stage-bench.sh): one stage room
/// whose members are spread over the nodes, two speakers on seats, and the figures of PROTOCOL section 8's
/// targets: voice loss and latency, join latency, node messages per frame, text per listener, a listener's
/// frames, seat changes seen by everyone, listener churn, and a room of 10,000 members with the nodes' RSS.
/// </summary>
public static class StageBench
{
    public const string Help = """
        AkkaVoice stage-room benchmark: one stage room over the nodes, measured phase by phase.

          --nodes URLS         comma-separated http base URLs of the nodes (default http://127.0.0.1:5000)
          --pids PIDS          the nodes' process ids, in the order of --nodes, for their RSS (optional)
          --members N          members of the stage room, the host included (default 1000)
          --speakers N         members on seats that speak (default 2)
          --fps N              frames per second per speaker (default 25)
          --warmup S           seconds of voice before measuring (default 5)
          --duration S         measured seconds of voice (default 30)
          --seat-changes N     seat changes timed at every member (default 20)
          --churn N            listeners that join and as many that leave each second (default 100; 0: skip)
          --churn-seconds S    (default 30)
          --big N              members of a second stage room joined without voice (default 10000; 0: skip)
          --connect-batch N    connections opened at once (default 200)
          --json FILE          write the figures as JSON
        """;

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static async Task<int> RunAsync(string[] args)
    {
        Options o;
        try
        {
            var parsed = Options.Parse(args);
            if (parsed is null)
            {
                Console.WriteLine(Help);
                return 0;
            }
            o = parsed;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, Environment.ProcessorCount * 4), io);

        var prefix = "st" + Random.Shared.Next(0x10000).ToString("x4", CultureInfo.InvariantCulture);
        var results = new Dictionary<string, object>();
        using var metrics = new NodeMetrics(o.Nodes);
        await using (var stage = new StageRoom(o, prefix + "-stage", prefix))
        {
            await stage.FillAsync(o.Members, results);
            await stage.SeatSpeakersAsync();
            await stage.VoiceAsync(metrics, results);
            await stage.ListenerFramesAsync(metrics, results);
            await stage.SeatChangesAsync(results);
            if (o.Churn > 0) await stage.ChurnAsync(metrics, results);
        }
        if (o.Big > 0)
        {
            long[] before = o.Pids.Select(Rss).ToArray();
            await using var big = new StageRoom(o, prefix + "-big", prefix + "b");
            await big.FillAsync(o.Big, results, "big_");
            long[] after = o.Pids.Select(Rss).ToArray();
            if (o.Pids.Count > 0)
            {
                long growth = after.Sum() - before.Sum();
                results["big_rss_before_mb"] = before.Select(b => Math.Round(b / 1048576.0, 1)).ToArray();
                results["big_rss_after_mb"] = after.Select(b => Math.Round(b / 1048576.0, 1)).ToArray();
                results["big_rss_growth_per_member_kb"] = Math.Round(growth / 1024.0 / o.Big, 1);
                Say($"{o.Big}-member room: nodes' RSS {before.Sum() / 1048576.0:0} MB -> {after.Sum() / 1048576.0:0} MB, {growth / 1024.0 / o.Big:0.0} KB per member (connection, session and membership together)");
            }
        }
        var json = JsonSerializer.Serialize(results, Indented);
        Console.WriteLine(json);
        if (o.Json is not null) await File.WriteAllTextAsync(o.Json, json);
        return 0;
    }

    internal static void Say(string line) => Console.Error.WriteLine(FormattableString.Invariant($"[stage {DateTime.Now:HH:mm:ss}] {line}"));

    private static long Rss(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
        return 0;
    }

    internal static double P(List<double> values, double q)
    {
        if (values.Count == 0) return double.NaN;
        values.Sort();
        return Math.Round(values[Math.Min(values.Count - 1, (int)Math.Ceiling(q * values.Count) - 1)], 2);
    }

    internal sealed record Options(IReadOnlyList<Uri> Nodes, IReadOnlyList<int> Pids, int Members, int Speakers, double Fps, double Warmup,
        double Duration, int SeatChanges, int Churn, double ChurnSeconds, int Big, int ConnectBatch, string? Json)
    {
        public static Options? Parse(string[] args)
        {
            var o = new Options([new Uri("http://127.0.0.1:5000")], [], 1000, 2, 25, 5, 30, 20, 100, 30, 10000, 200, null);
            for (int i = 0; i < args.Length; i++)
            {
                if (args[i] is "--help" or "-h") return null;
                if (i + 1 >= args.Length) throw new ArgumentException($"{args[i]} needs a value");
                var v = args[++i];
                int Int() => int.TryParse(v, CultureInfo.InvariantCulture, out var n) && n >= 0 ? n : throw new ArgumentException($"{args[i - 1]}: '{v}' is not a count");
                double Num() => double.TryParse(v, CultureInfo.InvariantCulture, out var d) && d >= 0 ? d : throw new ArgumentException($"{args[i - 1]}: '{v}' is not a number");
                o = args[i - 1] switch
                {
                    "--nodes" => o with { Nodes = [.. v.Split(',').Select(u => new Uri(u))] },
                    "--pids" => o with { Pids = [.. v.Split(',').Select(p => int.Parse(p, CultureInfo.InvariantCulture))] },
                    "--members" => o with { Members = Int() },
                    "--speakers" => o with { Speakers = Int() },
                    "--fps" => o with { Fps = Num() },
                    "--warmup" => o with { Warmup = Num() },
                    "--duration" => o with { Duration = Num() },
                    "--seat-changes" => o with { SeatChanges = Int() },
                    "--churn" => o with { Churn = Int() },
                    "--churn-seconds" => o with { ChurnSeconds = Num() },
                    "--big" => o with { Big = Int() },
                    "--connect-batch" => o with { ConnectBatch = Math.Max(1, Int()) },
                    "--json" => o with { Json = v },
                    _ => throw new ArgumentException($"unknown option {args[i - 1]}"),
                };
            }
            if (o.Members < o.Speakers + 2) throw new ArgumentException("--members must leave at least one listener besides the host and the speakers");
            return o;
        }
    }
}

/// <summary>The sum over every node of some Prometheus counters (GET /metrics).</summary>
internal sealed class NodeMetrics(IReadOnlyList<Uri> nodes) : IDisposable
{
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>The sum over the nodes of every series whose name and labels start with <paramref name="series"/>.</summary>
    public async Task<double> SumAsync(string series)
    {
        double sum = 0;
        foreach (var node in nodes)
        {
            var text = await http.GetStringAsync(new Uri(node, "/metrics"));
            foreach (var line in text.Split('\n'))
            {
                if (line.StartsWith('#') || !line.StartsWith(series, StringComparison.Ordinal)) continue;
                var rest = line[series.Length..];
                if (rest.Length > 0 && rest[0] != ' ' && rest[0] != '{' && !series.EndsWith('"')) continue;
                sum += double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }
        return sum;
    }

    public void Dispose() => http.Dispose();
}

/// <summary>One member of a stage room: its connection, what it was told, and its counters.</summary>
internal sealed class StageMember(int index, string user, int node)
{
    public int Index { get; } = index;
    public string User { get; } = user;
    public int Node { get; } = node;
    public VoiceClient Client { get; set; } = null!;
    public uint Member { get; set; }
    public byte Slot { get; set; }
    public long Texts;
    public long Frames;
    public long SeatsVersion;
    public TaskCompletionSource<TextEvent>? Pending;
    public Task? Reader;
}

/// <summary>A stage room under load: the host (member 0) creates it, the others join it as listeners.</summary>
internal sealed class StageRoom(StageBench.Options o, string room, string userPrefix) : IAsyncDisposable
{
    private static readonly double MsPerTick = 1000.0 / Stopwatch.Frequency;
    private readonly List<StageMember> members = [];
    private readonly List<StageMember> churners = [];
    private readonly List<double> latencies = [];
    private readonly object latencyLock = new();
    private long windowStart = long.MaxValue, windowEnd = long.MaxValue;
    private long framesInWindow;
    private long seatChangeAt, seatChangeAfter = long.MaxValue;
    private readonly List<double> seatLatencies = [];

    private IEnumerable<StageMember> Listeners => members.Skip(1 + o.Speakers);

    public async Task FillAsync(int count, Dictionary<string, object> results, string key = "")
    {
        var started = Stopwatch.GetTimestamp();
        var host = await ConnectAsync(0, members);
        var joined = await RequestAsync(host, new { type = "join", room, stage = new { seats = 8, seatMode = "request" } }, "joined");
        if (joined.Str("role") != "host" || joined.Str("kind") != "stage")
            throw new InvalidOperationException($"the first member of {room} is not the host of a stage: {joined.Raw}");
        var joinMs = new List<double>();
        int failures = 0;
        for (int start = 1; start < count; start += o.ConnectBatch)
        {
            var batch = Enumerable.Range(start, Math.Min(o.ConnectBatch, count - start)).Select(async i =>
            {
                try
                {
                    var m = await ConnectAsync(i, members);
                    long t0 = Stopwatch.GetTimestamp();
                    var answer = await RequestAsync(m, new { type = "join", room }, "joined");
                    double ms = (Stopwatch.GetTimestamp() - t0) * MsPerTick;
                    lock (joinMs) joinMs.Add(ms);
                    m.Member = (uint)answer.Num("member");
                    m.Slot = (byte)answer.Num("slot");
                }
                catch (Exception e) when (e is WebSocketException or TimeoutException or InvalidOperationException)
                {
                    Interlocked.Increment(ref failures);
                }
            });
            await Task.WhenAll(batch);
        }
        double seconds = (Stopwatch.GetTimestamp() - started) / (double)Stopwatch.Frequency;
        results[key + "members"] = count;
        results[key + "joined"] = joinMs.Count + 1;
        results[key + "join_failures"] = failures;
        results[key + "join_p50_ms"] = StageBench.P(joinMs, 0.50);
        results[key + "join_p99_ms"] = StageBench.P(joinMs, 0.99);
        results[key + "join_max_ms"] = StageBench.P(joinMs, 1.0);
        results[key + "fill_seconds"] = Math.Round(seconds, 1);
        StageBench.Say($"{room}: {joinMs.Count + 1} of {count} joined in {seconds:0.0} s, join p50 {StageBench.P(joinMs, 0.5)} ms p99 {StageBench.P(joinMs, 0.99)} ms, {failures} failed");
    }

    /// <summary>The host puts the first <c>--speakers</c> listeners on seats 0, 1, ...</summary>
    public async Task SeatSpeakersAsync()
    {
        for (int s = 0; s < o.Speakers; s++)
        {
            var speaker = members[1 + s];
            await RequestAsync(members[0], new { type = "set-seat", room, seat = s, member = speaker.Member, @ref = "seat" + s }, "seats");
        }
        // Every speaker sees its seat before it speaks.
        long target = Volatile.Read(ref members[0].SeatsVersion);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (members.Skip(1).Take(o.Speakers).Any(m => Volatile.Read(ref m.SeatsVersion) < target) && DateTime.UtcNow < deadline)
            await Task.Delay(50);
    }

    public async Task VoiceAsync(NodeMetrics metrics, Dictionary<string, object> results)
    {
        var speakers = members.Skip(1).Take(o.Speakers).ToList();
        double nodeMessagesBefore = await metrics.SumAsync("akkavoice_node_messages_sent_total");
        long textsBefore = Listeners.Sum(m => Interlocked.Read(ref m.Texts));
        long now = Stopwatch.GetTimestamp();
        windowStart = now + (long)(o.Warmup * Stopwatch.Frequency);
        windowEnd = windowStart + (long)(o.Duration * Stopwatch.Frequency);
        long sent = await SendAsync(speakers, o.Fps, windowEnd, counting: true);
        await Task.Delay(2000); // frames in flight
        long textsAfter = Listeners.Sum(m => Interlocked.Read(ref m.Texts));
        double nodeMessages = await metrics.SumAsync("akkavoice_node_messages_sent_total") - nodeMessagesBefore;
        long received = members.Sum(m => Interlocked.Read(ref m.Frames));
        // From here on every frame a member gets counts (the listener phase expects none).
        windowStart = windowEnd = long.MaxValue;
        foreach (var m in members) Interlocked.Exchange(ref m.Frames, 0);

        long expected = framesInWindow * (members.Count - 1);
        double totalSeconds = o.Warmup + o.Duration + 2;
        double loss = expected == 0 ? double.NaN : Math.Max(0, 1 - received / (double)expected);
        List<double> lat;
        lock (latencyLock) lat = [.. latencies];
        results["voice_frames_sent"] = sent;
        results["voice_expected"] = expected;
        results["voice_received"] = received;
        results["voice_loss"] = Math.Round(loss, 5);
        results["voice_p50_ms"] = StageBench.P(lat, 0.50);
        results["voice_p99_ms"] = StageBench.P(lat, 0.99);
        results["voice_max_ms"] = StageBench.P(lat, 1.0);
        results["node_messages_per_frame"] = Math.Round(nodeMessages / Math.Max(1, sent), 3);
        results["text_per_listener_per_second"] = Math.Round((textsAfter - textsBefore) / (double)Listeners.Count() / totalSeconds, 3);
        StageBench.Say($"voice: {sent} frames, loss {loss:0.00000}, p50 {results["voice_p50_ms"]} ms p99 {results["voice_p99_ms"]} ms, " +
            $"{results["node_messages_per_frame"]} node messages per frame, {results["text_per_listener_per_second"]} text messages per listener per second");
    }

    /// <summary>Five listeners on different nodes send 50 frames each; none may be relayed or cross a node.</summary>
    public async Task ListenerFramesAsync(NodeMetrics metrics, Dictionary<string, object> results)
    {
        double messagesBefore = await metrics.SumAsync("akkavoice_node_messages_sent_total");
        double deliveredBefore = await metrics.SumAsync("akkavoice_frames_delivered_total");
        double droppedBefore = await metrics.SumAsync("akkavoice_frames_dropped_total{reason=\"not-seated\"");
        long framesBefore = members.Sum(m => Interlocked.Read(ref m.Frames));
        var senders = Listeners.Take(5).ToList();
        long sent = await SendAsync(senders, 25, Stopwatch.GetTimestamp() + 2 * Stopwatch.Frequency, counting: false);
        await Task.Delay(1000);
        results["listener_frames_sent"] = sent;
        results["listener_frames_delivered"] = await metrics.SumAsync("akkavoice_frames_delivered_total") - deliveredBefore;
        results["listener_frames_node_messages"] = await metrics.SumAsync("akkavoice_node_messages_sent_total") - messagesBefore;
        results["listener_frames_dropped_not_seated"] = await metrics.SumAsync("akkavoice_frames_dropped_total{reason=\"not-seated\"") - droppedBefore;
        results["listener_frames_received_by_members"] = members.Sum(m => Interlocked.Read(ref m.Frames)) - framesBefore;
        StageBench.Say($"listeners' frames: {sent} sent, {results["listener_frames_delivered"]} delivered, {results["listener_frames_node_messages"]} node messages, " +
            $"{results["listener_frames_dropped_not_seated"]} dropped not-seated");
    }

    /// <summary>The host moves a listener onto the last seat, again and again; every member times the <c>seats</c> it gets.</summary>
    public async Task SeatChangesAsync(Dictionary<string, object> results)
    {
        var candidates = Listeners.Skip(5).ToList();
        int missing = 0;
        for (int i = 0; i < o.SeatChanges; i++)
        {
            var listener = candidates[i % candidates.Count];
            long versionBefore = members.Max(m => Volatile.Read(ref m.SeatsVersion));
            Volatile.Write(ref seatChangeAfter, versionBefore);
            Volatile.Write(ref seatChangeAt, Stopwatch.GetTimestamp());
            await members[0].Client.SendAsync(new { type = "set-seat", room, seat = 7, member = listener.Member });
            var deadline = DateTime.UtcNow.AddSeconds(5);
            while (members.Any(m => Volatile.Read(ref m.SeatsVersion) <= versionBefore) && DateTime.UtcNow < deadline) await Task.Delay(20);
            missing += members.Count(m => Volatile.Read(ref m.SeatsVersion) <= versionBefore);
        }
        Volatile.Write(ref seatChangeAfter, long.MaxValue);
        List<double> lat;
        lock (seatLatencies) lat = [.. seatLatencies];
        results["seat_changes"] = o.SeatChanges;
        results["seat_change_p50_ms"] = StageBench.P(lat, 0.50);
        results["seat_change_p99_ms"] = StageBench.P(lat, 0.99);
        results["seat_change_max_ms"] = StageBench.P(lat, 1.0);
        results["seat_change_not_seen_in_5s"] = missing;
        StageBench.Say($"seat changes: {o.SeatChanges} x {members.Count} members, seen p50 {results["seat_change_p50_ms"]} ms p99 {results["seat_change_p99_ms"]} ms, {missing} not seen in 5 s");
    }

    /// <summary><c>--churn</c> listeners join and as many leave every second, on connections opened beforehand.</summary>
    public async Task ChurnAsync(NodeMetrics metrics, Dictionary<string, object> results)
    {
        for (int start = 0; start < 2 * o.Churn; start += o.ConnectBatch)
            await Task.WhenAll(Enumerable.Range(start, Math.Min(o.ConnectBatch, 2 * o.Churn - start)).Select(i => ConnectAsync(100_000 + i, churners)));
        var halves = new[] { churners.Take(o.Churn).ToList(), churners.Skip(o.Churn).ToList() };
        var stable = Listeners.ToList();
        double textBefore = await metrics.SumAsync("akkavoice_node_text_messages_sent_total");
        long textsBefore = stable.Sum(m => Interlocked.Read(ref m.Texts));
        var started = Stopwatch.GetTimestamp();
        int seconds = (int)o.ChurnSeconds, joins = 0;
        for (int s = 0; s < seconds; s++)
        {
            var tick = Stopwatch.GetTimestamp();
            var (joining, leaving) = (halves[s % 2], halves[(s + 1) % 2]);
            var sends = joining.Select(m => m.Client.SendAsync(new { type = "join", room }))
                .Concat(s == 0 ? [] : leaving.Select(m => m.Client.SendAsync(new { type = "leave", room })));
            await Task.WhenAll(sends);
            joins += joining.Count;
            var wait = TimeSpan.FromSeconds(1) - Stopwatch.GetElapsedTime(tick);
            if (wait > TimeSpan.Zero) await Task.Delay(wait);
        }
        await Task.Delay(1500); // the last second's audience count
        double elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        double nodeText = await metrics.SumAsync("akkavoice_node_text_messages_sent_total") - textBefore;
        long texts = stable.Sum(m => Interlocked.Read(ref m.Texts)) - textsBefore;
        results["churn_joins"] = joins;
        results["churn_text_per_listener_per_second"] = Math.Round(texts / (double)stable.Count / elapsed, 3);
        results["churn_node_text_messages_per_join"] = Math.Round(nodeText / Math.Max(1, joins), 3);
        StageBench.Say($"churn: {joins} joins and as many leaves in {elapsed:0.0} s, {results["churn_text_per_listener_per_second"]} text messages per listener per second, " +
            $"{results["churn_node_text_messages_per_join"]} node text messages per join");
    }

    /// <summary>Sends frames from <paramref name="speakers"/> at <paramref name="fps"/> each until <paramref name="until"/>; returns the count.</summary>
    private async Task<long> SendAsync(List<StageMember> speakers, double fps, long until, bool counting)
    {
        var buffers = speakers.Select(_ => new byte[1 + 100]).ToArray();
        var seqs = new uint[speakers.Count];
        long sent = 0;
        var interval = TimeSpan.FromSeconds(1 / fps);
        using var timer = new PeriodicTimer(interval);
        while (Stopwatch.GetTimestamp() < until && await timer.WaitForNextTickAsync())
        {
            for (int i = 0; i < speakers.Count; i++)
            {
                var b = buffers[i];
                long now = Stopwatch.GetTimestamp();
                b[0] = speakers[i].Slot;
                BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(1), now);
                BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(9), (uint)i);
                BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(13), ++seqs[i]);
                if (counting && now >= windowStart && now < windowEnd) Interlocked.Increment(ref framesInWindow);
                await speakers[i].Client.SendAsync(b, WebSocketMessageType.Binary);
                sent++;
            }
        }
        return sent;
    }

    private async Task<StageMember> ConnectAsync(int index, List<StageMember> into)
    {
        var m = new StageMember(index, $"{userPrefix}-{index}", index % o.Nodes.Count);
        var b = new UriBuilder(o.Nodes[m.Node]) { Scheme = o.Nodes[m.Node].Scheme == "https" ? "wss" : "ws", Path = "/ws", Query = "user=" + m.User };
        m.Client = await VoiceClient.ConnectAsync(b.Uri, keepFrames: false, onFrame: f => OnFrame(m, f));
        await m.Client.ExpectAsync("welcome");
        m.Reader = Task.Run(() => ReadAsync(m));
        lock (into) into.Add(m);
        return m;
    }

    private void OnFrame(StageMember m, FrameEvent f)
    {
        if (f.Payload.Length < 16) return;
        long sentAt = BinaryPrimitives.ReadInt64LittleEndian(f.Payload);
        if (sentAt < windowStart || sentAt >= windowEnd)
        {
            if (windowEnd == long.MaxValue) Interlocked.Increment(ref m.Frames);
            return;
        }
        Interlocked.Increment(ref m.Frames);
        double ms = (Stopwatch.GetTimestamp() - sentAt) * MsPerTick;
        lock (latencyLock) latencies.Add(ms);
    }

    /// <summary>Reads the member's text: answers to its own request complete <see cref="StageMember.Pending"/>; everything counts.</summary>
    private async Task ReadAsync(StageMember m)
    {
        while (true)
        {
            ServerEvent e;
            try
            {
                e = await m.Client.ReceiveAsync(TimeSpan.FromDays(1));
            }
            catch (InvalidOperationException)
            {
                return;
            }
            if (e is ClosedEvent c)
            {
                m.Pending?.TrySetException(new InvalidOperationException($"closed: {c.Status} {c.Reason}"));
                return;
            }
            if (e is not TextEvent t) continue;
            Interlocked.Increment(ref m.Texts);
            if (t.Type == "seats" && t.Json.TryGetProperty("version", out var v))
            {
                long version = v.GetInt64();
                if (version > Volatile.Read(ref m.SeatsVersion))
                {
                    if (version > Volatile.Read(ref seatChangeAfter) && Volatile.Read(ref m.SeatsVersion) <= seatChangeAfter)
                    {
                        double ms = (Stopwatch.GetTimestamp() - Volatile.Read(ref seatChangeAt)) * MsPerTick;
                        lock (seatLatencies) seatLatencies.Add(ms);
                    }
                    Volatile.Write(ref m.SeatsVersion, version);
                }
            }
            else if (t.Type == "joined" && t.Json.TryGetProperty("seatsVersion", out var sv))
            {
                Volatile.Write(ref m.SeatsVersion, Math.Max(Volatile.Read(ref m.SeatsVersion), sv.GetInt64()));
            }
            var pending = m.Pending;
            if (pending is not null && (t.Type == "error" || pending.Task.AsyncState is string want && want == t.Type))
                pending.TrySetResult(t);
        }
    }

    /// <summary>Sends a request and waits for the first <paramref name="answer"/> (or error) it gets.</summary>
    private static async Task<TextEvent> RequestAsync(StageMember m, object request, string answer)
    {
        var pending = new TaskCompletionSource<TextEvent>(answer, TaskCreationOptions.RunContinuationsAsynchronously);
        m.Pending = pending;
        await m.Client.SendAsync(request);
        var t = await pending.Task.WaitAsync(TimeSpan.FromSeconds(30));
        m.Pending = null;
        if (t.Type == "error") throw new InvalidOperationException($"{m.User}: {t.Raw}");
        return t;
    }

    public async ValueTask DisposeAsync()
    {
        var all = members.Concat(churners).ToList();
        foreach (var chunk in all.Chunk(500)) await Task.WhenAll(chunk.Select(m => m.Client.DisposeAsync().AsTask()));
    }
}
