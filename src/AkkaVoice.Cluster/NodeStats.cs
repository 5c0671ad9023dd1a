using Prometheus;

namespace AkkaVoice.Cluster;

/// <summary>A counter that many threads add to; read by the metrics exporter.</summary>
public sealed class StatCounter
{
    private long value;

    public long Value => Volatile.Read(ref value);

    public void Increment() => Interlocked.Increment(ref value);

    public void Add(long n) => Interlocked.Add(ref value, n);

    public void Decrement() => Interlocked.Decrement(ref value);

    public void Set(long n) => Volatile.Write(ref value, n);
}

/// <summary>
/// One node's counters and gauges. They belong to the node, not to the process, so several nodes in one
/// test process each count their own; the HTTP host exports them as the Prometheus metrics of PROTOCOL.md section 5.
/// </summary>
public sealed class NodeStats
{
    public StatCounter Connections { get; } = new();
    public StatCounter RoomsHosted { get; } = new();
    public StatCounter ShardsHosted { get; } = new();
    public StatCounter ShardHandoffs { get; } = new();
    public StatCounter FramesReceived { get; } = new();
    public StatCounter FramesDelivered { get; } = new();
    public StatCounter FramesDroppedRateLimited { get; } = new();
    public StatCounter FramesDroppedSlowReceiver { get; } = new();
    public StatCounter FramesDroppedNotJoined { get; } = new();

    /// <summary>Frames of stage members on no seat, dropped at the node that received them.</summary>
    public StatCounter FramesDroppedNotSeated { get; } = new();

    /// <summary>Frames of muted members, dropped at the node that received them.</summary>
    public StatCounter FramesDroppedMuted { get; } = new();

    /// <summary>Voice frames this node sent to another node, one per frame and target node (speaker's node to relay, or to or from a room).</summary>
    public StatCounter NodeMessagesSent { get; } = new();

    /// <summary>Text this node sent to another node's hub (<c>said</c>, member events, <c>direct</c>), one per message and target node.</summary>
    public StatCounter NodeTextMessagesSent { get; } = new();

    /// <summary>Users held by the user directory entries on this node (users with at least one connection somewhere).</summary>
    public StatCounter DirectoryUsers { get; } = new();

    /// <summary><c>said</c> messages numbered by the rooms hosted on this node.</summary>
    public StatCounter Said { get; } = new();

    /// <summary>Rejoins this node's hub started: one per room and node each time a room moves or restarts (repeats of an unanswered one not counted).</summary>
    public StatCounter Rejoins { get; } = new();

    /// <summary>WebSocket upgrades refused with 503 because the node held --max-connections.</summary>
    public StatCounter ConnectionsRefusedNodeLimit { get; } = new();

    /// <summary>WebSocket upgrades refused with 503 because the client's address held --max-connections-per-ip.</summary>
    public StatCounter ConnectionsRefusedPerIp { get; } = new();

    /// <summary>Text messages refused by the per-connection text rate limit.</summary>
    public StatCounter TextRateLimited { get; } = new();

    /// <summary>
    /// Messages the relay outbox sent to other nodes' relays; each carries one or more of the frames counted in
    /// <see cref="NodeMessagesSent"/>, so the ratio of the two is the frames per message remoting carries.
    /// </summary>
    public StatCounter NodeBatchesSent { get; } = new();

    /// <summary>Voice frame messages that reached this node's relay, from any node.</summary>
    public StatCounter RelayFramesReceived { get; } = new();

    /// <summary>Webhook events by event and outcome (<see cref="Webhooks.WebhookEvent.Names"/> by <see cref="Webhooks.WebhookOutcome"/>).</summary>
    public StatCounter[,] Webhooks { get; } = NewCounters(Cluster.Webhooks.WebhookEvent.Names.Length, 3);

    /// <summary>Webhook events waiting on this node, every URL's together.</summary>
    public StatCounter WebhookQueue { get; } = new();

    /// <summary>The node's own Prometheus registry: the histograms below, and the exporter's gauges and counters.</summary>
    public CollectorRegistry Registry { get; }

    /// <summary>Seconds from a frame's arrival on its speaker's node to its fan-out onto the receivers' queues.</summary>
    public Histogram RelayLatency { get; }

    /// <summary>Seconds from the coordinator deciding to move a shard to the shard's allocation on its new node.</summary>
    public Histogram HandoffDuration { get; }

    public NodeStats()
    {
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        RelayLatency = factory.CreateHistogram("akkavoice_relay_latency_seconds",
            "Time from a voice frame's arrival on its speaker's node to its fan-out onto receivers' queues (wall clock, so across nodes it includes clock offset).",
            new HistogramConfiguration { Buckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1] });
        HandoffDuration = factory.CreateHistogram("akkavoice_shard_handoff_duration_seconds",
            "Time from the shard coordinator starting to move a shard (rebalance) to its allocation on the new node; observed on the coordinator's node.",
            new HistogramConfiguration { Buckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
    }

    private static StatCounter[,] NewCounters(int rows, int columns)
    {
        var counters = new StatCounter[rows, columns];
        for (int r = 0; r < rows; r++)
        for (int c = 0; c < columns; c++) counters[r, c] = new StatCounter();
        return counters;
    }
}
