using System.Diagnostics;
using AkkaVoice.IntegrationTests.Support;
using Xunit;

namespace AkkaVoice.IntegrationTests;

/// <summary>A node whose rooms take two members and whose keep-alive is seconds instead of a minute.</summary>
public sealed class SmallRoomsNode : NodeFixture
{
    protected override Task<TestNode> StartAsync() => TestNode.StartAsync(hocon: """
        akkavoice.limits.members-per-room = 2
        akkavoice.limits.keep-alive-interval = 1s
        akkavoice.limits.keep-alive-timeout = 3s
        """);
}

/// <summary>PROTOCOL.md section 4 with small configured limits: members per room and the keep-alive.</summary>
public sealed class RoomAndKeepAliveLimitTests(SmallRoomsNode fixture) : IClassFixture<SmallRoomsNode>
{
    private readonly TestNode node = fixture.Node;

    [Fact]
    public async Task A_member_past_members_per_room_is_refused_with_room_full()
    {
        var room = Names.Room();
        await using var a = await node.ClientAsync(Names.User());
        await using var b = await node.ClientAsync(Names.User());
        await using var c = await node.ClientAsync(Names.User());
        await a.JoinStrictAsync(room);
        await b.JoinStrictAsync(room);

        await c.SendAsync(new { type = "join", room, @ref = "third" });
        await c.ExpectErrorAsync("room-full", "third");
        await c.AssertAliveAsync();
        // The refused join told nobody anything: a heard of b only.
        var heard = await a.TextsUntilPongAsync();
        Assert.Single(heard);
        Assert.Equal("member-joined", heard[0].Type);

        // A member already in the full room may join it again.
        await b.JoinStrictAsync(room);

        await b.SendAsync(new { type = "leave", room });
        await b.NextOfTypeAsync("left");
        var joined = await c.JoinStrictAsync(room);
        Assert.Equal(2, joined.Json.GetProperty("members").GetArrayLength());
    }

    [Fact]
    public async Task A_client_that_never_answers_pings_is_closed_and_one_that_answers_stays()
    {
        var room = Names.Room();
        await using var answering = await node.ClientAsync(Names.User());
        await answering.JoinStrictAsync(room);
        var silent = Names.User("silent");
        // A bare socket nobody reads from: it never answers the server's pings.
        using var socket = await RawSocket.ConnectAsync(node.Ws("user=" + silent), ["akkavoice.v1"]);
        await socket.SendJsonAsync(new { type = "join", room });
        await answering.NextOfTypeAsync("member-joined");
        var watch = Stopwatch.StartNew();

        var left = await answering.NextTextAsync(TimeSpan.FromSeconds(15));
        Assert.Equal("member-left", left.Type);
        Assert.Equal(silent, left.Str("user"));
        // Not before the keep-alive timeout (3 s, less the second of pinging that had already passed).
        Assert.True(watch.Elapsed > TimeSpan.FromSeconds(1.5), $"closed after {watch.Elapsed}");
        // The answering client was just as idle for just as long, and is still connected.
        await answering.AssertAliveAsync();
    }
}
