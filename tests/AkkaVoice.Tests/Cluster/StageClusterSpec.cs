using Akka.Actor;
using AkkaVoice.Cluster.Rooms;
using Xunit;
using Xunit.Abstractions;

namespace AkkaVoice.Tests.Cluster;

/// <summary>
/// Room control across real nodes: a seat raced for from two nodes, a kick of a user connected to two nodes, and a
/// stage's configuration (kind, hosts, bans, mutes, locks) and its speakers' seats after the room moved on a
/// graceful leave and after its home node crashed. Connections are in development mode: the creator is the host.
/// </summary>
public sealed class StageClusterSpec(ITestOutputHelper output) : ClusterSpec(output, 3)
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(500);

    private static string Stage(string room, int seats, string mode) =>
        $$$"""{"type":"join","room":"{{{room}}}","stage":{"seats":{{{seats}}},"seatMode":"{{{mode}}}"}}""";

    /// <summary>The next text of <paramref name="type"/> carrying <paramref name="reference"/>, or an error that does.</summary>
    private static async Task<ReceivedText> AnswerAsync(TestConnection c, string reference)
    {
        while (true)
        {
            var t = await c.ExpectAsyncAny(["seats", "error", "done", "roster", "room-closed"], TimeSpan.FromSeconds(10));
            if (t.Str("ref") == reference) return t;
        }
    }

    [Fact]
    public async Task Two_members_on_two_nodes_racing_for_one_seat_get_it_once()
    {
        var room = RoomHomedOn(2, "race");
        await using var host = Cluster.Connect(0, "host");
        host.Send(Stage(room, 2, "free"));
        await host.ExpectAsync("joined");
        await using var a = Cluster.Connect(0, "ann");
        await using var b = Cluster.Connect(1, "ben");
        await a.JoinAsync(room);
        await b.JoinAsync(room);

        a.Send($$"""{"type":"take-seat","room":"{{room}}","seat":1,"ref":"a"}""");
        b.Send($$"""{"type":"take-seat","room":"{{room}}","seat":1,"ref":"b"}""");
        var answers = new[] { await AnswerAsync(a, "a"), await AnswerAsync(b, "b") };
        Assert.Single(answers, t => t.Type == "seats");
        Assert.Equal("seat-taken", Assert.Single(answers, t => t.Type == "error").Str("code"));
        var state = await Cluster[1].Rooms.Ask<RoomState>(new GetRoomState(room), TimeSpan.FromSeconds(5));
        Assert.Equal(1, state.Speakers);
        Assert.Equal(answers[0].Type == "seats" ? "ann" : "ben", state.Seats[1].User);
    }

    [Fact]
    public async Task A_kick_ends_every_membership_of_a_user_connected_to_two_nodes()
    {
        var room = RoomHomedOn(0, "kick");
        await using var host = Cluster.Connect(2, "host");
        await host.JoinAsync(room);
        await using var bob1 = Cluster.Connect(1, "bob");
        await using var bob2 = Cluster.Connect(2, "bob");
        await bob1.JoinAsync(room);
        await bob2.JoinAsync(room);

        host.Send($$"""{"type":"kick","room":"{{room}}","user":"bob","ban":60,"ref":"k"}""");
        Assert.Equal("done", (await AnswerAsync(host, "k")).Type);
        Assert.Equal("host", (await bob1.ExpectAsync("kicked")).Str("by"));
        await bob2.ExpectAsync("kicked");
        await AwaitAssertAsync(() => Assert.Equal(2, host.Texts.Count(t => t.Type == "member-left" && t.Str("reason") == "kicked")),
            TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(100));
        var state = await Cluster[1].Rooms.Ask<RoomState>(new GetRoomState(room), TimeSpan.FromSeconds(5));
        Assert.Equal(1, state.Members);

        // No more of the room on either node, and the ban holds wherever bob joins.
        bob1.Send($$"""{"type":"say","room":"{{room}}","text":"hi","ref":"s"}""");
        Assert.Equal("not-joined", (await AnswerAsync(bob1, "s")).Str("code"));
        bob2.Send($$"""{"type":"join","room":"{{room}}","ref":"j"}""");
        Assert.Equal("banned", (await AnswerAsync(bob2, "j")).Str("code"));
    }

    [Fact]
    public async Task A_stage_keeps_its_configuration_and_speakers_keep_their_seats_after_a_graceful_handoff()
    {
        var room = RoomHomedOn(2, "handoff");
        var (host, speaker, carol) = await ConfiguredStageAsync(room);
        await using var _h = host;
        await using var _s = speaker;
        await using var _c = carol;

        var before = await OnItsHomeAsync(room, 2);
        await Cluster.LeaveAsync(2);
        await AssertKeptAsync(room, host, speaker, before);
    }

    [Fact]
    public async Task A_stage_keeps_its_configuration_and_speakers_keep_their_seats_after_its_home_crashed()
    {
        var room = RoomHomedOn(2, "crash");
        var (host, speaker, carol) = await ConfiguredStageAsync(room);
        await using var _h = host;
        await using var _s = speaker;
        await using var _c = carol;

        var before = await OnItsHomeAsync(room, 2);
        await Cluster.CrashAsync(2);
        await AssertKeptAsync(room, host, speaker, before);
    }

    /// <summary>
    /// A request-mode stage homed on node 2 with its members on nodes 0 and 1: the host (node 0) seats "sam" (node 1)
    /// on seat 2, locks seat 3, mutes carol (node 1) and bans bob.
    /// </summary>
    private async Task<(TestConnection Host, TestConnection Speaker, TestConnection Carol)> ConfiguredStageAsync(string room)
    {
        var host = Cluster.Connect(0, "host");
        host.Send(Stage(room, 4, "request"));
        Assert.Equal("host", (await host.ExpectAsync("joined")).Str("role"));
        var speaker = Cluster.Connect(1, "sam");
        var sam = await speaker.JoinAsync(room);
        var carol = Cluster.Connect(1, "carol");
        var c = await carol.JoinAsync(room);
        await using var bob = Cluster.Connect(0, "bob");
        await bob.JoinAsync(room);

        host.Send($$"""{"type":"set-seat","room":"{{room}}","seat":2,"member":{{sam.Num("member")}},"ref":"s"}""");
        Assert.Equal("seats", (await AnswerAsync(host, "s")).Type);
        host.Send($$"""{"type":"set-seat","room":"{{room}}","seat":3,"locked":true,"ref":"l"}""");
        Assert.Equal("seats", (await AnswerAsync(host, "l")).Type);
        host.Send($$"""{"type":"mute","room":"{{room}}","member":{{c.Num("member")}},"muted":true,"ref":"m"}""");
        Assert.Equal("done", (await AnswerAsync(host, "m")).Type);
        host.Send($$"""{"type":"kick","room":"{{room}}","user":"bob","ban":3600,"ref":"k"}""");
        Assert.Equal("done", (await AnswerAsync(host, "k")).Type);

        // The speaker is heard from node 1 on node 0; carol, muted, is not.
        speaker.SendFrame((byte)sam.Num("slot"), [1]);
        Assert.Equal((uint)sam.Num("member"), (await host.NextFrameAsync()).Member);
        return (host, speaker, carol);
    }

    /// <summary>
    /// The room's state once it runs on node <paramref name="index"/>, its directory home: a shard allocated while a
    /// node's region was still registering starts elsewhere and is moved home by the allocation strategy's rebalance.
    /// </summary>
    private async Task<RoomState> OnItsHomeAsync(string room, int index)
    {
        RoomState? state = null;
        await AwaitAssertAsync(async () =>
        {
            state = await Cluster[0].Rooms.Ask<RoomState>(new GetRoomState(room), TimeSpan.FromSeconds(3));
            Assert.Equal(Cluster[index].SelfAddress.ToString(), state.Home);
            Assert.Equal(3, state.Members);
            Assert.Equal("sam", state.Seats[2].User);
        }, TimeSpan.FromSeconds(45), TimeSpan.FromMilliseconds(500));
        return state!;
    }

    private async Task AssertKeptAsync(string room, TestConnection host, TestConnection speaker, RoomState before)
    {
        RoomState? after = null;
        await AwaitAssertAsync(async () =>
        {
            after = await Cluster[0].Rooms.Ask<RoomState>(new GetRoomState(room), TimeSpan.FromSeconds(3));
            Assert.NotEqual(before.Home, after.Home);
            Assert.Equal(3, after.Members);
            Assert.Equal("sam", after.Seats[2].User);
        }, TimeSpan.FromSeconds(45), TimeSpan.FromMilliseconds(500));
        Assert.Equal(("stage", "request", 4), (after!.Kind, after.SeatMode, after.Seats.Length));
        Assert.Equal(["host"], after.Hosts);
        Assert.True(after.Seats[3].Locked);
        Assert.True(after.SeatsVersion >= before.SeatsVersion);

        // The ban and the mute hold at the new home.
        await using var bob = Cluster.Connect(1, "bob");
        bob.Send($$"""{"type":"join","room":"{{room}}","ref":"j"}""");
        Assert.Equal("banned", (await AnswerAsync(bob, "j")).Str("code"));
        var page = await Cluster[1].Rooms.Ask<MemberPage>(new ListMembers(room, 0, 100), TimeSpan.FromSeconds(5));
        Assert.True(Assert.Single(page.Members, m => m.User == "carol").Muted);
        Assert.Equal("host", Assert.Single(page.Members, m => m.User == "host").Role);

        // The speaker kept its seat and is still heard; its membership is the same.
        var joined = speaker.Texts.First(t => t.Type == "joined");
        await AwaitAssertAsync(async () =>
        {
            speaker.SendFrame((byte)joined.Num("slot"), [2]);
            var frame = await host.NextFrameAsync(TimeSpan.FromSeconds(1));
            Assert.Equal((uint)joined.Num("member"), frame.Member);
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));
    }
}
