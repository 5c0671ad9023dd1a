using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using AkkaVoice.Client;

namespace AkkaVoice.LoadTest;

/// <summary>
/// Runs the load: opens the rooms' connections a batch at a time, drives every speaker from a few shared
/// sender loops (no timer or delay per frame), prints progress every second on stderr, and measures one
/// step (or, with --ramp, one step per load level).
/// </summary>
public sealed class LoadRun : IAsyncDisposable
{
    /// <summary>Speakers per sender loop; each loop wakes every <see cref="TickMs"/> and sends the frames that are due.</summary>
    private const int SpeakersPerLoop = 500;

    /// <summary>Sender wake-up period. Finer than the frame interval, so speakers keep their own phases instead of sending in one burst.</summary>
    private const int TickMs = 2;

    /// <summary>A speaker that falls this many frame intervals behind skips ahead instead of bursting to catch up.</summary>
    private const int MaxBehindFrames = 5;

    private readonly LoadOptions options;
    private readonly NodeMap nodes;
    private readonly List<Room> rooms = [];
    private readonly List<Member> speakers = [];
    private readonly long interval;
    private volatile Measurement? current;
    private volatile bool sending;
    private long skipped;
    private int connectFailures;

    public LoadRun(LoadOptions options, NodeMap nodes)
    {
        this.options = options;
        this.nodes = nodes;
        interval = (long)(Stopwatch.Frequency / options.Fps);
    }

    /// <summary>The measurement frames are attributed to now; null before the first step.</summary>
    public Measurement? Current => current;

    public int Connections => rooms.Sum(r => r.Members.Count(m => m.Open));

    public int RoomCount => rooms.Count;

    /// <summary>Adds rooms until there are <paramref name="count"/>, opening their connections and joining.</summary>
    public async Task GrowToAsync(int count, CancellationToken cancellationToken)
    {
        var fresh = new List<Member>();
        for (int r = rooms.Count; r < count; r++)
        {
            var room = new Room(r, $"{options.UserPrefix}-room-{r}", r * options.Speakers);
            rooms.Add(room);
            for (int i = 0; i < options.Members; i++)
            {
                var member = new Member(this, room, i, nodes.NodeFor(r, room.Id, i), i < options.Speakers ? room.FirstSpeaker + i : -1,
                    options.Payload, options.Speakers, (r * options.Members + i) % Measurement.Shards);
                room.Members.Add(member);
                fresh.Add(member);
            }
        }
        if (fresh.Count == 0) return;

        var watch = Stopwatch.StartNew();
        using var gate = new SemaphoreSlim(options.ConnectBatch);
        int done = 0;
        var tasks = fresh.Select(async m =>
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                await ConnectAsync(m, cancellationToken);
            }
            finally
            {
                gate.Release();
                int n = Interlocked.Increment(ref done);
                if (n % 500 == 0 || n == fresh.Count)
                    Console.Error.WriteLine(Invariant($"  connected {n}/{fresh.Count} ({watch.Elapsed.TotalSeconds:0.0} s, {Volatile.Read(ref connectFailures)} failed)"));
            }
        }).ToList();
        await Task.WhenAll(tasks);
        speakers.AddRange(fresh.Where(m => m.SpeakerIndex >= 0 && (m.Client is not null || m.Healing is not null)));
        ConnectSeconds += watch.Elapsed.TotalSeconds;

        if (options.Placement == Placement.Affine)
        {
            // The tool computed each home itself; ask the cluster once that it agrees.
            var first = rooms[count - 1];
            var reported = await nodes.ReportedHomeIndexAsync(first.Id, cancellationToken);
            if (reported != first.Members[0].Node)
                Console.Error.WriteLine($"  warning: room {first.Id} is homed on node {reported?.ToString(CultureInfo.InvariantCulture) ?? "?"}, computed {first.Members[0].Node}");
        }
    }

    public double ConnectSeconds { get; private set; }

    /// <summary>Chat lines sent (each room's last member, a listener, says one every --say-interval seconds).</summary>
    public long Says => Interlocked.Read(ref says);

    private long says;

    private async Task ChatAsync(CancellationToken cancellationToken)
    {
        using var tick = new PeriodicTimer(TimeSpan.FromSeconds(options.SayInterval));
        while (sending && await tick.WaitForNextTickAsync(cancellationToken))
        {
            foreach (var room in rooms)
            {
                if (room.Members[^1] is { Client: { } client, Open: true })
                {
                    await client.SendAsync(new { type = "say", room = room.Id, text = "load test line" });
                    Interlocked.Increment(ref says);
                }
            }
        }
    }

    public int ConnectFailures => Volatile.Read(ref connectFailures);

    /// <summary>Times a healing member's connection was lost and it set out to reconnect.</summary>
    public int Reconnects => Volatile.Read(ref reconnects);

    private int reconnects;

    private Uri WsOf(Member m, Uri baseUri) => new UriBuilder(baseUri) { Scheme = baseUri.Scheme == "https" ? "wss" : "ws", Path = "/ws",
        Query = $"user={Uri.EscapeDataString($"{options.UserPrefix}-r{m.Room.Index}-m{m.Index}")}&room={Uri.EscapeDataString(m.Room.Id)}" }.Uri;

    private async Task ConnectHealingAsync(Member m, CancellationToken cancellationToken)
    {
        var client = new HealingVoiceClient(new HealingOptions
        {
            Nodes = [.. options.Nodes.Select(n => WsOf(m, n))],
            FirstNode = m.Node,
            OnFrame = m.OnFrame,
        });
        client.OnReconnecting += e => { if (e.Attempt == 1) Interlocked.Increment(ref reconnects); };
        client.OnRejoined += e => m.Slot = e.Slot;
        try
        {
            await client.ConnectAsync(cancellationToken);
            var joined = await client.JoinAsync(m.Room.Id, cancellationToken);
            m.Slot = (byte)joined.Num("slot");
            m.Healing = client;
            m.Room.OnJoined();
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            await client.DisposeAsync();
            Interlocked.Increment(ref connectFailures);
            Console.Error.WriteLine($"  member {m.Index} of {m.Room.Id}: {e.Message}");
        }
    }

    private async Task ConnectAsync(Member m, CancellationToken cancellationToken)
    {
        if (options.Heal)
        {
            await ConnectHealingAsync(m, cancellationToken);
            return;
        }
        var baseUri = options.Nodes[m.Node];
        var ws = WsOf(m, baseUri);
        for (int attempt = 1; ; attempt++)
        {
            VoiceClient? client = null;
            try
            {
                client = await VoiceClient.ConnectAsync(ws, keepFrames: false, onFrame: m.OnFrame, cancellationToken: cancellationToken);
                await client.ExpectAsync("welcome", TimeSpan.FromSeconds(15));
                var joined = await client.JoinAsync(m.Room.Id);
                m.Slot = (byte)joined.Num("slot");
                m.Client = client;
                m.Room.OnJoined();
                return;
            }
            catch (Exception e) when (e is WebSocketException or TimeoutException or InvalidOperationException or HttpRequestException && !cancellationToken.IsCancellationRequested)
            {
                if (client is not null) await client.DisposeAsync();
                if (attempt == 3)
                {
                    Interlocked.Increment(ref connectFailures);
                    Console.Error.WriteLine($"  member {m.Index} of {m.Room.Id} on {baseUri}: {e.Message}");
                    return;
                }
                await Task.Delay(500 * attempt, cancellationToken);
            }
        }
    }

    /// <summary>Sends for warm-up plus <paramref name="seconds"/>, then drains, and returns the step's figures.</summary>
    public async Task<StepResult> MeasureAsync(int step, double seconds, CancellationToken cancellationToken)
    {
        var m = new Measurement(step, rooms.Count, options.Warmup, seconds, options.Drain);
        current = m;
        Interlocked.Exchange(ref skipped, 0);
        sending = true;
        var loops = new List<Task>();
        long now = Stopwatch.GetTimestamp();
        for (int i = 0; i < speakers.Count; i++)
        {
            // Spread the speakers' phases over one frame interval, as independent clients would be.
            speakers[i].NextDue = now + interval * i / Math.Max(1, speakers.Count);
        }
        for (int start = 0; start < speakers.Count; start += SpeakersPerLoop)
        {
            var group = speakers.GetRange(start, Math.Min(SpeakersPerLoop, speakers.Count - start)).ToArray();
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            // A thread of its own per group: when the pool is saturated by thousands of socket reads, a timer
            // continuation waits in its queue and the speakers would fall behind; a dedicated thread only waits for a core.
            var thread = new Thread(() =>
            {
                try
                {
                    SendLoop(group, m, cancellationToken);
                    done.SetResult();
                }
                catch (Exception e)
                {
                    done.SetException(e);
                }
            })
            { IsBackground = true, Name = $"speakers-{start}", Priority = ThreadPriority.AboveNormal };
            thread.Start();
            loops.Add(done.Task);
        }

        using var stopProgress = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var progress = ProgressAsync(m, stopProgress.Token);
        var chat = options.SayInterval > 0 ? ChatAsync(stopProgress.Token) : Task.CompletedTask;
        try
        {
            var untilEnd = TimeSpan.FromSeconds((m.WindowEnd - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);
            if (untilEnd > TimeSpan.Zero) await Task.Delay(untilEnd, cancellationToken);
        }
        finally
        {
            sending = false;
            await Task.WhenAll(loops);
        }

        // Wait for frames still in flight: until deliveries stop for half a second, or the drain time ends.
        var drainEnd = Stopwatch.GetTimestamp() + (long)(options.Drain * Stopwatch.Frequency);
        long last = -1;
        while (Stopwatch.GetTimestamp() < drainEnd)
        {
            long delivered = m.Delivered + m.Duplicates;
            if (delivered == last) break;
            last = delivered;
            await Task.Delay(500, cancellationToken);
        }
        // The progress loop reads the latency recorders too; it must be done before the final read.
        await stopProgress.CancelAsync();
        await progress.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await chat.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (progress.Exception is { } failure) Console.Error.WriteLine($"  progress reporting failed: {failure.InnerException?.Message}");
        var result = StepResult.From(m, this, options, Interlocked.Read(ref skipped));
        current = null;
        return result;
    }

    private void SendLoop(Member[] group, Measurement m, CancellationToken cancellationToken)
    {
        long tick = Stopwatch.Frequency * TickMs / 1000;
        long next = Stopwatch.GetTimestamp();
        while (sending && !cancellationToken.IsCancellationRequested)
        {
            next += tick;
            long wait = next - Stopwatch.GetTimestamp();
            if (wait > 0) Thread.Sleep(TimeSpan.FromTicks(wait * TimeSpan.TicksPerSecond / Stopwatch.Frequency));
            else if (-wait > 10 * tick) next = Stopwatch.GetTimestamp();
            long now = Stopwatch.GetTimestamp();
            foreach (var s in group)
            {
                if (now < s.NextDue) continue;
                if (now - s.NextDue > MaxBehindFrames * interval)
                {
                    // Too far behind (this process could not keep up): skip ahead rather than burst past the server's rate limit.
                    long behind = (now - s.NextDue) / interval;
                    Interlocked.Add(ref skipped, behind);
                    s.NextDue += behind * interval;
                }
                switch (s.TrySend(m))
                {
                    case SendOutcome.Sent:
                        s.NextDue += interval;
                        break;
                    case SendOutcome.Busy:
                        m.OnSendBusy();
                        break;
                    case SendOutcome.Failed:
                        m.OnSendError();
                        s.NextDue += interval;
                        break;
                }
            }
        }
    }

    private async Task ProgressAsync(Measurement m, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        long lastSent = 0, lastDelivered = 0, lastTicks = m.Start;
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            long now = Stopwatch.GetTimestamp();
            double dt = (now - lastTicks) / (double)Stopwatch.Frequency;
            long sent = m.Sent;
            var live = m.TakeLive();
            long delivered = lastDelivered + live.TotalCount;
            var phase = now < m.WindowStart ? "warmup " : now < m.WindowEnd ? "measure" : "drain  ";
            var window = m.WindowSoFar();
            double loss = m.LossSoFar(now, 1.5);
            var windowP99 = window.TotalCount > 0 ? Ms(Measurement.Percentile(window, 99)) : "-";
            var lossText = double.IsNaN(loss) ? "-" : loss.ToString("0.0000", CultureInfo.InvariantCulture);
            double elapsed = (now - m.Start) / (double)Stopwatch.Frequency;
            Console.Error.WriteLine(Invariant(
                $"[step {m.Step} {elapsed,5:0}s {phase}] sent {(sent - lastSent) / dt,7:0}/s  delivered {(delivered - lastDelivered) / dt,8:0}/s  p99 {Ms(Measurement.Percentile(live, 99))} (window {windowP99})  loss {lossText}  conns {Connections}{(options.Heal ? $"  reconnects {Reconnects}" : "")}"));
            lastSent = sent;
            lastDelivered = delivered;
            lastTicks = now;
        }
    }

    private static string Ms(long micros) => (micros / 1000.0).ToString("0.00", CultureInfo.InvariantCulture) + " ms";

    internal static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        var all = rooms.SelectMany(r => r.Members).Where(m => m.Client is not null || m.Healing is not null).ToList();
        for (int i = 0; i < all.Count; i += options.ConnectBatch)
        {
            await Task.WhenAll(all.Skip(i).Take(options.ConnectBatch)
                .Select(m => m.Healing is not null ? m.Healing.DisposeAsync().AsTask() : m.Client!.DisposeAsync().AsTask()));
        }
    }
}
