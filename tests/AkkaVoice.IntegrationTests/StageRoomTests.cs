using AkkaVoice.Client;
using AkkaVoice.IntegrationTests.Support;
using Xunit;

namespace AkkaVoice.IntegrationTests;

/// <summary>
/// PROTOCOL.md section 8 over real WebSockets on one node in development mode (the creator of a room is its host):
/// stage creation, seats, hands, voice on seats only, moderation, the roster, and every bad input's answer.
/// </summary>
public sealed class StageRoomTests(DefaultNode fixture) : IClassFixture<DefaultNode>
{
    private readonly TestNode node = fixture.Node;

    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(600);

    /// <summary>A stage made by a host, and listeners joined to it; each listener's joined is returned.</summary>
    private async Task<(string Room, VoiceClient Host, TextEvent HostJoined)> StageAsync(int seats = 4, string mode = "request")
    {
        var room = Names.Room("stage");
        var host = await node.ClientAsync(Names.User("host"));
        await host.SendAsync(new { type = "join", room, stage = new { seats, seatMode = mode } });
        var joined = await host.NextOfTypeAsync("joined");
        return (room, host, joined);
    }

    private async Task<(VoiceClient Client, TextEvent Joined)> ListenerAsync(string room, string hint = "listener")
    {
        var client = await node.ClientAsync(Names.User(hint));
        return (client, await client.JoinStrictAsync(room));
    }

    private static async Task<TextEvent> NextOfTypeSkippingAsync(VoiceClient client, string type)
    {
        while (true)
        {
            var t = await client.NextTextAsync(ClientExtensions.Patience);
            if (t.Type == type) return t;
        }
    }

    /// <summary>Every text up to and including the first that <paramref name="last"/> matches.</summary>
    private static async Task<List<TextEvent>> UntilAsync(VoiceClient client, Func<TextEvent, bool> last)
    {
        var texts = new List<TextEvent>();
        while (true)
        {
            var t = await client.NextTextAsync(ClientExtensions.Patience);
            texts.Add(t);
            if (last(t)) return texts;
        }
    }

    [Fact]
    public async Task Join_with_stage_creates_a_stage_whose_creator_is_its_host()
    {
        var (_, host, joined) = await StageAsync(seats: 5, mode: "free");
        await using var _h = host;
        Assert.Equal("stage", joined.Str("kind"));
        Assert.Equal("host", joined.Str("role"));
        Assert.Equal("free", joined.Str("seatMode"));
        Assert.Equal(0, joined.Num("audience"));
        Assert.Equal(0, joined.Num("seatsVersion"));
        var seats = joined.Json.GetProperty("seats").EnumerateArray().ToList();
        Assert.Equal([0, 1, 2, 3, 4], seats.Select(s => s.GetProperty("seat").GetInt32()));
        Assert.All(seats, s => Assert.False(s.TryGetProperty("user", out _)));
        Assert.Empty(joined.Json.GetProperty("hands").EnumerateArray());
        Assert.Equal("host", joined.Json.GetProperty("members")[0].GetProperty("role").GetString());
    }

    [Fact]
    public async Task Stage_on_a_room_that_exists_is_ignored()
    {
        var room = Names.Room();
        await using var a = await node.ClientAsync(Names.User("alice"));
        await using var b = await node.ClientAsync(Names.User("bob"));
        Assert.Equal("host", (await a.JoinStrictAsync(room)).Str("role"));
        await b.SendAsync(new { type = "join", room, stage = new { seats = 4, seatMode = "free" } });
        var joined = await b.NextOfTypeAsync("joined");
        Assert.Equal("open", joined.Str("kind"));
        Assert.Equal("member", joined.Str("role"));
        Assert.False(joined.Json.TryGetProperty("seats", out _));
    }

    [Theory]
    [InlineData(0, "request")]
    [InlineData(33, "request")]
    [InlineData(4, "anyone")]
    public async Task A_malformed_stage_is_a_bad_field_and_creates_nothing(int seats, string mode)
    {
        var room = Names.Room();
        await using var a = await node.ClientAsync(Names.User());
        await a.SendAsync(new { type = "join", room, stage = new { seats, seatMode = mode }, @ref = "s" });
        await a.ExpectErrorAsync("bad-field", "s");
        // The room was not made: the next joiner creates it, as an open room.
        Assert.Equal("open", (await a.JoinStrictAsync(room)).Str("kind"));
    }

    [Fact]
    public async Task A_listener_joining_tells_nobody_but_the_audience_count()
    {
        var (room, host, _) = await StageAsync();
        await using var _h = host;
        var (listener, joined) = await ListenerAsync(room);
        await using var _l = listener;
        Assert.Equal("listener", joined.Str("role"));
        Assert.False(joined.Json.TryGetProperty("hands", out _));
        var members = joined.Json.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("role").GetString()).Order().ToList();
        Assert.Equal(["host", "listener"], members);
        var audience = await host.NextOfTypeAsync("audience");
        Assert.Equal(1, audience.Num("count"));
        Assert.DoesNotContain(await host.TextsUntilPongAsync(), t => t.Type == "member-joined");
    }

    [Theory]
    [InlineData(4)]
    [InlineData(31)]
    public async Task A_seat_the_room_does_not_have_is_a_bad_field(int seat)
    {
        var (room, host, _) = await StageAsync(seats: 4, mode: "free");
        await using var _h = host;
        var (listener, _) = await ListenerAsync(room);
        await using var _l = listener;
        await listener.SendAsync(new { type = "take-seat", room, seat, @ref = "t" });
        await listener.ExpectErrorAsync("bad-field", "t");
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("32")]
    [InlineData("1.5")]
    [InlineData("\"0\"")]
    public async Task A_seat_number_that_is_no_seat_number_is_a_bad_field(string seat)
    {
        var (room, host, _) = await StageAsync(seats: 4, mode: "free");
        await using var _h = host;
        await host.SendTextAsync($$"""{"type":"take-seat","room":"{{room}}","seat":{{seat}},"ref":"t"}""");
        await host.ExpectErrorAsync("bad-field", "t");
    }

    [Fact]
    public async Task Two_listeners_racing_for_one_seat_get_it_once()
    {
        var (room, host, _) = await StageAsync(seats: 2, mode: "free");
        await using var _h = host;
        var (a, _) = await ListenerAsync(room);
        var (b, _) = await ListenerAsync(room);
        await using var _a = a;
        await using var _b = b;
        await Task.WhenAll(
            a.SendAsync(new { type = "take-seat", room, seat = 1, @ref = "a" }),
            b.SendAsync(new { type = "take-seat", room, seat = 1, @ref = "b" }));
        var answers = new List<TextEvent>();
        foreach (var (client, reference) in new[] { (a, "a"), (b, "b") })
        {
            while (true)
            {
                var t = await client.NextTextAsync(ClientExtensions.Patience);
                if (t.Str("ref") != reference) continue;
                answers.Add(t);
                break;
            }
        }
        Assert.Single(answers, t => t.Type == "seats");
        var lost = Assert.Single(answers, t => t.Type == "error");
        Assert.Equal("seat-taken", lost.Str("code"));
    }

    [Fact]
    public async Task A_listener_is_not_heard_until_a_host_seats_it_and_a_muted_speaker_is_not_heard_again()
    {
        var (room, host, hostJoined) = await StageAsync(seats: 4);
        await using var _h = host;
        var (listener, joined) = await ListenerAsync(room);
        await using var _l = listener;
        byte slot = (byte)joined.Num("slot");
        uint member = (uint)joined.Num("member");

        await listener.SendFrameAsync(slot, ClientExtensions.Numbered(1));
        await listener.ExpectErrorAsync("forbidden");
        Assert.DoesNotContain(await host.CollectAsync(Quiet), e => e is FrameEvent);

        await listener.SendAsync(new { type = "raise-hand", room, @ref = "h" });
        Assert.Equal("h", (await NextOfTypeSkippingAsync(listener, "done")).Str("ref"));
        var hand = await NextOfTypeSkippingAsync(host, "hand");
        Assert.True(hand.Json.GetProperty("raised").GetBoolean());
        Assert.Equal(member, (uint)hand.Num("member"));

        await host.SendAsync(new { type = "set-seat", room, seat = 2, member, @ref = "seat" });
        var seats = await NextOfTypeSkippingAsync(host, "seats");
        Assert.Equal("seat", seats.Str("ref"));
        Assert.Equal(member, (uint)seats.Json.GetProperty("seats")[2].GetProperty("member").GetInt64());
        Assert.Equal(1, seats.Num("version"));
        await NextOfTypeSkippingAsync(listener, "seats");

        await listener.SendFrameAsync(slot, ClientExtensions.Numbered(2));
        var frame = await host.NextFrameAsync();
        Assert.Equal(member, frame.Member);
        Assert.Equal(2, ClientExtensions.NumberOf(frame));

        await host.SendAsync(new { type = "mute", room, member, muted = true, @ref = "m" });
        Assert.Equal("m", (await NextOfTypeSkippingAsync(host, "done")).Str("ref"));
        var muted = await NextOfTypeSkippingAsync(listener, "muted");
        Assert.True(muted.Json.GetProperty("muted").GetBoolean());
        await listener.TextsUntilPongAsync();
        // At most one forbidden error a second, and the first came less than a second ago: send until it comes.
        TextEvent? error = null;
        for (int n = 3; error is null && n < 30; n++)
        {
            await listener.SendFrameAsync(slot, ClientExtensions.Numbered(n));
            error = (await listener.CollectAsync(TimeSpan.FromMilliseconds(200))).OfType<TextEvent>().FirstOrDefault(t => t.Type == "error");
        }
        Assert.Equal("forbidden", error?.Str("code"));
        Assert.DoesNotContain(await host.CollectAsync(Quiet), e => e is FrameEvent);
        _ = hostJoined;
    }

    [Fact]
    public async Task Request_mode_takes_an_invitation_and_leave_seat_from_no_seat_is_forbidden()
    {
        var (room, host, _) = await StageAsync(seats: 4);
        await using var _h = host;
        var (listener, joined) = await ListenerAsync(room);
        await using var _l = listener;
        uint member = (uint)joined.Num("member");

        await listener.SendAsync(new { type = "leave-seat", room, @ref = "l" });
        await listener.ExpectErrorAsync("forbidden", "l");
        await listener.SendAsync(new { type = "take-seat", room, @ref = "t" });
        await listener.ExpectErrorAsync("forbidden", "t");

        await host.SendAsync(new { type = "invite", room, member, seat = 3, @ref = "i" });
        Assert.Equal("i", (await NextOfTypeSkippingAsync(host, "done")).Str("ref"));
        var invited = await NextOfTypeSkippingAsync(listener, "invited");
        Assert.Equal(3, invited.Num("seat"));
        await listener.SendAsync(new { type = "take-seat", room, @ref = "t2" });
        var seats = await NextOfTypeSkippingAsync(listener, "seats");
        Assert.Equal("t2", seats.Str("ref"));
        var speaker = await NextOfTypeSkippingAsync(host, "member-joined");
        Assert.Equal("speaker", speaker.Str("role"));
        Assert.Equal(3, speaker.Num("seat"));

        await listener.SendAsync(new { type = "leave-seat", room, @ref = "l2" });
        Assert.Equal("l2", (await NextOfTypeSkippingAsync(listener, "seats")).Str("ref"));
        var left = await NextOfTypeSkippingAsync(host, "member-left");
        Assert.Equal("left-seat", left.Str("reason"));
    }

    [Fact]
    public async Task A_host_cannot_kick_a_host()
    {
        var (room, host, hostJoined) = await StageAsync();
        await using var _h = host;
        var hostUser = hostJoined.Json.GetProperty("members")[0].GetProperty("user").GetString()!;
        // The same user on a second connection is a host too.
        await using var second = await node.ClientAsync(hostUser);
        Assert.Equal("host", (await second.JoinStrictAsync(room)).Str("role"));
        await second.SendAsync(new { type = "kick", room, user = hostUser, @ref = "k" });
        await second.ExpectErrorAsync("forbidden", "k");
        await host.AssertAliveAsync();
        await host.SendAsync(new { type = "say", room, text = "still here", @ref = "s" });
        Assert.Equal("s", (await NextOfTypeSkippingAsync(host, "said")).Str("ref"));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("1000000000")]
    [InlineData("0")]
    [InlineData("86401")]
    public async Task A_ban_outside_one_second_to_a_day_is_a_bad_field(string ban)
    {
        var room = Names.Room();
        await using var host = await node.ClientAsync(Names.User("host"));
        await host.JoinStrictAsync(room);
        await host.SendTextAsync($$"""{"type":"kick","room":"{{room}}","user":"nobody","ban":{{ban}},"ref":"k"}""");
        await host.ExpectErrorAsync("bad-field", "k");
    }

    [Fact]
    public async Task A_kick_ends_the_membership_and_a_ban_refuses_the_next_join()
    {
        var room = Names.Room();
        var bobUser = Names.User("bob");
        await using var host = await node.ClientAsync(Names.User("host"));
        await using var bob = await node.ClientAsync(bobUser);
        await host.JoinStrictAsync(room);
        var joined = await bob.JoinStrictAsync(room);
        await host.NextOfTypeAsync("member-joined");
        await host.SendAsync(new { type = "kick", room, user = bobUser, ban = 60, reason = "spam", @ref = "k" });
        var texts = await UntilAsync(host, t => t.Type == "done" && t.Str("ref") == "k");
        Assert.Equal("kicked", Assert.Single(texts, t => t.Type == "member-left").Str("reason"));
        var kicked = await NextOfTypeSkippingAsync(bob, "kicked");
        Assert.Equal("spam", kicked.Str("reason"));
        await bob.SendAsync(new { type = "say", room, text = "hello?", @ref = "s" });
        await bob.ExpectErrorAsync("not-joined", "s");
        await bob.SendFrameAsync((byte)joined.Num("slot"), ClientExtensions.Numbered(1));
        await bob.ExpectErrorAsync("not-joined");
        await bob.SendAsync(new { type = "join", room, @ref = "j" });
        await bob.ExpectErrorAsync("banned", "j");
    }

    [Theory]
    [InlineData("0")]
    [InlineData("10000")]
    [InlineData("-5")]
    public async Task A_roster_limit_outside_one_to_two_hundred_is_a_bad_field(string limit)
    {
        var room = Names.Room();
        await using var a = await node.ClientAsync(Names.User());
        await a.JoinStrictAsync(room);
        await a.SendTextAsync($$"""{"type":"roster","room":"{{room}}","limit":{{limit}},"ref":"r"}""");
        await a.ExpectErrorAsync("bad-field", "r");
    }

    [Fact]
    public async Task The_roster_pages_every_member_listeners_included()
    {
        var (room, host, _) = await StageAsync();
        await using var _h = host;
        var listeners = new List<VoiceClient>();
        for (int i = 0; i < 3; i++) listeners.Add((await ListenerAsync(room)).Client);
        var seen = new List<string?>();
        long? after = null;
        do
        {
            await host.SendAsync(after is null ? new { type = "roster", room, limit = 2, @ref = "r" } : (object)new { type = "roster", room, limit = 2, after, @ref = "r" });
            var page = await NextOfTypeSkippingAsync(host, "roster");
            Assert.Equal("r", page.Str("ref"));
            seen.AddRange(page.Json.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("role").GetString()));
            after = page.Json.TryGetProperty("next", out var next) ? next.GetInt64() : null;
        }
        while (after is not null);
        Assert.Equal(["host", "listener", "listener", "listener"], seen.Order());
        foreach (var l in listeners) await l.DisposeAsync();
    }

    [Fact]
    public async Task Close_by_a_host_ends_every_membership_and_by_a_member_is_forbidden()
    {
        var room = Names.Room();
        await using var host = await node.ClientAsync(Names.User("host"));
        await using var bob = await node.ClientAsync(Names.User("bob"));
        await host.JoinStrictAsync(room);
        await bob.JoinStrictAsync(room);
        await bob.SendAsync(new { type = "close", room, @ref = "c" });
        await bob.ExpectErrorAsync("forbidden", "c");
        await host.SendAsync(new { type = "close", room, @ref = "c" });
        var closed = await NextOfTypeSkippingAsync(host, "room-closed");
        Assert.Equal(("c", "closed"), (closed.Str("ref"), closed.Str("reason")));
        Assert.Equal("closed", (await NextOfTypeSkippingAsync(bob, "room-closed")).Str("reason"));
        await bob.SendAsync(new { type = "say", room, text = "hello?", @ref = "s" });
        await bob.ExpectErrorAsync("not-joined", "s");
    }

    [Fact]
    public async Task Seat_requests_in_an_open_room_are_bad_fields_and_requests_for_rooms_not_joined_are_not_joined()
    {
        var room = Names.Room();
        await using var a = await node.ClientAsync(Names.User());
        await a.SendAsync(new { type = "take-seat", room, @ref = "x" });
        await a.ExpectErrorAsync("not-joined", "x");
        await a.JoinStrictAsync(room);
        await a.SendAsync(new { type = "take-seat", room, @ref = "t" });
        await a.ExpectErrorAsync("bad-field", "t");
        await a.SendAsync(new { type = "raise-hand", room, @ref = "h" });
        await a.ExpectErrorAsync("bad-field", "h");
    }

    [Fact]
    public async Task The_room_says_at_most_its_burst_of_a_hundred_from_all_members_together()
    {
        var room = Names.Room();
        var clients = new List<VoiceClient>();
        for (int i = 0; i < 3; i++)
        {
            var c = await node.ClientAsync(Names.User("talker"));
            await c.JoinStrictAsync(room);
            clients.Add(c);
        }
        // 40 each stays within every connection's own burst (60); 120 together exceed the room's (100).
        await Task.WhenAll(clients.Select(async (c, n) =>
        {
            for (int i = 0; i < 40; i++) await c.SendAsync(new { type = "say", room, text = "hi", @ref = $"{n}-{i}" });
        }));
        int said = 0, limited = 0;
        foreach (var (c, n) in clients.Select((c, n) => (c, n)))
        {
            var answered = new HashSet<string>();
            while (answered.Count < 40)
            {
                var t = await c.NextTextAsync(ClientExtensions.Patience);
                if (t.Str("ref") is not { } r || !r.StartsWith($"{n}-", StringComparison.Ordinal) || !answered.Add(r)) continue;
                if (t.Type == "said") said++;
                else if (t.Type == "error" && t.Str("code") == "rate-limited") limited++;
            }
        }
        Assert.Equal(120, said + limited);
        Assert.InRange(said, 100, 119);
        foreach (var c in clients) await c.DisposeAsync();
    }
}
