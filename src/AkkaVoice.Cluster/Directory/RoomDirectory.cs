using Akka.Actor;
using Akka.Cluster;

namespace AkkaVoice.Cluster.Directory;

/// <summary>
/// The room directory: room id to shard by a stable hash, shard to node by rendezvous (highest random
/// weight) hashing over the nodes that may host shards. Every node computes the same answer from the
/// same member list without asking the shard coordinator, and when a node joins or leaves only the
/// shards whose highest-weight node changed move: about 1/N of them.
/// </summary>
/// <remarks>
/// A node is weighed by its stable name, not by its address or incarnation: the <c>name:</c> role it
/// joined with (<c>akkavoice.node-name</c>, the pod name in Kubernetes), else <c>host:port</c>. So a
/// restarted pod, with a new uid and maybe a new IP, gets back the shards it had.
/// </remarks>
public sealed class RoomDirectory
{
    /// <summary>The prefix of the cluster role that carries a node's stable name.</summary>
    public const string NameRolePrefix = "name:";

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

    /// <summary>The name of a node that joined without a <c>name:</c> role: <c>host:port</c> of its address.</summary>
    public static string DefaultName(Address node) => $"{node.Host}:{node.Port}";

    /// <summary>The stable name of a member: its <c>name:</c> role, else <see cref="DefaultName"/>.</summary>
    public static string NameOf(Member member) => NameOf(member.Address, member.Roles);

    /// <summary>The stable name of a node from its address and cluster roles.</summary>
    public static string NameOf(Address node, IEnumerable<string> roles)
    {
        foreach (var role in roles)
        {
            if (role.StartsWith(NameRolePrefix, StringComparison.Ordinal) && role.Length > NameRolePrefix.Length)
                return role[NameRolePrefix.Length..];
        }
        return DefaultName(node);
    }

    /// <summary>The rendezvous weight of a shard on a node named <paramref name="nodeName"/>: highest wins.</summary>
    public static ulong Weight(string shardId, string nodeName) =>
        StableHash.Mix(StableHash.Hash64(shardId) ^ StableHash.Hash64(nodeName));

    /// <summary>The rendezvous weight of a shard on a node without a name role.</summary>
    public static ulong Weight(string shardId, Address node) => Weight(shardId, DefaultName(node));

    /// <summary>
    /// The node among <paramref name="nodes"/> that should host <paramref name="shardId"/>, weighed by
    /// <paramref name="nameOf"/>, or default when there is none.
    /// </summary>
    public static T? HomeOfShard<T>(string shardId, IEnumerable<T> nodes, Func<T, string> nameOf, Func<T, Address> addressOf)
    {
        T? best = default;
        string? bestName = null;
        ulong bestWeight = 0;
        foreach (var node in nodes)
        {
            var name = nameOf(node);
            var w = Weight(shardId, name);
            // Ties are practically impossible; break them by name, then address (two nodes given the
            // same name by mistake), so every node still agrees.
            if (bestName is null || w > bestWeight || (w == bestWeight && Before(name, addressOf(node), bestName, addressOf(best!))))
            {
                best = node;
                bestName = name;
                bestWeight = w;
            }
        }
        return best;
    }

    /// <summary>The member among <paramref name="members"/> that should host <paramref name="shardId"/>, weighed by stable name.</summary>
    public static Address? HomeOfShardAmong(string shardId, IEnumerable<Member> members) =>
        HomeOfShard(shardId, members, NameOf, m => m.Address)?.Address;

    /// <summary>The node among <paramref name="nodes"/> (nodes without name roles) that should host <paramref name="shardId"/>, or null.</summary>
    public static Address? HomeOfShard(string shardId, IEnumerable<Address> nodes) =>
        HomeOfShard(shardId, nodes, DefaultName, a => a);

    /// <summary>The node that should host <paramref name="room"/> among nodes without name roles.</summary>
    public Address? HomeOfRoom(string room, IEnumerable<Address> nodes) => HomeOfShard(ShardOf(room), nodes);

    /// <summary>The member that should host <paramref name="room"/>, weighed by stable name.</summary>
    public Address? HomeOfRoomAmong(string room, IEnumerable<Member> members) => HomeOfShardAmong(ShardOf(room), members);

    private static bool Before(string name, Address address, string otherName, Address otherAddress)
    {
        var byName = string.CompareOrdinal(name, otherName);
        return byName != 0 ? byName < 0 : string.CompareOrdinal(address.ToString(), otherAddress.ToString()) < 0;
    }
}
