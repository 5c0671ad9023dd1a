using Akka.Actor;
using Akka.DistributedData;

namespace AkkaVoice.Cluster.Rooms;

/// <summary>
/// Where room configurations are replicated: one Akka.DistributedData <see cref="LWWDictionary{TKey,TValue}"/> per room
/// shard (room id to <see cref="RoomConfig"/>), so a room's configuration lives in the same key wherever its shard
/// goes, and the whole cluster's configured rooms are read shard by shard. Only the room's home writes its entry
/// (one writer, so last-writer-wins never loses a concurrent change); it writes to a majority before it
/// acknowledges a change and reads from a majority before it answers its first join.
/// </summary>
public static class RoomConfigStore
{
    /// <summary>How long a majority read or write may take before the room goes on with what it has.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    public static LWWDictionaryKey<string, RoomConfig> KeyOf(string shard) => new("room-config-" + shard);

    public static IActorRef Replicator(ActorSystem system) => DistributedData.Get(system).Replicator;
}

/// <summary>
/// Reads the configured rooms of the cluster (for the server API's room listing): every room of a shard with a
/// configuration that has not expired. Reads this node's replica, which the majority writes keep within a
/// gossip round of the others.
/// </summary>
public sealed class RoomConfigReader(ActorSystem system, int shardCount)
{
    private readonly IActorRef replicator = RoomConfigStore.Replicator(system);

    /// <summary>The shard ids, "0" to shard count - 1, in the order a cluster-wide listing pages them.</summary>
    public IEnumerable<string> Shards => Enumerable.Range(0, shardCount).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The configured rooms of one shard, by room id.</summary>
    public async Task<IReadOnlyDictionary<string, RoomConfig>> ReadShardAsync(string shard, CancellationToken cancel = default)
    {
        var key = RoomConfigStore.KeyOf(shard);
        var answer = await replicator.Ask<IGetResponse>(Dsl.Get(key, ReadLocal.Instance), RoomConfigStore.Timeout, cancel);
        if (answer is not GetSuccess success) return new Dictionary<string, RoomConfig>();
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        return success.Get(key).Entries.Where(e => !e.Value.ExpiredAt(now)).ToDictionary(e => e.Key, e => e.Value);
    }

    /// <summary>Every configured room of the cluster, by room id.</summary>
    public async Task<IReadOnlyDictionary<string, RoomConfig>> ReadAllAsync(CancellationToken cancel = default)
    {
        var all = new SortedDictionary<string, RoomConfig>(StringComparer.Ordinal);
        foreach (var shard in Shards)
        {
            foreach (var (room, config) in await ReadShardAsync(shard, cancel)) all[room] = config;
        }
        return all;
    }
}
