using Akka.Actor;
using Akka.Cluster.Sharding;
using AkkaVoice.Cluster;
using AkkaVoice.Cluster.Rooms;
using AkkaVoice.Cluster.Directory;
using Xunit;
using Xunit.Abstractions;

namespace AkkaVoice.Tests.Cluster;

/// <summary>
/// Base of the multi-node tests: a TestKit whose own system is node 0 of a real <see cref="TestCluster"/>.
/// Tests in this collection run one after another, so their clusters never compete for the machine.
/// </summary>
[Collection(Name)]
public abstract class ClusterSpec(ITestOutputHelper output, int size, string hocon = "")
    : Akka.TestKit.Xunit2.TestKit(TestCluster.NodeSetup(hocon), "akkavoice", output), IAsyncLifetime
{
    public const string Name = "multi-node";

    protected TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await TestCluster.StartAsync(size, Sys, hocon);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    /// <summary>A room id whose home, by the room directory, is node <paramref name="index"/>.</summary>
    protected string RoomHomedOn(int index, string prefix = "room")
    {
        var nodes = Cluster.Nodes.Select(n => n.SelfAddress).ToArray();
        for (int i = 0; ; i++)
        {
            var room = $"{prefix}-{i}";
            if (Cluster[0].Directory.HomeOfRoom(room, nodes)!.Equals(nodes[index])) return room;
        }
    }

    /// <summary>Asks one room of every shard who is in it, so every shard is allocated.</summary>
    protected static async Task TouchEveryShardAsync(VoiceNode node, int shardCount)
    {
        var seen = new HashSet<string>();
        for (int i = 0; seen.Count < shardCount; i++)
        {
            var room = $"r-{i}";
            if (!seen.Add(node.Directory.ShardOf(room))) continue;
            // A question sent to a shard whose node just died is lost with it; ask again until answered.
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    await node.Rooms.Ask<RoomInfo>(new GetRoomInfo(room), TimeSpan.FromSeconds(3));
                    break;
                }
                catch (AskTimeoutException) when (attempt < 10)
                {
                }
            }
        }
    }

    /// <summary>Shard to node, once every shard sits on its rendezvous home among the running members, weighed by name.</summary>
    protected async Task<Dictionary<string, Address>> SettledAllocationAsync(int shardCount)
    {
        Dictionary<string, Address> allocation = [];
        await AwaitAssertAsync(async () =>
        {
            var running = Cluster.Nodes.Where(n => !n.System.WhenTerminated.IsCompleted).ToList();
            var stats = await running[0].Rooms.Ask<ClusterShardingStats>(new GetClusterShardingStats(TimeSpan.FromSeconds(3)), TimeSpan.FromSeconds(5));
            allocation = stats.Regions.SelectMany(r => r.Value.Stats.Keys.Select(s => (Shard: s, Node: r.Key))).ToDictionary(x => x.Shard, x => x.Node);
            Assert.Equal(shardCount, allocation.Count);
            var members = Akka.Cluster.Cluster.Get(running[0].System).State.Members
                .Where(m => running.Any(n => n.SelfAddress.Equals(m.Address))).ToList();
            Assert.Equal(running.Count, members.Count);
            Assert.All(allocation, kv => Assert.Equal(RoomDirectory.HomeOfShardAmong(kv.Key, members), kv.Value));
        }, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(500));
        return allocation;
    }

    /// <summary>Where the room actor actually runs, asked of the room itself.</summary>
    protected async Task<string> HomeOfAsync(VoiceNode via, string room) =>
        (await via.Rooms.Ask<RoomInfo>(new GetRoomInfo(room), TimeSpan.FromSeconds(5))).Home;
}

[CollectionDefinition(ClusterSpec.Name, DisableParallelization = true)]
public sealed class MultiNodeCollection;
