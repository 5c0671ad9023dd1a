using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;

namespace AkkaVoice.Cluster.Directory;

/// <summary>
/// Shard allocation by rendezvous hashing (see <see cref="RoomDirectory"/>): a shard goes to the
/// region whose node has the highest weight for it, and rebalancing moves only the shards that
/// are not on that node. Nodes that are leaving are never chosen, so a graceful leave hands each of
/// its shards straight to the node that will keep it.
/// </summary>
public sealed class RendezvousAllocationStrategy : IActorSystemDependentAllocationStrategy
{
    private readonly int maxSimultaneousRebalance;
    private readonly NodeStats? stats;
    private readonly Dictionary<string, (long Started, Address From)> moving = [];
    private Akka.Cluster.Cluster? cluster;
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
        log = Logging.GetLogger(system, typeof(RendezvousAllocationStrategy));
    }

    public Task<IActorRef> AllocateShard(IActorRef requester, string shardId, IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations)
    {
        var candidates = Candidates(currentShardAllocations);
        // Regions are known before the coordinator's view of members catches up; fall back to the requester then.
        var region = Best(shardId, candidates) ?? requester;
        if (moving.Remove(shardId, out var move))
        {
            var seconds = System.Diagnostics.Stopwatch.GetElapsedTime(move.Started).TotalSeconds;
            stats?.HandoffDuration.Observe(seconds);
            log?.Info("Shard {Shard} handoff completed: {From} to {Node} in {DurationMs} ms", shardId, move.From, AddressOf(region), (long)(seconds * 1000));
        }
        else
        {
            log?.Info("Shard {Shard} allocated to {Node}", shardId, AddressOf(region));
        }
        return Task.FromResult(region);
    }

    public Task<IImmutableSet<string>> Rebalance(IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations, IImmutableSet<string> rebalanceInProgress)
    {
        var result = ImmutableHashSet<string>.Empty;
        var budget = maxSimultaneousRebalance - rebalanceInProgress.Count;
        if (budget <= 0 || !GoodTimeToRebalance()) return Task.FromResult<IImmutableSet<string>>(result);

        var candidates = Candidates(currentShardAllocations);
        if (candidates.Count == 0) return Task.FromResult<IImmutableSet<string>>(result);

        // Sorted so that every coordinator picks the same shards first.
        foreach (var (region, shards) in currentShardAllocations.OrderBy(kv => AddressOf(kv.Key).ToString(), StringComparer.Ordinal))
        {
            foreach (var shard in shards.Order(StringComparer.Ordinal))
            {
                if (budget == 0) break;
                if (rebalanceInProgress.Contains(shard)) continue;
                var best = Best(shard, candidates);
                if (best is not null && !best.Equals(region))
                {
                    result = result.Add(shard);
                    budget--;
                    moving[shard] = (System.Diagnostics.Stopwatch.GetTimestamp(), AddressOf(region));
                    log?.Info("Shard {Shard} handoff started: {From} to {To}", shard, AddressOf(region), AddressOf(best));
                }
            }
        }
        return Task.FromResult<IImmutableSet<string>>(result);
    }

    private IActorRef? Best(string shardId, List<(IActorRef Region, Address Node)> candidates)
    {
        IActorRef? best = null;
        ulong bestWeight = 0;
        Address? bestNode = null;
        foreach (var (region, node) in candidates)
        {
            var w = RoomDirectory.Weight(shardId, node);
            if (best is null || w > bestWeight || (w == bestWeight && string.CompareOrdinal(node.ToString(), bestNode!.ToString()) < 0))
            {
                best = region;
                bestWeight = w;
                bestNode = node;
            }
        }
        return best;
    }

    /// <summary>Regions whose node is Up (or joining and already registered), never one that is leaving.</summary>
    private List<(IActorRef Region, Address Node)> Candidates(IImmutableDictionary<IActorRef, IImmutableList<string>> allocations)
    {
        var list = new List<(IActorRef, Address)>(allocations.Count);
        var members = cluster!.State.Members.ToDictionary(m => m.Address);
        foreach (var region in allocations.Keys)
        {
            var node = AddressOf(region);
            if (members.TryGetValue(node, out var member) && member.Status is Akka.Cluster.MemberStatus.Up or Akka.Cluster.MemberStatus.WeaklyUp)
                list.Add((region, node));
        }
        return list;
    }

    private bool GoodTimeToRebalance()
    {
        var state = cluster!.State;
        // Moving shards while a node is unreachable or still joining would move them twice.
        return state.Unreachable.Count == 0 && state.Members.All(m => m.Status is not (Akka.Cluster.MemberStatus.Joining or Akka.Cluster.MemberStatus.WeaklyUp));
    }

    private Address AddressOf(IActorRef region) =>
        region.Path.Address.HasLocalScope ? cluster!.SelfAddress : region.Path.Address;
}
