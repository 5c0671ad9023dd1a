using System.Globalization;

namespace AkkaVoice.LoadTest;

/// <summary>Where the members of a room connect.</summary>
public enum Placement
{
    /// <summary>Member i of room r on node (r + i) % N: every room spans every node.</summary>
    Spread,

    /// <summary>Every member of a room on the room's home node: no frame crosses nodes.</summary>
    Affine,

    /// <summary>Members of room r alternate between nodes r % N and (r + 1) % N: each room spans two nodes.</summary>
    Pair,

    /// <summary>Every member of a room on one node that is not the room's home (the next one): what an ingress that groups a room's clients does.</summary>
    Away,
}

/// <summary>The load generator's command line (<c>--name value</c>; <c>--ramp</c>, <c>--heal</c> and <c>--help</c> take none).</summary>
public sealed record LoadOptions
{
    public IReadOnlyList<Uri> Nodes { get; init; } = [new Uri("http://127.0.0.1:5000")];
    public IReadOnlyList<string>? AkkaNodes { get; init; }
    public int Rooms { get; init; } = 10;
    public int Members { get; init; } = 25;
    public int Speakers { get; init; } = 4;
    public double Fps { get; init; } = 50;
    public int Payload { get; init; } = 100;
    public double Duration { get; init; } = 30;
    public double Warmup { get; init; } = 5;
    public Placement Placement { get; init; } = Placement.Spread;
    public bool Ramp { get; init; }
    public bool Heal { get; init; }
    public double RampFactor { get; init; } = 1.5;
    public double StepSeconds { get; init; } = 15;
    public int MaxSteps { get; init; } = 10;
    public double MaxP99Ms { get; init; } = 50;
    public double MaxLoss { get; init; } = 0.001;
    public string? Json { get; init; }
    public string UserPrefix { get; init; } = "lt" + Random.Shared.Next(0x10000).ToString("x4", CultureInfo.InvariantCulture);
    public string? Label { get; init; }
    public int ConnectBatch { get; init; } = 200;
    public int ShardCount { get; init; } = 100;
    public double Drain { get; init; } = 3;
    public string? AdminToken { get; init; }
    public double SayInterval { get; init; }

    /// <summary>Smallest payload: send timestamp, speaker index and sequence.</summary>
    public const int PayloadHeader = 16;

    public const string Help = """
        AkkaVoice load generator: opens one WebSocket per room member, has the first --speakers members of
        each room send voice frames at --fps, and measures delivery (loss, duplicates, order) and latency
        as the receivers see it. All clients live in this process, so send and receive share one clock.

        Options (--name value):
          --nodes URLS         comma-separated http base URLs of the nodes (default http://127.0.0.1:5000)
          --rooms N            rooms (default 10); with --ramp, the rooms of the first step
          --members N          members (connections) per room (default 25; the server allows 200)
          --speakers N         speakers per room, the first N members (default 4)
          --fps N              frames per second per speaker (default 50; the server allows 100, burst 200)
          --payload BYTES      payload size (default 100, at least 16)
          --duration S         measured seconds (default 30)
          --warmup S           seconds of sending before measuring (default 5)
          --placement MODE     spread | affine | pair | away (default spread); away puts every member of a
                               room on the node after its home
          --say-interval S     the last member of each room says a line every S seconds (default 0: no chat)
                                 spread: member i of room r on node (r + i) % N
                                 affine: every member of a room on its home node (RoomDirectory over the Up
                                         members of GET /admin/cluster, checked against GET /admin/rooms/{room})
                                 pair:   members of room r alternate between nodes r % N and (r + 1) % N
          --akka-nodes ADDRS   akka addresses of the nodes, in the order of --nodes (akka.tcp://akkavoice@host:port);
                               without it each node is asked for its own address (GET /admin/cluster "self")
          --shard-count N      the cluster's akkavoice.shard-count (default 100), for affine placement
          --ramp               raise load step by step: rooms x --ramp-factor each step, until p99 > --max-p99-ms
                               or loss > --max-loss; reports the highest step that passed
          --ramp-factor F      (default 1.5)
          --step-seconds S     measured seconds per ramp step (default 15; each step also warms up --warmup)
          --max-steps N        (default 10)
          --max-p99-ms MS      (default 50)
          --max-loss RATIO     (default 0.001)
          --heal               healing clients (AkkaVoice.Client's HealingVoiceClient): a member whose connection
                               is lost, or whose node goes silent, reconnects to the next of --nodes with backoff and
                               jitter and rejoins its room; the reconnects are counted
          --json FILE          write the result as JSON
          --label TEXT         a name for this run, copied into the JSON
          --user-prefix P      prefix of user and room ids (default lt + 4 random hex digits)
          --connect-batch N    connections opened at once (default 200)
          --drain S            seconds to wait for frames in flight after sending stops (default 3)
          --admin-token T      bearer token for /admin/* when the nodes require one
          --help               this text

        `AkkaVoice.LoadTest chaos --help` describes the probe of scripts/chaos.sh instead, and
        `AkkaVoice.LoadTest stage --help` the stage-room benchmark of scripts/stage-bench.sh.

        Payload layout (little-endian): [u64 Stopwatch timestamp at send][u32 speaker index][u32 sequence][padding].
        Expected deliveries = frames sent in the measured window x (joined members of the room - 1).
        """;

    /// <summary>Parses the arguments; null when --help was asked for. Throws <see cref="ArgumentException"/> on bad input.</summary>
    public static LoadOptions? Parse(string[] args)
    {
        var o = new LoadOptions();
        for (int i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg is "--help" or "-h") return null;
            if (arg == "--ramp")
            {
                o = o with { Ramp = true };
                continue;
            }
            if (arg == "--heal")
            {
                o = o with { Heal = true };
                continue;
            }
            if (!arg.StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unexpected argument '{arg}'");
            if (i + 1 >= args.Length) throw new ArgumentException($"{arg} needs a value");
            var v = args[++i];
            o = arg[2..] switch
            {
                "nodes" => o with { Nodes = [.. List(v).Select(ParseUri)] },
                "akka-nodes" => o with { AkkaNodes = List(v) },
                "rooms" => o with { Rooms = Int(arg, v, 1) },
                "members" => o with { Members = Int(arg, v, 2) },
                "speakers" => o with { Speakers = Int(arg, v, 1) },
                "fps" => o with { Fps = Num(arg, v, 0.1) },
                "payload" => o with { Payload = Int(arg, v, PayloadHeader) },
                "duration" => o with { Duration = Num(arg, v, 1) },
                "warmup" => o with { Warmup = Num(arg, v, 0) },
                "placement" => o with { Placement = ParsePlacement(v) },
                "say-interval" => o with { SayInterval = double.Parse(v, CultureInfo.InvariantCulture) },
                "ramp-factor" => o with { RampFactor = Num(arg, v, 1.01) },
                "step-seconds" => o with { StepSeconds = Num(arg, v, 1) },
                "max-steps" => o with { MaxSteps = Int(arg, v, 1) },
                "max-p99-ms" => o with { MaxP99Ms = Num(arg, v, 0) },
                "max-loss" => o with { MaxLoss = Num(arg, v, 0) },
                "json" => o with { Json = v },
                "label" => o with { Label = v },
                "user-prefix" => o with { UserPrefix = v },
                "connect-batch" => o with { ConnectBatch = Int(arg, v, 1) },
                "shard-count" => o with { ShardCount = Int(arg, v, 1) },
                "drain" => o with { Drain = Num(arg, v, 0) },
                "admin-token" => o with { AdminToken = v },
                _ => throw new ArgumentException($"unknown option {arg} (see --help)"),
            };
        }
        if (o.Nodes.Count == 0) throw new ArgumentException("--nodes needs at least one URL");
        if (o.Speakers > o.Members) throw new ArgumentException("--speakers cannot exceed --members");
        if (o.AkkaNodes is not null && o.AkkaNodes.Count != o.Nodes.Count)
            throw new ArgumentException("--akka-nodes must list as many addresses as --nodes, in the same order");
        if (o.Placement == Placement.Pair && o.Nodes.Count < 2) throw new ArgumentException("--placement pair needs at least two nodes");
        return o;
    }

    private static string[] List(string v) => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static Uri ParseUri(string v) =>
        Uri.TryCreate(v, UriKind.Absolute, out var u) && u.Scheme is "http" or "https"
            ? u
            : throw new ArgumentException($"--nodes entries must be http(s) base URLs, not '{v}'");

    private static Placement ParsePlacement(string v) => v switch
    {
        "spread" => Placement.Spread,
        "affine" => Placement.Affine,
        "pair" => Placement.Pair,
        "away" => Placement.Away,
        _ => throw new ArgumentException($"--placement must be spread, affine, pair or away, not '{v}'"),
    };

    private static int Int(string name, string v, int min) =>
        int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min
            ? n
            : throw new ArgumentException($"{name} must be an integer >= {min}, not '{v}'");

    private static double Num(string name, string v, double min) =>
        double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= min && double.IsFinite(n)
            ? n
            : throw new ArgumentException($"{name} must be a number >= {min.ToString(CultureInfo.InvariantCulture)}, not '{v}'");
}
