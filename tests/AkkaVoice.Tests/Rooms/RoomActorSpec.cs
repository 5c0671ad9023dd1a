using System.Text.Json;
using Akka.Actor;
using Akka.TestKit;
using AkkaVoice.Cluster;
using AkkaVoice.Cluster.Rooms;
using AkkaVoice.Protocol;
using AkkaVoice.Tests.Cluster;
using Xunit;
using Xunit.Abstractions;

namespace AkkaVoice.Tests.Rooms;

/// <summary>The room actor alone: membership, the said sequence and its replay, and where frames go. Probes stand in for connections and relays.</summary>
public sealed class RoomActorSpec(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(TestCluster.NodeConfig(), "akkavoice", output)
{
    private readonly VoiceSettings settings = new() { Limits = new Limits { MembersPerRoom = 3 } };

    // The relays here are local probes, so the room never uses its outbox.
    private IActorRef Room(string id = "r") => Sys.ActorOf(RoomActor.Props(id, settings, new NodeStats(), ActorRefs.Nobody));

    private static JoinRoom Join(TestProbe connection, TestProbe relay, long request = 1, uint member = 0, long? since = null, long lastSeq = 0, MemberInfo[]? peers = null) =>
        new("r", request, connection.Ref.Path.Name, connection.Ref, relay.Ref, member, since, lastSeq, peers ?? []);

    /// <summary>A room with Alice and then Bob joined through one relay, Alice's member-joined for Bob already read.</summary>
    private (IActorRef Room, TestProbe Relay, TestProbe Alice, TestProbe Bob, RoomJoined A, RoomJoined B) AliceAndBob()
    {
        var room = Room();
        var relay = CreateTestProbe();
        var alice = CreateTestProbe("alice");
        var bob = CreateTestProbe("bob");
        room.Tell(Join(alice, relay), alice.Ref);
        var a = alice.ExpectMsg<RoomJoined>();
        room.Tell(Join(bob, relay), bob.Ref);
        var b = bob.ExpectMsg<RoomJoined>();
        alice.ExpectMsg<RosterChanged>();
        return (room, relay, alice, bob, a, b);
    }

    private static JsonElement Json(byte[] bytes) => JsonDocument.Parse(bytes).RootElement;

    [Fact]
    public void Joiners_get_distinct_members_and_the_others_hear_member_joined()
    {
        var room = Room();
        var relay = CreateTestProbe();
        var alice = CreateTestProbe("alice");
        var bob = CreateTestProbe("bob");

        room.Tell(Join(alice, relay), alice.Ref);
        var a = alice.ExpectMsg<RoomJoined>();
        Assert.Equal(0, a.Seq);
        Assert.Single(a.Members);
        Assert.Null(a.Recovered);

        room.Tell(Join(bob, relay, request: 7), bob.Ref);
        var b = bob.ExpectMsg<RoomJoined>();
        Assert.Equal(7, b.Request);
        Assert.NotEqual(a.Member, b.Member);
        Assert.Equal(new[] { a.Member, b.Member }.Order(), b.Members.Select(m => m.Member).Order());

        var joined = alice.ExpectMsg<RosterChanged>();
        Assert.True(joined.Joined);
        Assert.Equal(b.Member, joined.Member);
        Assert.Equal("member-joined", Json(joined.Json).GetProperty("type").GetString());
    }

    [Fact]
    public void A_repeated_join_answers_the_same_member_without_telling_the_others()
    {
        var (room, relay, alice, bob, a, _) = AliceAndBob();

        room.Tell(Join(bob, relay, request: 2), bob.Ref);
        var again = bob.ExpectMsg<RoomJoined>();
        Assert.Equal(2, again.Members.Length);
        alice.ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        room.Tell(Join(alice, relay, request: 3, member: a.Member), alice.Ref);
        Assert.Equal(a.Member, alice.ExpectMsg<RoomJoined>().Member);
    }

    [Fact]
    public void Said_is_numbered_without_gaps_and_the_ref_goes_to_the_sender_only()
    {
        var (room, relay, alice, bob, a, _) = AliceAndBob();

        for (int i = 1; i <= 3; i++) room.Tell(new Say("r", a.Member, $"hello {i}", i == 2 ? "x" : null));
        for (int i = 1; i <= 3; i++)
        {
            var toAlice = alice.ExpectMsg<RoomText>();
            var toBob = bob.ExpectMsg<RoomText>();
            Assert.Equal(i, toAlice.Seq);
            Assert.Equal(i, Json(toBob.Json).GetProperty("seq").GetInt64());
            Assert.Equal(i == 2, Json(toAlice.Json).TryGetProperty("ref", out _));
            Assert.False(Json(toBob.Json).TryGetProperty("ref", out _));
        }
    }

    [Fact]
    public void Join_with_since_replays_what_was_said_after_it()
    {
        var room = Room();
        var relay = CreateTestProbe();
        var alice = CreateTestProbe("alice");
        room.Tell(Join(alice, relay), alice.Ref);
        var a = alice.ExpectMsg<RoomJoined>();
        for (int i = 1; i <= 3; i++) room.Tell(new Say("r", a.Member, $"m{i}", null));
        alice.ReceiveN(3);

        var bob = CreateTestProbe("bob");
        room.Tell(Join(bob, relay, since: 1), bob.Ref);
        var b = bob.ExpectMsg<RoomJoined>();
        Assert.Equal(3, b.Seq);
        Assert.True(b.Recovered);
        Assert.Equal([2L, 3L], b.Replay.Select(r => Json(r).GetProperty("seq").GetInt64()));

        var carol = CreateTestProbe("carol");
        room.Tell(Join(carol, relay, since: 9), carol.Ref);
        var c = carol.ExpectMsg<RoomJoined>();
        Assert.False(c.Recovered);
        Assert.Empty(c.Replay);
    }

    [Fact]
    public void History_is_kept_for_the_last_hundred_and_an_older_since_is_not_recovered()
    {
        var room = Room();
        var relay = CreateTestProbe();
        var alice = CreateTestProbe("alice");
        room.Tell(Join(alice, relay), alice.Ref);
        var a = alice.ExpectMsg<RoomJoined>();
        for (int i = 1; i <= 105; i++) room.Tell(new Say("r", a.Member, "m", null));
        alice.ReceiveN(105);

        var bob = CreateTestProbe("bob");
        room.Tell(Join(bob, relay, since: 0), bob.Ref);
        var b = bob.ExpectMsg<RoomJoined>();
        Assert.False(b.Recovered);
        Assert.Equal(100, b.Replay.Length);
        Assert.Equal(6, Json(b.Replay[0]).GetProperty("seq").GetInt64());

        var carol = CreateTestProbe("carol");
        room.Tell(Join(carol, relay, since: 5), carol.Ref);
        Assert.True(carol.ExpectMsg<RoomJoined>().Recovered);
    }

    [Fact]
    public void A_full_room_refuses_with_room_full()
    {
        var room = Room();
        var relay = CreateTestProbe();
        for (int i = 0; i < 3; i++)
        {
            var member = CreateTestProbe();
            room.Tell(Join(member, relay), member.Ref);
            member.ExpectMsg<RoomJoined>();
        }
        var late = CreateTestProbe();
        room.Tell(Join(late, relay, request: 5), late.Ref);
        var refused = late.ExpectMsg<JoinRefused>();
        Assert.Equal(ErrorCodes.RoomFull, refused.Code);
        Assert.Equal(5, refused.Request);
    }

    [Fact]
    public void A_frame_goes_once_to_each_relay_with_members_other_than_the_speaker()
    {
        var room = Room();
        var relayA = CreateTestProbe();
        var relayB = CreateTestProbe();
        var a1 = CreateTestProbe();
        var a2 = CreateTestProbe();
        var b1 = CreateTestProbe();
        room.Tell(Join(a1, relayA), a1.Ref);
        var m1 = a1.ExpectMsg<RoomJoined>().Member;
        room.Tell(Join(a2, relayA), a2.Ref);
        a2.ExpectMsg<RoomJoined>();
        room.Tell(Join(b1, relayB), b1.Ref);
        var mb = b1.ExpectMsg<RoomJoined>().Member;

        room.Tell(new VoiceIn("r", m1, [1]));
        Assert.Equal(m1, relayA.ExpectMsg<VoiceOut>().Speaker);
        Assert.Equal(m1, relayB.ExpectMsg<VoiceOut>().Speaker);

        // b1 is the only member behind relay B: its frames need not go back there.
        room.Tell(new VoiceIn("r", mb, [2]));
        Assert.Equal(mb, relayA.ExpectMsg<VoiceOut>().Speaker);
        relayB.ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        room.Tell(new VoiceIn("r", 12345, [3]));
        relayA.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void A_member_whose_connection_dies_leaves_with_member_left()
    {
        var room = Room();
        var relay = CreateTestProbe();
        var alice = CreateTestProbe("alice");
        var bob = CreateTestProbe("bob");
        room.Tell(Join(alice, relay), alice.Ref);
        alice.ExpectMsg<RoomJoined>();
        room.Tell(Join(bob, relay), bob.Ref);
        var b = bob.ExpectMsg<RoomJoined>();
        alice.ExpectMsg<RosterChanged>();

        Sys.Stop(bob.Ref);
        var left = alice.ExpectMsg<RosterChanged>();
        Assert.False(left.Joined);
        Assert.Equal(b.Member, left.Member);
    }

    [Fact]
    public void A_restarted_room_continues_the_sequence_and_announces_members_that_never_came_back()
    {
        var room = Room();
        var relay = CreateTestProbe();
        var alice = CreateTestProbe("alice");
        room.Tell(Join(alice, relay, request: 0, member: 42, lastSeq: 10, peers: [new MemberInfo(7, "ghost")]), alice.Ref);
        var rejoined = alice.ExpectMsg<RoomJoined>();
        Assert.Equal(42u, rejoined.Member);
        Assert.Equal(10, rejoined.Seq);

        var gone = alice.ExpectMsg<RosterChanged>(TimeSpan.FromSeconds(10));
        Assert.False(gone.Joined);
        Assert.Equal(7u, gone.Member);

        room.Tell(new Say("r", 42, "still here", null));
        Assert.Equal(11, alice.ExpectMsg<RoomText>().Seq);
    }
}
