using System.Globalization;
using Akka.Actor;
using AkkaVoice.Cluster.Directory;
using Xunit;

namespace AkkaVoice.Tests.Directory;

/// <summary>A node's key in the rendezvous hash is its stable name, so a node that comes back under a new address gets back its shards.</summary>
public sealed class NodeNameTests
{
    private static readonly string[] Shards = Enumerable.Range(0, 100).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();

    private static (Address Address, string Name) Pod(int index, string ip) =>
        (new Address("akka.tcp", "akkavoice", ip, 4053), RoomDirectory.NameOf(new Address("akka.tcp", "akkavoice", ip, 4053), ["name:akkavoice-" + index]));

    private static Dictionary<string, string> Homes(IEnumerable<(Address Address, string Name)> nodes) =>
        Shards.ToDictionary(s => s, s => RoomDirectory.HomeOfShard(s, nodes, n => n.Name, n => n.Address).Name);

    [Fact]
    public void A_name_role_is_the_name_and_without_one_the_name_is_host_and_port()
    {
        var address = new Address("akka.tcp", "akkavoice", "10.1.0.7", 4053);
        Assert.Equal("akkavoice-2", RoomDirectory.NameOf(address, ["web", "name:akkavoice-2"]));
        Assert.Equal("10.1.0.7:4053", RoomDirectory.NameOf(address, ["web"]));
        Assert.Equal("10.1.0.7:4053", RoomDirectory.NameOf(address, ["name:"]));
        Assert.Equal("10.1.0.7:4053", RoomDirectory.DefaultName(address));
    }

    [Fact]
    public void A_pod_restarted_with_a_new_ip_gets_back_exactly_the_shards_it_had()
    {
        var before = Homes([Pod(0, "10.1.0.10"), Pod(1, "10.1.0.11"), Pod(2, "10.1.0.12")]);
        var after = Homes([Pod(0, "10.1.0.10"), Pod(1, "10.1.0.11"), Pod(2, "10.1.0.99")]);

        Assert.Equal(before, after);
        Assert.Contains(before.Values, name => name == "akkavoice-2");
    }

    [Fact]
    public void Without_names_the_same_restart_moves_shards()
    {
        Address Ip(string ip) => new("akka.tcp", "akkavoice", ip, 4053);
        var before = Shards.Select(s => RoomDirectory.HomeOfShard(s, [Ip("10.1.0.10"), Ip("10.1.0.11"), Ip("10.1.0.12")])).ToArray();
        var after = Shards.Select(s => RoomDirectory.HomeOfShard(s, [Ip("10.1.0.10"), Ip("10.1.0.11"), Ip("10.1.0.99")])).ToArray();

        Assert.Contains(Shards.Select((_, i) => (before[i], after[i])), p => p.Item1 == Ip("10.1.0.12") && p.Item2 != Ip("10.1.0.99"));
    }

    [Fact]
    public void A_node_without_a_name_role_is_weighed_exactly_as_before_names_existed()
    {
        var nodes = Enumerable.Range(1, 5).Select(i => new Address("akka.tcp", "akkavoice", $"10.0.0.{i}", 4053)).ToArray();
        foreach (var shard in Shards)
        {
            Assert.Equal(RoomDirectory.Weight(shard, nodes[0]), RoomDirectory.Weight(shard, "10.0.0.1:4053"));
            var byName = RoomDirectory.HomeOfShard(shard, nodes, a => RoomDirectory.NameOf(a, []), a => a);
            Assert.Equal(RoomDirectory.HomeOfShard(shard, nodes), byName);
        }
    }

    [Fact]
    public void Two_nodes_given_the_same_name_by_mistake_still_get_one_agreed_home()
    {
        var a = (Address: new Address("akka.tcp", "akkavoice", "10.1.0.1", 4053), Name: "same");
        var b = (Address: new Address("akka.tcp", "akkavoice", "10.1.0.2", 4053), Name: "same");
        foreach (var shard in Shards)
        {
            Assert.Equal(a.Address, RoomDirectory.HomeOfShard(shard, [a, b], n => n.Name, n => n.Address).Address);
            Assert.Equal(a.Address, RoomDirectory.HomeOfShard(shard, [b, a], n => n.Name, n => n.Address).Address);
        }
    }
}
