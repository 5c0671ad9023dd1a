using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;

namespace AkkaVoice.Cluster.Directory;

/// <summary>
/// Watches which room shards this node hosts, so that rebalancing can be seen: one log line per shard
/// that arrives or leaves, the hosted-shards gauge, and the handoff counter.
/// </summary>
public sealed class ShardWatcher : ReceiveActor, IWithTimers
{
    private sealed class Poll
    {
        public static readonly Poll Instance = new();
    }

    private readonly IActorRef region;
    private readonly NodeStats stats;
    private readonly TimeSpan interval;
    private readonly ILoggingAdapter log = Context.GetLogger();
    private readonly Address self = Akka.Cluster.Cluster.Get(Context.System).SelfAddress;
    private HashSet<string> hosted = [];

    public ShardWatcher(IActorRef region, NodeStats stats, TimeSpan interval)
    {
        this.region = region;
        this.stats = stats;
        this.interval = interval;
        Receive<Poll>(_ => region.Tell(GetShardRegionState.Instance));
        Receive<CurrentShardRegionState>(OnState);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Polls <paramref name="region"/> every <paramref name="interval"/> (<c>akkavoice.shard-watch-interval</c>).</summary>
    public static Props Props(IActorRef region, NodeStats stats, TimeSpan interval) =>
        Akka.Actor.Props.Create(() => new ShardWatcher(region, stats, interval));

    protected override void PreStart() => Timers.StartPeriodicTimer(Poll.Instance, Poll.Instance, interval);

    private void OnState(CurrentShardRegionState state)
    {
        var now = state.Shards.Select(s => s.ShardId).ToHashSet();
        foreach (var shard in now.Except(hosted))
            log.Info("Shard {Shard} now hosted on {Node}", shard, self);
        foreach (var shard in hosted.Except(now))
        {
            stats.ShardHandoffs.Increment();
            log.Info("Shard {Shard} handed off from {Node}", shard, self);
        }
        hosted = now;
        stats.ShardsHosted.Set(now.Count);
    }
}
