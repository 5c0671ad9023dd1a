using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using AkkaVoice.Client;

namespace AkkaVoice.LoadTest;

/// <summary>
/// The listening side of scripts/chaos.sh (<c>AkkaVoice.LoadTest chaos ...</c>): rooms of healing clients
/// spread round-robin over the nodes, speakers sending frames that carry their room, speaker and sequence,
/// and every receiver/speaker pair timed. It reads commands on stdin and answers with one JSON object per
/// line on stdout:
/// <c>spread</c> moves every client back to the node it started on,
/// <c>mark NAME [AKKA-ADDRESS[,AKKA-ADDRESS...]]</c> starts measuring a fault (rooms homed on the addresses are its target rooms),
/// <c>report</c> prints the figures since the mark, <c>quit</c> ends.
/// </summary>
public sealed class ChaosProbe
{
    public const string Help = """
        AkkaVoice chaos probe: voice load on healing clients, measured per fault window (used by scripts/chaos.sh).

        Usage: AkkaVoice.LoadTest chaos [options]; then commands on stdin: spread | mark NAME [AKKA-ADDRESS[,...]] | report | quit

        Options (--name value):
          --nodes URLS         comma-separated http base URLs of the nodes (member i of room r starts on node (r + i) % N)
          --rooms N            rooms (default 15)
          --members N          members per room (default 10)
          --speakers N         speakers per room (default 2)
          --fps N              frames per second per speaker (default 50)
          --ping-after S       a healing client pings after this many quiet seconds (default 1)
          --silence-timeout S  and moves on when nothing comes back this long after its ping (default 2)
          --user-prefix P      prefix of user and room ids (default chaos + 4 random hex digits)
          --help               this text
        """;

    /// <summary>A silence longer than this between two frames of one speaker at one receiver is an outage.</summary>
    private static readonly long OutageTicks = Stopwatch.Frequency / 5;

    private readonly List<Uri> nodes = [];
    private int rooms = 15, members = 10, speakers = 2;
    private double fps = 50, pingAfter = 1, silenceTimeout = 2;
    private string prefix = "chaos" + Random.Shared.Next(0x10000).ToString("x4", CultureInfo.InvariantCulture);
    private readonly List<Peer> peers = [];
    private readonly Lock windowLock = new();
    private Window window = new("start", null, [], Stopwatch.GetTimestamp());

    /// <summary>One member: its client, and per speaker of its room the last time and sequence heard.</summary>
    private sealed class Peer(int room, int index, int speaker, int speakersPerRoom)
    {
        public readonly int Room = room;
        public readonly int Index = index;

        /// <summary>The node this member started on, round-robin.</summary>
        public int Home;

        /// <summary>Global speaker number, or -1 for a listener.</summary>
        public readonly int Speaker = speaker;
        public HealingVoiceClient Client = null!;
        public readonly long[] LastHeard = new long[speakersPerRoom];
        public readonly uint[] LastSeq = new uint[speakersPerRoom];
        public readonly ulong[] Recent = new ulong[speakersPerRoom];
        public readonly long[] LongestInWindow = new long[speakersPerRoom];
        public uint Sequence;
        public Task<bool>? Pending;
    }

    /// <summary>One silence over the outage threshold at one listener, for one speaker: its length and when it ended.</summary>
    private readonly record struct Outage(bool Target, long Ticks, DateTime EndedUtc, Peer Listener, int Speaker);

    /// <summary>The figures of one fault, from its mark to its report.</summary>
    private sealed record Window(string Name, string? Target, HashSet<int> TargetRooms, long Start)
    {
        public readonly List<Outage> Outages = [];
        public long Frames, WrongRoom, Duplicates, Late;
        public int Reconnects, ReconnectAttempts, Rejoins, NotRecovered;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var probe = new ChaosProbe();
        try
        {
            if (!probe.Parse(args))
            {
                Console.WriteLine(Help);
                return 0;
            }
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"chaos: {e.Message}");
            return 2;
        }
        return await probe.RunAsync();
    }

    private bool Parse(string[] args)
    {
        for (int i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg is "--help" or "-h") return false;
            if (i + 1 >= args.Length) throw new ArgumentException($"{arg} needs a value");
            var v = args[++i];
            switch (arg)
            {
                case "--nodes": nodes.AddRange(v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(u => new Uri(u))); break;
                case "--rooms": rooms = Int(arg, v); break;
                case "--members": members = Int(arg, v); break;
                case "--speakers": speakers = Int(arg, v); break;
                case "--fps": fps = Num(arg, v); break;
                case "--ping-after": pingAfter = Num(arg, v); break;
                case "--silence-timeout": silenceTimeout = Num(arg, v); break;
                case "--user-prefix": prefix = v; break;
                default: throw new ArgumentException($"unknown option {arg} (see --help)");
            }
        }
        if (nodes.Count == 0) throw new ArgumentException("--nodes needs at least one URL");
        if (speakers >= members) throw new ArgumentException("--speakers must be fewer than --members");
        return true;
    }

    private static int Int(string arg, string v) =>
        int.TryParse(v, CultureInfo.InvariantCulture, out var n) && n >= 1 ? n : throw new ArgumentException($"{arg} must be a whole number >= 1, not '{v}'");

    private static double Num(string arg, string v) =>
        double.TryParse(v, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new ArgumentException($"{arg} must be a number > 0, not '{v}'");

    private string RoomId(int room) => $"{prefix}-room-{room}";

    private async Task<int> RunAsync()
    {
        for (int r = 0; r < rooms; r++)
        {
            for (int i = 0; i < members; i++) peers.Add(new Peer(r, i, i < speakers ? r * speakers + i : -1, speakers));
        }
        await Task.WhenAll(peers.Select(ConnectAsync));
        Emit(new { @event = "ready", rooms, members, speakers, pairs = Pairs() });

        using var stop = new CancellationTokenSource();
        var sender = new Thread(() => SendLoop(stop.Token)) { IsBackground = true, Name = "chaos-speakers", Priority = ThreadPriority.AboveNormal };
        sender.Start();
        string? line;
        while ((line = await Console.In.ReadLineAsync()) is not null)
        {
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0) continue;
            switch (words[0])
            {
                case "mark":
                    await MarkAsync(words.Length > 1 ? words[1] : "fault", words.Length > 2 ? words[2] : null);
                    break;
                case "spread":
                    await SpreadAsync();
                    break;
                case "report":
                    Emit(Report());
                    break;
                case "quit":
                    await stop.CancelAsync();
                    sender.Join();
                    await Task.WhenAll(peers.Select(p => p.Client.DisposeAsync().AsTask()));
                    return 0;
                default:
                    Emit(new { @event = "error", message = $"unknown command '{words[0]}'" });
                    break;
            }
        }
        return 0;
    }

    private int Pairs() => rooms * (speakers * (members - 1));

    private async Task ConnectAsync(Peer p)
    {
        var user = $"{prefix}-r{p.Room}-m{p.Index}";
        p.Home = (p.Room + p.Index) % nodes.Count;
        p.Client = new HealingVoiceClient(new HealingOptions
        {
            Nodes = [.. nodes.Select(n => new UriBuilder(n) { Scheme = n.Scheme == "https" ? "wss" : "ws", Path = "/ws", Query = "user=" + Uri.EscapeDataString(user) }.Uri)],
            FirstNode = p.Home,
            PingAfter = TimeSpan.FromSeconds(pingAfter),
            SilenceTimeout = TimeSpan.FromSeconds(silenceTimeout),
            OnFrame = f => OnFrame(p, f),
        });
        p.Client.OnReconnecting += e =>
        {
            lock (windowLock)
            {
                window.ReconnectAttempts++;
                if (e.Attempt == 1) window.Reconnects++;
            }
        };
        p.Client.OnRejoined += e =>
        {
            lock (windowLock)
            {
                window.Rejoins++;
                if (!e.Recovered) window.NotRecovered++;
            }
        };
        await p.Client.ConnectAsync();
        await p.Client.JoinAsync(RoomId(p.Room));
        var now = Stopwatch.GetTimestamp();
        Array.Fill(p.LastHeard, now);
    }

    /// <summary>[u32 room][u32 speaker][u32 seq][i64 sent], little-endian.</summary>
    private void SendLoop(CancellationToken cancellationToken)
    {
        var talkers = peers.Where(p => p.Speaker >= 0).ToArray();
        long interval = (long)(Stopwatch.Frequency / fps);
        long next = Stopwatch.GetTimestamp();
        while (!cancellationToken.IsCancellationRequested)
        {
            next += interval;
            long wait = next - Stopwatch.GetTimestamp();
            if (wait > 0) Thread.Sleep(TimeSpan.FromTicks(wait * TimeSpan.TicksPerSecond / Stopwatch.Frequency));
            else if (-wait > 5 * interval) next = Stopwatch.GetTimestamp();
            foreach (var s in talkers)
            {
                if (s.Pending is { IsCompleted: false }) continue;
                var payload = new byte[20];
                BinaryPrimitives.WriteInt32LittleEndian(payload, s.Room);
                BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(4), s.Speaker);
                BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(8), ++s.Sequence);
                BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(12), Stopwatch.GetTimestamp());
                s.Pending = s.Client.SendFrameAsync(RoomId(s.Room), payload);
            }
        }
    }

    /// <summary>On the receiver's reading thread, one frame at a time.</summary>
    private void OnFrame(Peer p, FrameEvent f)
    {
        long now = Stopwatch.GetTimestamp();
        if (f.Payload.Length < 20) return;
        int room = BinaryPrimitives.ReadInt32LittleEndian(f.Payload);
        int speaker = BinaryPrimitives.ReadInt32LittleEndian(f.Payload.AsSpan(4)) - p.Room * speakers;
        uint seq = BinaryPrimitives.ReadUInt32LittleEndian(f.Payload.AsSpan(8));
        var w = window;
        if (room != p.Room || (uint)speaker >= (uint)speakers)
        {
            Interlocked.Increment(ref w.WrongRoom);
            return;
        }
        Interlocked.Increment(ref w.Frames);
        long gap = now - Volatile.Read(ref p.LastHeard[speaker]);
        // A gap that began before the mark counts from the mark: it is this fault's only if it ends in it.
        long since = Math.Min(gap, now - w.Start);
        if (since > p.LongestInWindow[speaker]) p.LongestInWindow[speaker] = since;
        if (since > OutageTicks)
        {
            lock (windowLock) w.Outages.Add(new Outage(w.TargetRooms.Contains(p.Room), since, DateTime.UtcNow, p, speaker));
        }
        Volatile.Write(ref p.LastHeard[speaker], now);
        // Per pair, a 64-frame window of sequences seen: a repeat is a duplicate, an older unseen one late.
        if (seq > p.LastSeq[speaker])
        {
            uint shift = seq - p.LastSeq[speaker];
            p.Recent[speaker] = shift >= 64 ? 1UL : (p.Recent[speaker] << (int)shift) | 1UL;
            p.LastSeq[speaker] = seq;
            return;
        }
        uint back = p.LastSeq[speaker] - seq;
        if (back < 64 && (p.Recent[speaker] & (1UL << (int)back)) != 0) Interlocked.Increment(ref w.Duplicates);
        else
        {
            Interlocked.Increment(ref w.Late);
            if (back < 64) p.Recent[speaker] |= 1UL << (int)back;
        }
    }

    /// <summary>Moves every client that a fault sent elsewhere back to the node it started on, so each fault finds clients on every node.</summary>
    private async Task SpreadAsync()
    {
        var moved = peers.Where(p => p.Client.Node != p.Client.Options.Nodes[p.Home]).ToList();
        foreach (var p in moved) p.Client.MoveTo(p.Home);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (peers.Any(p => !p.Client.IsConnected || p.Client.Node != p.Client.Options.Nodes[p.Home]) && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        Emit(new { @event = "spread", moved = moved.Count, connected = peers.Count(p => p.Client.IsConnected) });
    }

    private async Task MarkAsync(string name, string? target)
    {
        var targetRooms = new HashSet<int>();
        if (target is not null)
        {
            var targets = target.Split(',').ToHashSet();
            for (int r = 0; r < rooms; r++)
            {
                var home = await HomeOfAsync(RoomId(r));
                if (home is not null && targets.Contains(home)) targetRooms.Add(r);
            }
        }
        var fresh = new Window(name, target, targetRooms, Stopwatch.GetTimestamp());
        lock (windowLock)
        {
            foreach (var p in peers) Array.Clear(p.LongestInWindow);
            window = fresh;
        }
        Emit(new { @event = "marked", fault = name, target, target_rooms = targetRooms.Count });
    }

    /// <summary>The room's home as the cluster reports it, asked of the nodes in turn; null when none answers.</summary>
    private async Task<string?> HomeOfAsync(string room)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        foreach (var node in nodes)
        {
            try
            {
                var info = await http.GetFromJsonAsync<JsonElement>(new Uri(node, "/admin/rooms/" + Uri.EscapeDataString(room)));
                return info.GetProperty("home").GetString();
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
            {
            }
        }
        return null;
    }

    private object Report()
    {
        long now = Stopwatch.GetTimestamp();
        Window w;
        List<Outage> outages;
        lock (windowLock)
        {
            w = window;
            outages = [.. w.Outages];
        }
        var longest = new List<double>();
        var worst = new List<(double Seconds, Peer Listener, Peer Speaker)>();
        int never = 0;
        foreach (var p in peers)
        {
            for (int s = 0; s < speakers; s++)
            {
                if (p.Speaker == p.Room * speakers + s) continue;
                long silent = now - Volatile.Read(ref p.LastHeard[s]);
                // Still silent at the report, seconds after the fault ended: this pair never came back.
                if (silent > 2 * Stopwatch.Frequency) never++;
                var seconds = Seconds(Math.Max(p.LongestInWindow[s], Math.Min(silent, now - w.Start)));
                longest.Add(seconds);
                worst.Add((seconds, p, peers[p.Room * members + s]));
            }
        }
        // The longest silences, with where each end started and is now: what to look for in the nodes' logs.
        var worstPairs = worst.OrderByDescending(x => x.Seconds).Take(10).Select(x => new
        {
            seconds = Math.Round(x.Seconds, 3),
            room = RoomId(x.Listener.Room),
            listener = x.Listener.Index,
            listener_nodes = $"{nodes[x.Listener.Home].Port}->{x.Listener.Client.Node.Port}",
            speaker = x.Speaker.Index,
            speaker_nodes = $"{nodes[x.Speaker.Home].Port}->{x.Speaker.Client.Node.Port}",
        }).ToArray();
        // The longest single outages, with when they ended (UTC, as the nodes log): where to look in the logs.
        var worstOutages = outages.OrderByDescending(o => o.Ticks).Take(10).Select(o => new
        {
            seconds = Math.Round(Seconds(o.Ticks), 3),
            ended = o.EndedUtc.ToString("HH:mm:ss.fff"),
            room = RoomId(o.Listener.Room),
            listener = o.Listener.Index,
            listener_node_now = o.Listener.Client.Node.Port,
            speaker = o.Speaker,
        }).ToArray();
        return new
        {
            @event = "report",
            fault = w.Name,
            target = w.Target,
            target_rooms = w.TargetRooms.Count,
            seconds = Math.Round(Seconds(now - w.Start), 1),
            pairs = longest.Count,
            reconnects = w.Reconnects,
            reconnect_attempts = w.ReconnectAttempts,
            rejoins = w.Rejoins,
            rejoins_not_recovered = w.NotRecovered,
            outages = outages.Count,
            recovery = Stats(outages.Select(o => Seconds(o.Ticks))),
            recovery_target_rooms = Stats(outages.Where(o => o.Target).Select(o => Seconds(o.Ticks))),
            recovery_other_rooms = Stats(outages.Where(o => !o.Target).Select(o => Seconds(o.Ticks))),
            longest_silence_per_pair = Stats(longest),
            pairs_silent_over_10s = longest.Count(s => s > 10),
            pairs_never_recovered = never,
            worst_pairs = worstPairs,
            worst_outages = worstOutages,
            frames = w.Frames,
            wrong_room = w.WrongRoom,
            duplicates = w.Duplicates,
            late = w.Late,
        };
    }

    private static double Seconds(long ticks) => ticks / (double)Stopwatch.Frequency;

    private static object Stats(IEnumerable<double> values)
    {
        var v = values.Order().ToArray();
        if (v.Length == 0) return new { count = 0, p50 = (double?)null, p99 = (double?)null, max = (double?)null };
        double At(double q) => v[Math.Min(v.Length - 1, (int)Math.Ceiling(q * v.Length) - 1)];
        return new { count = v.Length, p50 = Math.Round(At(0.5), 3), p99 = Math.Round(At(0.99), 3), max = Math.Round(v[^1], 3) };
    }

    private static readonly Lock Out = new();

    private static void Emit(object o)
    {
        lock (Out)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(o));
            Console.Out.Flush();
        }
    }
}
