using Akka.Actor;
using Akka.Cluster.Sharding;
using AkkaVoice.Cluster;
using AkkaVoice.Cluster.Directory;
using AkkaVoice.Cluster.Rooms;
using Xunit;
using Xunit.Abstractions;

namespace AkkaVoice.Tests.Cluster;

/// <summary>The consistent-hash room directory in a live cluster: a join or leave moves only the shards whose home changed.</summary>
public sealed class ShardMovementSpec(ITestOutputHelper output) : ClusterSpec(output, 2)
{
    [Fact]
    public async Task Joining_and_leaving_move_only_the_shards_whose_home_changed()
    {
        var shardCount = Cluster[0].Settings.ShardCount;
        await TouchEveryShardAsync(Cluster[0], shardCount);
        var before = await SettledAllocationAsync(shardCount);

        var joiner = Cluster.StartNode();
        await Cluster.AwaitUpAsync();
        var afterJoin = await SettledAllocationAsync(shardCount);
        var movedOnJoin = Moved(before, afterJoin);
        Output.WriteLine($"join of a 3rd node moved {movedOnJoin.Count} of {shardCount} shards (ideal about {shardCount / 3})");
        Assert.All(movedOnJoin, shard => Assert.Equal(joiner.SelfAddress, afterJoin[shard]));
        Assert.InRange(movedOnJoin.Count, shardCount / 6, shardCount / 2);

        await Cluster.LeaveAsync(1);
        var afterLeave = await SettledAllocationAsync(shardCount);
        var movedOnLeave = Moved(afterJoin, afterLeave);
        Output.WriteLine($"leave of a node moved {movedOnLeave.Count} of {shardCount} shards");
        Assert.Equal(afterJoin.Where(kv => kv.Value.Equals(Cluster[1].SelfAddress)).Select(kv => kv.Key).Order(), movedOnLeave.Order());
    }

    [Fact]
    public async Task Users_stay_reachable_by_direct_while_their_directory_entries_move_to_a_new_node()
    {
        // Thirty users: with three nodes, some of their directory shards are all but certain to move.
        var users = Enumerable.Range(0, 30).Select(i => Cluster.Connect(1, $"user-{i}")).ToList();
        await using var alice = Cluster.Connect(0, "alice");
        try
        {
            await AwaitAssertAsync(async () => await AssertDirectReachesAllAsync(alice, users), TimeSpan.FromSeconds(20));

            var shards = await TestCluster.UserShardsAsync(Cluster);
            Cluster.StartNode();
            await Cluster.AwaitUpAsync();
            var moved = await TestCluster.AwaitUserShardsSettledAsync(Cluster, shards);
            Output.WriteLine($"user directory shards that moved to the new node: {moved}");
            Assert.True(moved > 0);

            await AwaitAssertAsync(async () => await AssertDirectReachesAllAsync(alice, users), TimeSpan.FromSeconds(20));
        }
        finally
        {
            foreach (var u in users) await u.DisposeAsync();
        }
    }

    private static async Task AssertDirectReachesAllAsync(TestConnection sender, List<TestConnection> users)
    {
        foreach (var user in users)
        {
            sender.Send($$"""{"type":"direct","to":"{{user.Session.User}}","text":"ping","ref":"{{user.Session.User}}"}""");
            var answer = await sender.ExpectAsyncAny(["delivered", "error"]);
            Assert.Equal("delivered", answer.Type);
            Assert.Equal("ping", (await user.ExpectAsync("direct")).Str("text"));
        }
    }

    private static List<string> Moved(Dictionary<string, Address> before, Dictionary<string, Address> after) =>
        before.Where(kv => !after[kv.Key].Equals(kv.Value)).Select(kv => kv.Key).ToList();
}
