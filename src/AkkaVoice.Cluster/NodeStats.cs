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

    /// <summary>Voice frame messages this node sent to another node (speaker to room, room to relay).</summary>
    public StatCounter NodeMessagesSent { get; } = new();

    /// <summary>Voice frame messages that reached this node's relay, from any node.</summary>
    public StatCounter RelayFramesReceived { get; } = new();
}
