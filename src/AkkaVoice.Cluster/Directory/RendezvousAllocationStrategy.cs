using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Event;

namespace AkkaVoice.Cluster.Directory;

/// <summary>
/// Shard allocation by rendezvous hashing (see <see cref="RoomDirectory"/>): a shard goes to the
/// region whose node has the highest weight for it, and rebalancing moves only the shards that
/// are not on that node. Nodes that are leaving are never chosen, so a graceful leave hands each of
/// its shards straight to the node that will keep it.
/// </summary>
/// <remarks>
/// A rebalance only moves shards between live regions: a region whose node is unreachable, downed or
/// already removed cannot hand anything off, and asking it to would hold its shards in a handoff that
/// never finishes (until <c>handoff-timeout</c>). The coordinator keeps a dead region in the allocations
/// it shows us until <c>down-removal-margin</c> after the node's removal; then it drops the region and asks
/// for each of its shards anew, and <see cref="AllocateShard"/> places them at their new home directly.
/// Each decision is also published on the event stream (<see cref="ShardAllocated"/>,
/// <see cref="ShardRebalanceStarted"/>).
/// </remarks>
public sealed class RendezvousAllocationStrategy : IActorSystemDependentAllocationStrategy
{
    private readonly int maxSimultaneousRebalance;
    private readonly NodeStats? stats;
    private readonly Dictionary<string, (long Started, Address From)> moving = [];
    private Akka.Cluster.Cluster? cluster;
    private EventStream? events;
    private ILoggingAdapter? log;

    /// <param name="maxSimultaneousRebalance">How many shards may be handing off at once; bounds the voice gap a rebalance causes.</param>
    /// <param name="stats">Where handoff durations are recorded (null: not recorded).</param>
    public RendezvousAllocationStrategy(int maxSimultaneousRebalance, NodeStats? stats)
    {
        this.maxSimultaneousRebalance = maxSimultaneousRebalance;
        this.stats = stats;
    }

    public void Start(ActorSystem system)
    {
        cluster = Akka.Cluster.Cluster.Get(system);
        events = system.EventStream;
        log = Logging.GetLogger(system, typeof(RendezvousAllocationStrategy));
    }

    public Task<IActorRef> AllocateShard(IActorRef requester, string shardId, IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations)
    {
        var members = Members();
        var candidates = Candidates(currentShardAllocations, members);
        // Regions are known before the coordinator's view of members catches up; fall back to the requester then.
        var region = Best(shardId, candidates) ?? requester;
        var node = AddressOf(region);
        Address? from = null;
        if (moving.Remove(shardId, out var move))
        {
            from = move.From;
            var seconds = System.Diagnostics.Stopwatch.GetElapsedTime(move.Started).TotalSeconds;
            stats?.HandoffDuration.Observe(seconds);
            log?.Info("Shard {Shard} handoff completed: {From} to {Node} in {DurationMs} ms", shardId, move.From, node, (long)(seconds * 1000));
        }
        else
        {
            log?.Info("Shard {Shard} allocated to {Node}", shardId, node);
        }
        events?.Publish(new ShardAllocated(shardId, node, from));
        return Task.FromResult(region);
    }

    public Task<IImmutableSet<string>> Rebalance(IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations, IImmutableSet<string> rebalanceInProgress)
    {
        var result = ImmutableHashSet<string>.Empty;
        var members = Members();
        // A handoff that was started from a node that has since died will never complete; forget it, so the
        // shard's next allocation is logged as what it is.
        foreach (var (shard, move) in moving.ToList())
        {
            if (!rebalanceInProgress.Contains(shard) && !IsLive(move.From, members)) moving.Remove(shard);
        }

        var budget = maxSimultaneousRebalance - rebalanceInProgress.Count;
        if (budget <= 0 || !GoodTimeToRebalance()) return Task.FromResult<IImmutableSet<string>>(result);

        var candidates = Candidates(currentShardAllocations, members);
        if (candidates.Count == 0) return Task.FromResult<IImmutableSet<string>>(result);

        // Sorted so that every coordinator picks the same shards first.
        foreach (var (region, shards) in currentShardAllocations.OrderBy(kv => AddressOf(kv.Key).ToString(), StringComparer.Ordinal))
        {
            var from = AddressOf(region);
            // Only a live region can hand off; a dead one's shards are allocated anew once the coordinator drops it.
            if (!IsLive(from, members)) continue;
            foreach (var shard in shards.Order(StringComparer.Ordinal))
            {
                if (budget == 0) break;
                if (rebalanceInProgress.Contains(shard)) continue;
                var best = Best(shard, candidates);
                if (best is not null && !best.Equals(region))
                {
                    result = result.Add(shard);
                    budget--;
                    moving[shard] = (System.Diagnostics.Stopwatch.GetTimestamp(), from);
                    var to = AddressOf(best);
                    log?.Info("Shard {Shard} handoff started: {From} to {To}", shard, from, to);
                    events?.Publish(new ShardRebalanceStarted(shard, from, to));
                }
            }
        }
        return Task.FromResult<IImmutableSet<string>>(result);
    }

    private static IActorRef? Best(string shardId, List<(IActorRef Region, Address Node, string Name)> candidates) =>
        RoomDirectory.HomeOfShard(shardId, candidates, c => c.Name, c => c.Node).Region;

    /// <summary>Regions whose node is Up (or joining and already registered) and reachable, never one that is leaving.</summary>
    private List<(IActorRef Region, Address Node, string Name)> Candidates(IImmutableDictionary<IActorRef, IImmutableList<string>> allocations, Dictionary<Address, Member> members)
    {
        var list = new List<(IActorRef, Address, string)>(allocations.Count);
        var unreachable = cluster!.State.Unreachable;
        foreach (var region in allocations.Keys)
        {
            var node = AddressOf(region);
            if (members.TryGetValue(node, out var member) && member.Status is MemberStatus.Up or MemberStatus.WeaklyUp && !unreachable.Contains(member))
                list.Add((region, node, RoomDirectory.NameOf(member)));
        }
        return list;
    }

    /// <summary>A node that can still hand its shards off: a reachable member that is up, or leaving and not yet exiting.</summary>
    private bool IsLive(Address node, Dictionary<Address, Member> members) =>
        members.TryGetValue(node, out var member)
        && member.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Leaving
        && !cluster!.State.Unreachable.Contains(member);

    private Dictionary<Address, Member> Members() => cluster!.State.Members.ToDictionary(m => m.Address);

    private bool GoodTimeToRebalance()
    {
        var state = cluster!.State;
        // Moving shards while a node is unreachable or still joining would move them twice.
        return state.Unreachable.Count == 0 && state.Members.All(m => m.Status is not (MemberStatus.Joining or MemberStatus.WeaklyUp));
    }

    private Address AddressOf(IActorRef region) =>
        region.Path.Address.HasLocalScope ? cluster!.SelfAddress : region.Path.Address;
}
