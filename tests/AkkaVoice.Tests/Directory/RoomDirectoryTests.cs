using System.Globalization;
using Akka.Actor;
using AkkaVoice.Cluster.Directory;
using Xunit;

namespace AkkaVoice.Tests.Directory;

public sealed class RoomDirectoryTests
{
    private static readonly Address[] Nodes = Enumerable.Range(1, 10).Select(Node).ToArray();

    private static Address Node(int i) => new("akka.tcp", "akkavoice", $"10.0.0.{i}", 4053);

    private static IEnumerable<string> Shards(int count) => Enumerable.Range(0, count).Select(i => i.ToString(CultureInfo.InvariantCulture));

    // ---- room to shard ----

    [Theory]
    [InlineData("", "3")]
    [InlineData("a", "36")]
    [InlineData("lobby", "85")]
    [InlineData("room-42", "25")]
    [InlineData("alice", "72")]
    [InlineData("team.red:general", "75")]
    public void The_shard_of_a_room_never_changes(string room, string shard)
    {
        Assert.Equal(shard, new RoomDirectory(100).ShardOf(room));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(100)]
    [InlineData(1000)]
    public void Every_shard_id_is_a_plain_number_below_the_shard_count(int shardCount)
    {
        var directory = new RoomDirectory(shardCount);
        Assert.Equal(shardCount, directory.ShardCount);
        for (int i = 0; i < 2000; i++)
        {
            var shard = directory.ShardOf("room-" + i);
            Assert.Matches("^(0|[1-9][0-9]*)$", shard);
            Assert.InRange(int.Parse(shard, CultureInfo.InvariantCulture), 0, shardCount - 1);
        }
    }

    [Fact]
    public void Ten_thousand_rooms_spread_evenly_over_100_shards()
    {
        var directory = new RoomDirectory(100);
        var counts = new int[100];
        for (int i = 0; i < 10_000; i++) counts[int.Parse(directory.ShardOf($"room-{i}"), CultureInfo.InvariantCulture)]++;
        // Mean 100 per shard.
        Assert.All(counts, c => Assert.InRange(c, 50, 150));
    }

    [Fact]
    public void Similar_user_ids_spread_evenly_over_100_shards()
    {
        var directory = new RoomDirectory(100);
        var counts = new int[100];
        for (int i = 0; i < 10_000; i++) counts[int.Parse(directory.ShardOf($"guest-{i:x8}"), CultureInfo.InvariantCulture)]++;
        Assert.All(counts, c => Assert.InRange(c, 50, 150));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void A_directory_needs_at_least_one_shard(int shardCount)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RoomDirectory(shardCount));
    }

    // ---- shard to node ----

    [Fact]
    public void The_home_of_a_shard_never_changes()
    {
        Address[] three = [Node(1), Node(2), Node(3)];
        Assert.Equal(Node(3), RoomDirectory.HomeOfShard("0", three));
        Assert.Equal(Node(1), RoomDirectory.HomeOfShard("1", three));
        Assert.Equal(Node(3), RoomDirectory.HomeOfShard("42", three));
        Assert.Equal(8567477247667693159UL, RoomDirectory.Weight("0", Node(1)));
    }

    [Fact]
    public void A_shard_has_no_home_without_nodes()
    {
        Assert.Null(RoomDirectory.HomeOfShard("0", []));
    }

    [Fact]
    public void A_single_node_is_home_to_every_shard()
    {
        Assert.All(Shards(100), s => Assert.Equal(Node(5), RoomDirectory.HomeOfShard(s, [Node(5)])));
    }

    [Fact]
    public void Every_node_finds_the_same_home_whatever_order_it_lists_the_nodes_in()
    {
        var random = new Random(7);
        foreach (var shard in Shards(1000))
        {
            var expected = RoomDirectory.HomeOfShard(shard, Nodes);
            var shuffled = Nodes.ToArray();
            random.Shuffle(shuffled);
            Assert.Equal(expected, RoomDirectory.HomeOfShard(shard, shuffled));
        }
    }

    [Fact]
    public void The_home_depends_on_host_and_port_only()
    {
        // Nodes name each other by address; protocol and system name are the same cluster-wide.
        var other = new Address("akka", "other", "10.0.0.1", 4053);
        Assert.Equal(RoomDirectory.Weight("17", Node(1)), RoomDirectory.Weight("17", other));
        Assert.NotEqual(RoomDirectory.Weight("17", Node(1)), RoomDirectory.Weight("17", new Address("akka.tcp", "akkavoice", "10.0.0.1", 4054)));
    }

    [Fact]
    public void A_room_lives_at_the_home_of_its_shard()
    {
        var directory = new RoomDirectory(100);
        foreach (var room in new[] { "lobby", "room-42", "team.red:general" })
            Assert.Equal(RoomDirectory.HomeOfShard(directory.ShardOf(room), Nodes), directory.HomeOfRoom(room, Nodes));
    }

    [Fact]
    public void A_thousand_shards_spread_evenly_over_four_nodes()
    {
        var four = Nodes[..4];
        var counts = Shards(1000).GroupBy(s => RoomDirectory.HomeOfShard(s, four)).ToDictionary(g => g.Key!, g => g.Count());
        Assert.Equal(4, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 125, 375));
    }

    [Fact]
    public void A_fourth_node_takes_about_a_quarter_of_the_shards_and_nothing_else_moves()
    {
        var fraction = MovedWhenANodeJoins(3);
        Assert.InRange(fraction, 0.15, 0.35);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(9)]
    public void A_joining_node_takes_about_its_share_and_nothing_else_moves(int before)
    {
        var expected = 1.0 / (before + 1);
        Assert.InRange(MovedWhenANodeJoins(before), expected * 0.6, expected * 1.4);
    }

    /// <summary>Checks every moved shard went to the new node and returns the moved fraction of 1000 shards.</summary>
    private static double MovedWhenANodeJoins(int before)
    {
        var oldNodes = Nodes[..before];
        var newNodes = Nodes[..(before + 1)];
        var joiner = Nodes[before];
        int moved = 0;
        foreach (var shard in Shards(1000))
        {
            var oldHome = RoomDirectory.HomeOfShard(shard, oldNodes);
            var newHome = RoomDirectory.HomeOfShard(shard, newNodes);
            if (Equals(oldHome, newHome)) continue;
            Assert.Equal(joiner, newHome);
            moved++;
        }
        return moved / 1000.0;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    public void When_one_of_four_nodes_leaves_only_its_shards_move(int leaving)
    {
        var four = Nodes[..4];
        var three = four.Where((_, i) => i != leaving).ToArray();
        int moved = 0;
        foreach (var shard in Shards(1000))
        {
            var oldHome = RoomDirectory.HomeOfShard(shard, four);
            var newHome = RoomDirectory.HomeOfShard(shard, three);
            if (Equals(oldHome, four[leaving]))
            {
                Assert.NotEqual(four[leaving], newHome);
                moved++;
            }
            else
            {
                Assert.Equal(oldHome, newHome);
            }
        }
        Assert.InRange(moved / 1000.0, 0.15, 0.35);
    }

    [Fact]
    public void The_shards_of_a_leaving_node_spread_over_all_the_others()
    {
        var four = Nodes[..4];
        var three = Nodes[1..4];
        var heirs = Shards(1000)
            .Where(s => Equals(RoomDirectory.HomeOfShard(s, four), Nodes[0]))
            .GroupBy(s => RoomDirectory.HomeOfShard(s, three))
            .ToDictionary(g => g.Key!, g => g.Count());
        Assert.Equal(3, heirs.Count);
        var total = heirs.Values.Sum();
        Assert.All(heirs.Values, c => Assert.InRange(c, total / 3 / 2, total / 3 * 3 / 2));
    }
}
