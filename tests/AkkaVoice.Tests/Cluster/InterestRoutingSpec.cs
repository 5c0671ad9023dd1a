using Xunit;
using Xunit.Abstractions;

namespace AkkaVoice.Tests.Cluster;

public sealed class InterestRoutingSpec(ITestOutputHelper output) : ClusterSpec(output, 3)
{
    [Fact]
    public async Task Frames_reach_members_on_other_nodes_in_order()
    {
        await using var alice = Cluster.Connect(0, "alice");
        await using var bob = Cluster.Connect(1, "bob");
        await using var carol = Cluster.Connect(2, "carol");
        var a = await alice.JoinAsync("lobby");
        await bob.JoinAsync("lobby");
        await carol.JoinAsync("lobby");
        // The room tells alice's node of the other nodes' relays right after their joins (docs/architecture.md).
        await AwaitAssertAsync(() => Assert.Equal(2, Cluster[0].LocalRooms.Find("lobby")!.Relays.Length), TimeSpan.FromSeconds(5));

        for (byte i = 0; i < 20; i++) alice.SendFrame((byte)a.Num("slot"), [i]);

        foreach (var listener in new[] { bob, carol })
        {
            for (byte i = 0; i < 20; i++)
            {
                var frame = await listener.NextFrameAsync();
                Assert.Equal((uint)a.Num("member"), frame.Member);
                Assert.Equal(new[] { i }, frame.Payload);
            }
        }
    }

    [Fact]
    public async Task A_node_without_members_receives_no_frames()
    {
        var room = RoomHomedOn(0);
        await using var alice = Cluster.Connect(0, "alice");
        await using var bob = Cluster.Connect(1, "bob");
        var a = await alice.JoinAsync(room);
        await bob.JoinAsync(room);
        await AwaitAssertAsync(() => Assert.Single(Cluster[0].LocalRooms.Find(room)!.Relays), TimeSpan.FromSeconds(5));

        for (int i = 0; i < 50; i++) alice.SendFrame((byte)a.Num("slot"), [1]);
        await AwaitAssertAsync(() => Assert.Equal(50, bob.FramesReceived), TimeSpan.FromSeconds(10));

        Assert.Equal(0, Cluster[2].Stats.RelayFramesReceived.Value);
        // The room is on node 0 with the speaker: one node message per frame, to node 1 only.
        Assert.Equal(50, Cluster[0].Stats.NodeMessagesSent.Value);
        Assert.Equal(0, Cluster[2].Stats.NodeMessagesSent.Value);
    }

    [Fact]
    public async Task A_room_whose_members_are_all_on_its_home_node_sends_no_node_messages()
    {
        var room = RoomHomedOn(1);
        await using var alice = Cluster.Connect(1, "alice");
        await using var bob = Cluster.Connect(1, "bob");
        var a = await alice.JoinAsync(room);
        await bob.JoinAsync(room);

        for (int i = 0; i < 30; i++) alice.SendFrame((byte)a.Num("slot"), [2]);
        await AwaitAssertAsync(() => Assert.Equal(30, bob.FramesReceived), TimeSpan.FromSeconds(10));

        Assert.All(Cluster.Nodes, n => Assert.Equal(0, n.Stats.NodeMessagesSent.Value));
    }

    [Fact]
    public async Task A_room_whose_members_all_share_a_node_away_from_its_home_sends_no_frame_across_nodes()
    {
        var room = RoomHomedOn(0);
        await using var alice = Cluster.Connect(2, "alice");
        await using var bob = Cluster.Connect(2, "bob");
        var a = await alice.JoinAsync(room);
        await bob.JoinAsync(room);

        for (int i = 0; i < 30; i++) alice.SendFrame((byte)a.Num("slot"), [3]);
        await AwaitAssertAsync(() => Assert.Equal(30, bob.FramesReceived), TimeSpan.FromSeconds(10));

        Assert.All(Cluster.Nodes, n => Assert.Equal(0, n.Stats.NodeMessagesSent.Value));
        Assert.All(Cluster.Nodes, n => Assert.Equal(0, n.Stats.RelayFramesReceived.Value));
        Assert.All(Cluster.Nodes, n => Assert.Equal(0, n.Stats.NodeBatchesSent.Value));
    }

    [Fact]
    public async Task Direct_messages_reach_every_connection_of_the_user_on_any_node()
    {
        await using var alice = Cluster.Connect(0, "alice");
        await using var bob1 = Cluster.Connect(1, "bob");
        await using var bob2 = Cluster.Connect(2, "bob");

        await AwaitAssertAsync(async () =>
        {
            alice.Send("""{"type":"direct","to":"bob","text":"hi","ref":"d1"}""");
            var answer = await alice.NextAsync();
            Assert.Equal("delivered", Assert.IsType<ReceivedText>(answer).Type);
        }, TimeSpan.FromSeconds(5));

        foreach (var bob in new[] { bob1, bob2 })
        {
            var direct = await bob.ExpectAsync("direct");
            Assert.Equal("alice", direct.Str("from"));
            Assert.Equal("hi", direct.Str("text"));
        }

        alice.Send("""{"type":"direct","to":"nobody","text":"hi","ref":"d2"}""");
        var error = await alice.ExpectAsync("error");
        Assert.Equal("user-offline", error.Str("code"));
        Assert.Equal("d2", error.Str("ref"));
    }
}

public sealed class BroadcastRoutingSpec(ITestOutputHelper output) : ClusterSpec(output, 3, "akkavoice.routing = broadcast")
{
    [Fact]
    public async Task Broadcast_routing_sends_every_frame_to_every_node()
    {
        var room = RoomHomedOn(0);
        await using var alice = Cluster.Connect(0, "alice");
        await using var bob = Cluster.Connect(1, "bob");
        var a = await alice.JoinAsync(room);
        await bob.JoinAsync(room);

        for (int i = 0; i < 50; i++) alice.SendFrame((byte)a.Num("slot"), [1]);
        await AwaitAssertAsync(() => Assert.Equal(50, bob.FramesReceived), TimeSpan.FromSeconds(10));
        await AwaitAssertAsync(() => Assert.Equal(50, Cluster[2].Stats.RelayFramesReceived.Value), TimeSpan.FromSeconds(10));
        Assert.Equal(100, Cluster[0].Stats.NodeMessagesSent.Value);
    }
}
