using System.Text.Json;
using Akka.Actor;
using Akka.TestKit;
using AkkaVoice.Cluster;
using AkkaVoice.Cluster.Directory;
using AkkaVoice.Cluster.Rooms;
using AkkaVoice.Protocol;
using AkkaVoice.Tests.Cluster;
using Xunit;
using Xunit.Abstractions;

namespace AkkaVoice.Tests.Rooms;

/// <summary>
/// The room actor alone: membership grouped by node, the said sequence and its replay, routes and
/// rebuilds. Probes stand in for the nodes' hubs and relays; the system is not in a cluster, so the
/// room's start probe asks nobody.
/// </summary>
public sealed class RoomActorSpec(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(TestCluster.NodeSetup(), "akkavoice", output)
{
    private VoiceSettings settings = TestSettings.Voice with { Limits = TestSettings.Limits with { MembersPerRoom = 3 } };

    /// <summary>A node as the room sees it: its hub and its relay.</summary>
    private sealed record Node(TestProbe Hub, TestProbe Relay);

    private Node NewNode(string name) => new(CreateTestProbe("hub-" + name), CreateTestProbe("relay-" + name));

    private IActorRef Room(string id = "r", NodeFence? fence = null) =>
        Sys.ActorOf(RoomActor.Props(id, "0", settings, new NodeStats(), ActorRefs.Nobody, fence ?? new NodeFence(TimeSpan.FromDays(1)), ActorRefs.Nobody));

    private static JoinRoom Join(Node node, string user, long request = 1, uint member = 0, long? since = null, long lastSeq = 0) =>
        new("r", request, user, node.Hub.Ref, node.Relay.Ref, member, since, lastSeq);

    /// <summary>Joins one member through <paramref name="node"/> and reads what the room sends that node: roster change, answer, and a route when the node is new.</summary>
    private static RoomJoined JoinThrough(IActorRef room, Node node, string user, bool newNode, long request = 1)
    {
        room.Tell(Join(node, user, request), node.Hub.Ref);
        Assert.Equal(user, node.Hub.ExpectMsg<RosterChanged>().Joined.Single().User);
        var joined = node.Hub.ExpectMsg<RoomJoined>();
        if (newNode) node.Hub.ExpectMsg<RoomRoute>();
        return joined;
    }

    private static JsonElement Json(byte[] bytes) => JsonDocument.Parse(bytes).RootElement;

    [Fact]
    public void Joiners_get_distinct_members_and_each_node_hears_member_joined_once()
    {
        var room = Room();
        var a = NewNode("a");
        var b = NewNode("b");

        var alice = JoinThrough(room, a, "alice", newNode: true);
        Assert.Equal(0, alice.Seq);
        Assert.Single(alice.Members);
        Assert.Null(alice.Recovered);

        room.Tell(Join(b, "bob", request: 7), b.Hub.Ref);
        var joinedOnA = a.Hub.ExpectMsg<RosterChanged>();
        Assert.Equal("bob", joinedOnA.Joined.Single().User);
        Assert.Empty(joinedOnA.Left);
        b.Hub.ExpectMsg<RosterChanged>();
        var bob = b.Hub.ExpectMsg<RoomJoined>();
        Assert.Equal(7, bob.Request);
        Assert.NotEqual(alice.Member, bob.Member);
        Assert.Equal(new[] { alice.Member, bob.Member }.Order(), bob.Members.Select(m => m.Member).Order());
        a.Hub.ExpectMsg<RoomRoute>();
        b.Hub.ExpectMsg<RoomRoute>();
        a.Hub.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void A_room_on_a_node_that_was_frozen_past_its_downing_answers_nothing()
    {
        // Nothing has ticked this fence for longer than its limit: what a room sees on a node just woken from a freeze.
        var fence = new NodeFence(TimeSpan.FromMilliseconds(1));
        AwaitCondition(() => fence.IsClosed);
        var room = Room(fence: fence);
        var a = NewNode("a");
        room.Tell(Join(a, "alice"), a.Hub.Ref);
        a.Hub.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void Each_node_is_told_the_relays_of_the_other_nodes_with_members()
    {
        var room = Room();
        var a = NewNode("a");
        var b = NewNode("b");
        room.Tell(Join(a, "alice"), a.Hub.Ref);
        a.Hub.ExpectMsg<RosterChanged>();
        a.Hub.ExpectMsg<RoomJoined>();
        Assert.Empty(a.Hub.ExpectMsg<RoomRoute>().Relays);

        room.Tell(Join(b, "bob"), b.Hub.Ref);
        a.Hub.ExpectMsg<RosterChanged>();
        Assert.Equal([b.Relay.Ref], a.Hub.ExpectMsg<RoomRoute>().Relays);
        b.Hub.ExpectMsg<RosterChanged>();
        var bob = b.Hub.ExpectMsg<RoomJoined>();
        Assert.Equal([a.Relay.Ref], b.Hub.ExpectMsg<RoomRoute>().Relays);

        // A second member on a node changes nobody's route.
        room.Tell(Join(b, "bea", request: 2), b.Hub.Ref);
        a.Hub.ExpectMsg<RosterChanged>();
        b.Hub.ExpectMsg<RosterChanged>();
        var bea = b.Hub.ExpectMsg<RoomJoined>();
        a.Hub.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        b.Hub.ExpectNoMsg(TimeSpan.FromMilliseconds(100));

        room.Tell(new LeaveRoom("r", bea.Member));
        Assert.Equal("bea", a.Hub.ExpectMsg<RosterChanged>().Left.Single().User);
        b.Hub.ExpectMsg<RosterChanged>();
        a.Hub.ExpectNoMsg(TimeSpan.FromMilliseconds(100));

        // The last member of a node leaving takes the node out of the others' routes; that node hears of it too.
        room.Tell(new LeaveRoom("r", bob.Member));
        a.Hub.ExpectMsg<RosterChanged>();
        Assert.Empty(a.Hub.ExpectMsg<RoomRoute>().Relays);
        Assert.Equal("bob", b.Hub.ExpectMsg<RosterChanged>().Left.Single().User);
    }

    [Fact]
    public void Said_is_numbered_without_gaps_and_goes_once_to_each_node_with_the_ref_for_the_speaker_only()
    {
        var room = Room();
        var a = NewNode("a");
        var b = NewNode("b");
        var alice = JoinThrough(room, a, "alice", newNode: true);
        room.Tell(Join(b, "bob"), b.Hub.Ref);
        a.Hub.ExpectMsg<RosterChanged>();
        a.Hub.ExpectMsg<RoomRoute>();
        b.Hub.ReceiveN(3);

        for (int i = 1; i <= 3; i++) room.Tell(new Say("r", alice.Member, $"hello {i}", i == 2 ? "x" : null));
        for (int i = 1; i <= 3; i++)
        {
            var toA = a.Hub.ExpectMsg<RoomText>();
            var toB = b.Hub.ExpectMsg<RoomText>();
            Assert.Equal(i, toA.Seq);
            Assert.Equal(alice.Member, toA.Speaker);
            Assert.Equal(i, Json(toB.Json).GetProperty("seq").GetInt64());
            Assert.Equal(i == 2, toA.SpeakerJson is { } mine && Json(mine).TryGetProperty("ref", out _));
            Assert.Null(toB.SpeakerJson);
            Assert.False(Json(toB.Json).TryGetProperty("ref", out _));
        }
    }

    [Fact]
    public void Join_with_since_replays_what_was_said_after_it()
    {
        var room = Room();
        var a = NewNode("a");
        var alice = JoinThrough(room, a, "alice", newNode: true);
        for (int i = 1; i <= 3; i++) room.Tell(new Say("r", alice.Member, $"m{i}", null));
        a.Hub.ReceiveN(3);

        room.Tell(Join(a, "bob", request: 2, since: 1), a.Hub.Ref);
        a.Hub.ExpectMsg<RosterChanged>();
        var bob = a.Hub.ExpectMsg<RoomJoined>();
        Assert.Equal(3, bob.Seq);
        Assert.True(bob.Recovered);
        Assert.Equal([2L, 3L], bob.Replay.Select(r => Json(r).GetProperty("seq").GetInt64()));

        room.Tell(Join(a, "carol", request: 3, since: 9), a.Hub.Ref);
        a.Hub.ExpectMsg<RosterChanged>();
        var carol = a.Hub.ExpectMsg<RoomJoined>();
        Assert.False(carol.Recovered);
        Assert.Empty(carol.Replay);
    }

    [Fact]
    public void History_is_kept_for_the_last_hundred_and_an_older_since_is_not_recovered()
    {
        // The room's say limit (burst 100) is not what this test is about.
        settings = settings with { Limits = TestSettings.Limits with { SayBurstPerRoom = 1000 } };
        var room = Room();
        var a = NewNode("a");
        var alice = JoinThrough(room, a, "alice", newNode: true);
        for (int i = 1; i <= 105; i++) room.Tell(new Say("r", alice.Member, "m", null));
        a.Hub.ReceiveN(105);

        room.Tell(Join(a, "bob", request: 2, since: 0), a.Hub.Ref);
        a.Hub.ExpectMsg<RosterChanged>();
        var bob = a.Hub.ExpectMsg<RoomJoined>();
        Assert.False(bob.Recovered);
        Assert.Equal(100, bob.Replay.Length);
        Assert.Equal(6, Json(bob.Replay[0]).GetProperty("seq").GetInt64());

        room.Tell(Join(a, "carol", request: 3, since: 5), a.Hub.Ref);
        a.Hub.ExpectMsg<RosterChanged>();
        Assert.True(a.Hub.ExpectMsg<RoomJoined>().Recovered);
    }

    [Fact]
    public void A_repeated_join_answers_the_same_member_without_telling_anyone()
    {
        var room = Room();
        var a = NewNode("a");
        var alice = JoinThrough(room, a, "alice", newNode: true);

        room.Tell(Join(a, "alice", request: 2, member: alice.Member), a.Hub.Ref);
        var again = a.Hub.ExpectMsg<RoomJoined>();
        Assert.Equal(alice.Member, again.Member);
        Assert.Equal(2, again.Request);
        a.Hub.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void A_full_room_refuses_with_room_full()
    {
        var room = Room();
        var a = NewNode("a");
        for (int i = 0; i < 3; i++)
        {
            room.Tell(Join(a, $"u{i}", request: i), a.Hub.Ref);
            a.Hub.FishForMessage(m => m is RoomJoined);
        }
        a.Hub.ReceiveWhile(TimeSpan.FromMilliseconds(100), m => m);
        room.Tell(Join(a, "late", request: 5), a.Hub.Ref);
        var refused = a.Hub.ExpectMsg<JoinRefused>();
        Assert.Equal(ErrorCodes.RoomFull, refused.Code);
        Assert.Equal(5, refused.Request);
    }

    [Fact]
    public void Via_room_a_frame_goes_once_to_each_other_node_with_members()
    {
        settings = settings with { Routing = Routing.ViaRoom };
        var room = Room();
        var a = NewNode("a");
        var b = NewNode("b");
        var a1 = JoinThrough(room, a, "a1", newNode: true);
        room.Tell(Join(a, "a2", request: 2), a.Hub.Ref);
        room.Tell(Join(b, "b1"), b.Hub.Ref);
        var b1 = b.Hub.FishForMessage<RoomJoined>(_ => true);

        // The speaker's node delivered to its own members already: the frame goes to the other node only.
        room.Tell(new VoiceIn("r", a1.Member, [1]));
        Assert.Equal(a1.Member, b.Relay.ExpectMsg<VoiceOut>().Speaker);
        a.Relay.ExpectNoMsg(TimeSpan.FromMilliseconds(100));

        room.Tell(new VoiceIn("r", b1.Member, [2]));
        Assert.Equal(b1.Member, a.Relay.ExpectMsg<VoiceOut>().Speaker);
        b.Relay.ExpectNoMsg(TimeSpan.FromMilliseconds(100));

        room.Tell(new VoiceIn("r", 12345, [3]));
        a.Relay.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void A_node_whose_hub_dies_takes_all_its_members_out_in_one_message()
    {
        var room = Room();
        var a = NewNode("a");
        var b = NewNode("b");
        JoinThrough(room, a, "alice", newNode: true);
        room.Tell(Join(b, "bob"), b.Hub.Ref);
        room.Tell(Join(b, "bea", request: 2), b.Hub.Ref);
        a.Hub.ReceiveN(3); // bob's roster change and the route with node b, then bea's roster change
        b.Hub.ReceiveWhile(TimeSpan.FromMilliseconds(200), m => m);

        Sys.Stop(b.Hub.Ref);
        var left = a.Hub.FishForMessage<RosterChanged>(_ => true);
        Assert.Equal(["bea", "bob"], left.Left.Select(m => m.User).Order());
        Assert.Empty(a.Hub.ExpectMsg<RoomRoute>().Relays);
    }

    [Fact]
    public void A_rebuilt_room_continues_the_sequence_and_announces_members_that_never_came_back()
    {
        var room = Room();
        var a = NewNode("a");
        room.Tell(new RejoinRoom("r", a.Hub.Ref, a.Relay.Ref, [new MemberInfo(42, "alice")], 10, [new MemberInfo(7, "ghost")]), a.Hub.Ref);
        Assert.Equal(42u, a.Hub.ExpectMsg<RosterChanged>().Joined.Single().Member);
        var rejoined = a.Hub.ExpectMsg<RoomRejoined>();
        Assert.Equal(10, rejoined.Seq);
        Assert.Empty(rejoined.Renamed);
        a.Hub.ExpectMsg<RoomVoice>();
        a.Hub.ExpectMsg<RoomRoute>();

        var gone = a.Hub.ExpectMsg<RosterChanged>(TimeSpan.FromSeconds(10));
        Assert.Equal(7u, gone.Left.Single().Member);

        room.Tell(new Say("r", 42, "still here", null));
        Assert.Equal(11, a.Hub.ExpectMsg<RoomText>().Seq);
    }

    [Fact]
    public void A_join_during_a_rebuild_learns_of_every_member_that_rejoins_after_it()
    {
        var room = Room();
        var fresh = NewNode("fresh");
        var old = NewNode("old");
        var carol = JoinThrough(room, fresh, "carol", newNode: true);
        Assert.Single(carol.Members);

        room.Tell(new RejoinRoom("r", old.Hub.Ref, old.Relay.Ref, [new MemberInfo(42, "alice"), new MemberInfo(43, "bob")], 5, []), old.Hub.Ref);
        var told = fresh.Hub.ExpectMsg<RosterChanged>();
        Assert.Equal(["alice", "bob"], told.Joined.Select(m => m.User).Order());
        Assert.Equal(3, old.Hub.FishForMessage<RoomRejoined>(_ => true).Members.Length);
    }

    [Fact]
    public void A_rejoin_whose_member_id_was_taken_meanwhile_gets_a_new_one()
    {
        var room = Room();
        var a = NewNode("a");
        var b = NewNode("b");
        var alice = JoinThrough(room, a, "alice", newNode: true);

        room.Tell(new RejoinRoom("r", b.Hub.Ref, b.Relay.Ref, [new MemberInfo(alice.Member, "bob")], 0, []), b.Hub.Ref);
        var rejoined = b.Hub.FishForMessage<RoomRejoined>(_ => true);
        var (oldId, newId) = rejoined.Renamed.Single();
        Assert.Equal(alice.Member, oldId);
        Assert.NotEqual(alice.Member, newId);
        Assert.Contains(rejoined.Members, m => m.Member == newId && m.User == "bob");
    }

    [Fact]
    public void A_room_that_throws_stops_so_its_members_join_a_fresh_one()
    {
        var room = Room();
        var a = NewNode("a");
        JoinThrough(room, a, "alice", newNode: true);
        Watch(room);

        // A join without a hub is a bug somewhere: the room fails on it.
        room.Tell(new JoinRoom("r", 2, "mallory", null!, a.Relay.Ref, 0, null, 0));
        ExpectTerminated(room);
    }

    [Fact]
    public void A_room_handing_off_answers_what_its_hubs_sent_before_they_knew_and_stops_once_each_has_answered()
    {
        var room = Room();
        var a = NewNode("a");
        var b = NewNode("b");
        var alice = JoinThrough(room, a, "alice", newNode: true);
        room.Tell(Join(b, "bob"), b.Hub.Ref);
        a.Hub.ReceiveN(2);
        b.Hub.ReceiveN(3);
        Watch(room);

        room.Tell(HandOffRoom.Instance);
        Assert.Equal("r", a.Hub.ExpectMsg<RoomMoving>().Room);
        b.Hub.ExpectMsg<RoomMoving>();
        // A say that hub a sent before it saw the move is still the room's to answer.
        room.Tell(new Say("r", alice.Member, "just in time", "late"), a.Hub.Ref);
        room.Tell(new RoomMovingSeen("r"), a.Hub.Ref);
        Assert.NotNull(a.Hub.ExpectMsg<RoomText>().SpeakerJson);
        b.Hub.ExpectMsg<RoomText>();
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        room.Tell(new RoomMovingSeen("r"), b.Hub.Ref);
        ExpectTerminated(room);
    }

    [Fact]
    public void A_room_handing_off_stops_when_a_hub_never_answers()
    {
        var room = Room();
        var a = NewNode("a");
        JoinThrough(room, a, "alice", newNode: true);
        Watch(room);

        room.Tell(HandOffRoom.Instance);
        a.Hub.ExpectMsg<RoomMoving>();
        ExpectTerminated(room, RoomActor.MoveWait + TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void A_copy_of_a_join_that_arrives_after_its_member_left_brings_nobody_back()
    {
        var room = Room();
        var a = NewNode("a");
        var b = NewNode("b");
        JoinThrough(room, b, "bob", newNode: true);
        var alice = JoinThrough(room, a, "alice", newNode: true, request: 5);
        b.Hub.ReceiveN(2);
        room.Tell(new LeaveRoom("r", alice.Member, "left"), a.Hub.Ref);
        Assert.Single(b.Hub.FishForMessage<RosterChanged>(c => c.Left.Length > 0).Left);
        a.Hub.FishForMessage<RosterChanged>(c => c.Left.Length > 0);

        // The join's other copy (through the other path), late.
        room.Tell(Join(a, "alice", request: 5), a.Hub.Ref);
        Assert.DoesNotContain(a.Hub.ReceiveWhile(TimeSpan.FromMilliseconds(300), m => m), m => m is RoomJoined);
        Assert.DoesNotContain(b.Hub.ReceiveWhile(TimeSpan.FromMilliseconds(300), m => m), m => m is RosterChanged { Joined.Length: > 0 });
    }

    [Fact]
    public void A_join_the_hub_sent_again_gets_the_same_membership()
    {
        var room = Room();
        var a = NewNode("a");
        var first = JoinThrough(room, a, "alice", newNode: true, request: 5);
        room.Tell(Join(a, "alice", request: 5), a.Hub.Ref);
        var again = a.Hub.ExpectMsg<RoomJoined>();
        Assert.Equal(first.Member, again.Member);
        Assert.Single(again.Members);
        a.Hub.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }
}
