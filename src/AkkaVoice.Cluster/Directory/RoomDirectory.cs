using Akka.Actor;

namespace AkkaVoice.Cluster.Directory;

/// <summary>
/// The room directory: room id to shard by a stable hash, shard to node by rendezvous (highest random
/// weight) hashing over the nodes that may host shards. Every node computes the same answer from the
/// same member list without asking the shard coordinator, and when a node joins or leaves only the
/// shards whose highest-weight node changed move: about 1/N of them.
/// </summary>
public sealed class RoomDirectory
{
    /// <summary>Creates a directory over a fixed number of shards (the HOCON <c>akkavoice.shard-count</c>).</summary>
    public RoomDirectory(int shardCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        ShardCount = shardCount;
    }

    /// <summary>Number of shards; changing it moves almost every room, so it is fixed for a cluster's life.</summary>
    public int ShardCount { get; }

    /// <summary>The shard of an entity id (room or user).</summary>
    public string ShardOf(string entityId) => ((int)(StableHash.Hash64(entityId) % (ulong)ShardCount)).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The rendezvous weight of a shard on a node: highest wins.</summary>
    public static ulong Weight(string shardId, Address node) =>
        StableHash.Mix(StableHash.Hash64(shardId) ^ StableHash.Hash64(NodeKey(node)));

    /// <summary>The node among <paramref name="nodes"/> that should host <paramref name="shardId"/>, or null when there is none.</summary>
    public static Address? HomeOfShard(string shardId, IEnumerable<Address> nodes)
    {
        Address? best = null;
        ulong bestWeight = 0;
        foreach (var node in nodes)
        {
            var w = Weight(shardId, node);
            // Ties are practically impossible; break them by address so every node still agrees.
            if (best is null || w > bestWeight || (w == bestWeight && string.CompareOrdinal(NodeKey(node), NodeKey(best)) < 0))
            {
                best = node;
                bestWeight = w;
            }
        }
        return best;
    }

    /// <summary>The node that should host <paramref name="room"/>.</summary>
    public Address? HomeOfRoom(string room, IEnumerable<Address> nodes) => HomeOfShard(ShardOf(room), nodes);

    private static string NodeKey(Address node) => $"{node.Host}:{node.Port}";
}
