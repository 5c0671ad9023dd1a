using System.Diagnostics;
using AkkaVoice.Client;
using AkkaVoice.IntegrationTests.Support;
using Xunit;

namespace AkkaVoice.IntegrationTests;

/// <summary>PROTOCOL.md section 2, the message table and its rules: join, leave, say, direct, ping.</summary>
public sealed class TextMessageTests(DefaultNode fixture) : IClassFixture<DefaultNode>
{
    private readonly TestNode node = fixture.Node;

    [Fact]
    public async Task Join_answers_joined_with_room_slot_member_seq_and_the_members_including_the_joiner()
    {
        var room = Names.Room();
        var (alice, bob) = (Names.User("alice"), Names.User("bob"));
        await using var a = await node.ClientAsync(alice);
        await using var b = await node.ClientAsync(bob);

        var aj = await a.JoinStrictAsync(room, "j1");
        Assert.Equal(room, aj.Str("room"));
        Assert.Equal("j1", aj.Str("ref"));
        Assert.InRange(aj.Num("slot"), 0, 255);
        Assert.InRange(aj.Num("member"), 0, uint.MaxValue);
        Assert.Equal(0, aj.Num("seq"));
        Assert.False(aj.Json.TryGetProperty("recovered", out _));
        var members = aj.Json.GetProperty("members").EnumerateArray().ToList();
        Assert.Single(members);
        Assert.Equal(aj.Num("member"), members[0].GetProperty("member").GetInt64());
        Assert.Equal(alice, members[0].GetProperty("user").GetString());

        var bj = await b.JoinStrictAsync(room);
        Assert.NotEqual(aj.Num("member"), bj.Num("member"));
        var both = bj.Json.GetProperty("members").EnumerateArray()
            .Select(m => (m.GetProperty("member").GetInt64(), m.GetProperty("user").GetString()))
            .OrderBy(m => m.Item2).ToList();
        Assert.Equal([(aj.Num("member"), alice), (bj.Num("member"), bob)], both);
    }

    [Fact]
    public async Task Join_tells_the_members_already_there_with_member_joined()
    {
        var room = Names.Room();
        var bob = Names.User("bob");
        await using var a = await node.ClientAsync(Names.User("alice"));
        await using var b = await node.ClientAsync(bob);
        await a.JoinStrictAsync(room);

        var bj = await b.JoinStrictAsync(room);
        var mj = await a.NextOfTypeAsync("member-joined");
        Assert.Equal(room, mj.Str("room"));
        Assert.Equal(bj.Num("member"), mj.Num("member"));
        Assert.Equal(bob, mj.Str("user"));
        // The joiner is told with joined, not with member-joined about itself.
        Assert.DoesNotContain(await b.TextsUntilPongAsync(), t => t.Type == "member-joined");
    }

    [Fact]
    public async Task Each_joined_room_gets_its_own_slot()
    {
        await using var a = await node.ClientAsync(Names.User());
        var slots = new List<long>();
        for (int i = 0; i < 3; i++) slots.Add((await a.JoinStrictAsync(Names.Room())).Num("slot"));
        Assert.Equal(3, slots.Distinct().Count());
    }

    [Fact]
    public async Task Joining_a_room_already_joined_answers_the_same_slot_and_member()
    {
        var room = Names.Room();
        await using var a = await node.ClientAsync(Names.User());
        await a.JoinStrictAsync(Names.Room());
        var first = await a.JoinStrictAsync(room);
        var again = await a.JoinStrictAsync(room, "again");
        Assert.Equal(first.Num("slot"), again.Num("slot"));
        Assert.Equal(first.Num("member"), again.Num("member"));
        Assert.Equal("again", again.Str("ref"));
        Assert.Single(again.Json.GetProperty("members").EnumerateArray());
    }

    [Fact]
    public async Task Two_joins_of_one_room_sent_at_once_answer_the_same_slot_and_member()
    {
        var room = Names.Room();
        await using var a = await node.ClientAsync(Names.User());
        await a.SendAsync(new { type = "join", room, @ref = "1" });
        await a.SendAsync(new { type = "join", room, @ref = "2" });
        var first = await a.NextOfTypeAsync("joined");
        var second = await a.NextOfTypeAsync("joined");
        Assert.Equal(first.Num("slot"), second.Num("slot"));
        Assert.Equal(first.Num("member"), second.Num("member"));
        Assert.Equal(["1", "2"], new[] { first.Str("ref"), second.Str("ref") }.Order());
    }

    [Fact]
    public async Task Leave_answers_left_and_tells_the_others_member_left()
    {
        var room = Names.Room();
        var bob = Names.User("bob");
        await using var a = await node.ClientAsync(Names.User("alice"));
        await using var b = await node.ClientAsync(bob);
        await a.JoinStrictAsync(room);
        var bj = await b.JoinStrictAsync(room);
        await a.NextOfTypeAsync("member-joined");

        await b.SendAsync(new { type = "leave", room, @ref = "bye" });
        var left = await b.NextOfTypeAsync("left");
        Assert.Equal(room, left.Str("room"));
        Assert.Equal("bye", left.Str("ref"));

        var ml = await a.NextOfTypeAsync("member-left");
        Assert.Equal(room, ml.Str("room"));
        Assert.Equal(bj.Num("member"), ml.Num("member"));
        Assert.Equal(bob, ml.Str("user"));
    }

    [Fact]
    public async Task Leaving_or_saying_in_a_room_not_joined_is_not_joined()
    {
        var room = Names.Room();
        await using var a = await node.ClientAsync(Names.User());
        await a.SendAsync(new { type = "leave", room, @ref = "l" });
        await a.ExpectErrorAsync("not-joined", "l");
        await a.SendAsync(new { type = "say", room, text = "hi", @ref = "s" });
        await a.ExpectErrorAsync("not-joined", "s");

        await a.JoinStrictAsync(room);
        await a.SendAsync(new { type = "leave", room });
        await a.NextOfTypeAsync("left");
        await a.SendAsync(new { type = "leave", room, @ref = "l2" });
        await a.ExpectErrorAsync("not-joined", "l2");
        await a.SendAsync(new { type = "say", room, text = "hi", @ref = "s2" });
        await a.ExpectErrorAsync("not-joined", "s2");
    }

    [Fact]
    public async Task Said_goes_to_every_member_in_seq_order_from_1_without_gaps_and_the_ref_only_to_the_sender()
    {
        var room = Names.Room();
        var (alice, bob) = (Names.User("alice"), Names.User("bob"));
        await using var a = await node.ClientAsync(alice);
        await using var b = await node.ClientAsync(bob);
        var aj = await a.JoinStrictAsync(room);
        var bj = await b.JoinStrictAsync(room);
        await a.NextOfTypeAsync("member-joined");

        // Both speak at once, so the room has to order concurrent says.
        var sends = new List<Task>();
        for (int i = 0; i < 10; i++)
        {
            sends.Add(a.SendAsync(new { type = "say", room, text = $"a{i}", @ref = $"ra{i}" }));
            sends.Add(b.SendAsync(new { type = "say", room, text = $"b{i}", @ref = $"rb{i}" }));
        }
        await Task.WhenAll(sends);

        var seenByA = new List<TextEvent>();
        var seenByB = new List<TextEvent>();
        for (int i = 0; i < 20; i++)
        {
            seenByA.Add(await a.NextOfTypeAsync("said"));
            seenByB.Add(await b.NextOfTypeAsync("said"));
        }

        Assert.Equal(Enumerable.Range(1, 20).Select(n => (long)n), seenByA.Select(s => s.Num("seq")));
        Assert.Equal(Enumerable.Range(1, 20).Select(n => (long)n), seenByB.Select(s => s.Num("seq")));
        Assert.Equal(seenByA.Select(s => s.Str("text")), seenByB.Select(s => s.Str("text")));
        foreach (var (said, self, selfMember, selfUser) in seenByA.Select(s => (s, a, aj, alice)).Concat(seenByB.Select(s => (s, b, bj, bob))))
        {
            Assert.Equal(room, said.Str("room"));
            var fromAlice = said.Str("text")!.StartsWith('a');
            Assert.Equal(fromAlice ? alice : bob, said.Str("user"));
            Assert.Equal(fromAlice ? aj.Num("member") : bj.Num("member"), said.Num("member"));
            var mine = said.Str("user") == selfUser;
            Assert.Equal(mine ? "r" + said.Str("text") : null, said.Str("ref"));
        }
        // Each speaker's own says keep their order.
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"a{i}"), seenByA.Select(s => s.Str("text")).Where(t => t!.StartsWith('a')));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"b{i}"), seenByA.Select(s => s.Str("text")).Where(t => t!.StartsWith('b')));
    }

    [Fact]
    public async Task Said_text_arrives_exactly_as_it_was_sent()
    {
        var room = Names.Room();
        await using var a = await node.ClientAsync(Names.User());
        await using var b = await node.ClientAsync(Names.User());
        await a.JoinStrictAsync(room);
        await b.JoinStrictAsync(room);
        const string text = "h\u00e9llo \"quoted\" \\ back\nslash \t tab \U0001F389 </script> \u2028 end";
        await a.SendAsync(new { type = "say", room, text });
        Assert.Equal(text, (await b.ExpectAsync("said")).Str("text"));
        Assert.Equal(text, (await a.ExpectAsync("said")).Str("text"));
    }

    [Fact]
    public async Task Joined_carries_the_rooms_latest_said_seq()
    {
        var room = Names.Room();
        await using var a = await node.ClientAsync(Names.User());
        await a.JoinStrictAsync(room);
        for (int i = 1; i <= 3; i++)
        {
            await a.SendAsync(new { type = "say", room, text = "x" });
            Assert.Equal(i, (await a.NextOfTypeAsync("said")).Num("seq"));
        }
        await using var b = await node.ClientAsync(Names.User());
        Assert.Equal(3, (await b.JoinStrictAsync(room)).Num("seq"));
    }

    [Theory]
    [InlineData("x", 4096)]
    [InlineData("\U0001F3B5", 2048)]
    public async Task Say_text_of_4096_utf16_code_units_is_said_and_4097_is_bad_field(string unit, int repeat)
    {
        var room = Names.Room();
        await using var a = await node.ClientAsync(Names.User());
        await a.JoinStrictAsync(room);
        var atLimit = string.Concat(Enumerable.Repeat(unit, repeat));
        Assert.Equal(4096, atLimit.Length);

        // Sent as raw UTF-8 (a serializer would escape each non-ASCII character as \uXXXX and pass 16 KiB).
        await a.SendTextAsync($$"""{"type":"say","room":"{{room}}","text":"{{atLimit}}","ref":"ok"}""");
        var said = await a.NextOfTypeAsync("said");
        Assert.Equal(atLimit, said.Str("text"));

        await a.SendTextAsync($$"""{"type":"say","room":"{{room}}","text":"{{atLimit}}y","ref":"long"}""");
        await a.ExpectErrorAsync("bad-field", "long");
        await a.AssertAliveAsync();
    }

    [Fact]
    public async Task Join_with_since_replays_the_said_after_it_right_after_joined_and_recovers()
    {
        var room = Names.Room();
        await using var a = await node.ClientAsync(Names.User());
        await a.JoinStrictAsync(room);
        await SayAsync(a, room, 5);

        await using var b = await node.ClientAsync(Names.User());
        await b.SendAsync(new { type = "join", room, since = 2, @ref = "s" });
        var joined = await b.NextOfTypeAsync("joined");
        Assert.Equal(5, joined.Num("seq"));
        Assert.True(joined.Json.GetProperty("recovered").GetBoolean());
        Assert.Equal("s", joined.Str("ref"));
        for (int seq = 3; seq <= 5; seq++)
        {
            var said = await b.NextOfTypeAsync("said");
            Assert.Equal(seq, said.Num("seq"));
            Assert.Equal($"m{seq}", said.Str("text"));
            Assert.Null(said.Str("ref"));
        }
        Assert.DoesNotContain(await b.TextsUntilPongAsync(), t => t.Type == "said");

        // The next said continues the sequence for everyone.
        await a.SendAsync(new { type = "say", room, text = "m6" });
        Assert.Equal(6, (await b.ExpectAsync("said")).Num("seq"));
    }

    [Theory]
    [InlineData(0, 3)]
    [InlineData(3, 0)]
    public async Task Join_with_since_replays_exactly_the_missing_said(int since, int expected)
    {
        var room = Names.Room();
        await using var a = await node.ClientAsync(Names.User());
        await a.JoinStrictAsync(room);
        await SayAsync(a, room, 3);

        await using var b = await node.ClientAsync(Names.User());
        await b.SendAsync(new { type = "join", room, since });
        var joined = await b.NextOfTypeAsync("joined");
        Assert.True(joined.Json.GetProperty("recovered").GetBoolean());
        var replayed = (await b.TextsUntilPongAsync()).Where(t => t.Type == "said").Select(t => t.Num("seq")).ToList();
        Assert.Equal(Enumerable.Range(since + 1, expected).Select(n => (long)n), replayed);
    }

    [Fact]
    public async Task A_room_keeps_its_seq_and_history_after_its_last_member_leaves()
    {
        var room = Names.Room();
        await using (var a = await node.ClientAsync(Names.User()))
        {
            await a.JoinStrictAsync(room);
            await SayAsync(a, room, 2);
            await a.SendAsync(new { type = "leave", room });
            await a.NextOfTypeAsync("left");
        }

        await using var b = await node.ClientAsync(Names.User());
        await b.SendAsync(new { type = "join", room, since = 0 });
        var joined = await b.NextOfTypeAsync("joined");
        Assert.Equal(2, joined.Num("seq"));
        Assert.True(joined.Json.GetProperty("recovered").GetBoolean());
        Assert.Equal("m1", (await b.NextOfTypeAsync("said")).Str("text"));
        Assert.Equal("m2", (await b.NextOfTypeAsync("said")).Str("text"));
    }

    [Fact]
    public async Task A_room_keeps_at_least_the_last_100_said_and_since_before_them_is_not_recovered()
    {
        var room = Names.Room();
        await using var a = await node.ClientAsync(Names.User());
        await a.JoinStrictAsync(room);
        await SayAsync(a, room, 105);

        await using var b = await node.ClientAsync(Names.User());
        await b.SendAsync(new { type = "join", room, since = 5 });
        var kept = await b.NextOfTypeAsync("joined");
        Assert.True(kept.Json.GetProperty("recovered").GetBoolean());
        var replay = (await b.TextsUntilPongAsync()).Where(t => t.Type == "said").Select(t => t.Num("seq")).ToList();
        Assert.Equal(Enumerable.Range(6, 100).Select(n => (long)n), replay);

        await using var c = await node.ClientAsync(Names.User());
        await c.SendAsync(new { type = "join", room, since = 0 });
        var trimmed = await c.NextOfTypeAsync("joined");
        Assert.Equal(105, trimmed.Num("seq"));
        Assert.False(trimmed.Json.GetProperty("recovered").GetBoolean());
        var partial = (await c.TextsUntilPongAsync()).Where(t => t.Type == "said").Select(t => t.Num("seq")).ToList();
        // Whatever is replayed is in order, ends at the latest seq, and covers at least the last 100.
        Assert.True(partial.Count >= 100, $"{partial.Count} replayed");
        Assert.Equal(Enumerable.Range((int)partial[0], partial.Count).Select(n => (long)n), partial);
        Assert.Equal(105, partial[^1]);
    }

    [Fact]
    public async Task Direct_reaches_every_connection_of_the_user_and_the_sender_gets_delivered()
    {
        var (alice, bob) = (Names.User("alice"), Names.User("bob"));
        await using var a = await node.ClientAsync(alice);
        await using var b1 = await node.ClientAsync(bob);
        await using var b2 = await node.ClientAsync(bob);
        // A connection that has answered a ping has registered with the user directory.
        await b1.AssertAliveAsync();
        await b2.AssertAliveAsync();

        await a.SendAsync(new { type = "direct", to = bob, text = "psst \U0001F92B", @ref = "d" });
        var delivered = await a.NextOfTypeAsync("delivered");
        Assert.Equal(bob, delivered.Str("to"));
        Assert.Equal("d", delivered.Str("ref"));
        foreach (var b in new[] { b1, b2 })
        {
            var direct = await b.NextOfTypeAsync("direct");
            Assert.Equal(alice, direct.Str("from"));
            Assert.Equal("psst \U0001F92B", direct.Str("text"));
            Assert.Null(direct.Str("ref"));
        }
    }

    [Fact]
    public async Task Direct_to_a_user_without_connections_is_user_offline()
    {
        await using var a = await node.ClientAsync(Names.User());
        await a.SendAsync(new { type = "direct", to = Names.User("nobody"), text = "hello?", @ref = "d" });
        await a.ExpectErrorAsync("user-offline", "d");
        await a.AssertAliveAsync();
    }

    [Fact]
    public async Task Direct_text_has_the_same_4096_limit_as_say()
    {
        var bob = Names.User("bob");
        await using var a = await node.ClientAsync(Names.User());
        await using var b = await node.ClientAsync(bob);
        await WaitReachableAsync(a, bob);
        await a.SendAsync(new { type = "direct", to = bob, text = new string('z', 4096), @ref = "ok" });
        Assert.Equal("ok", (await a.NextOfTypeAsync("delivered")).Str("ref"));
        await a.SendAsync(new { type = "direct", to = bob, text = new string('z', 4097), @ref = "long" });
        await a.ExpectErrorAsync("bad-field", "long");
    }

    [Fact]
    public async Task A_user_is_reachable_by_direct_within_1_second_of_its_welcome()
    {
        var bob = Names.User("bob");
        await using var a = await node.ClientAsync(Names.User());
        await using var b = await node.ClientAsync(bob);
        var sinceWelcome = Stopwatch.StartNew();
        await WaitReachableAsync(a, bob);
        Assert.True(sinceWelcome.Elapsed < TimeSpan.FromSeconds(1), $"reachable after {sinceWelcome.Elapsed}");
    }

    [Fact]
    public async Task A_user_is_offline_within_1_second_of_its_last_connection_closing()
    {
        var bob = Names.User("bob");
        await using var a = await node.ClientAsync(Names.User());
        var b1 = await node.ClientAsync(bob);
        var b2 = await node.ClientAsync(bob);
        await WaitReachableAsync(a, bob);

        await b1.DisposeAsync();
        // One connection left: still reachable.
        await a.SendAsync(new { type = "direct", to = bob, text = "still there?" });
        await a.NextOfTypeAsync("delivered");

        await b2.DisposeAsync();
        var sinceClose = Stopwatch.StartNew();
        await Wait.UntilAsync(async () =>
        {
            await a.SendAsync(new { type = "direct", to = bob, text = "gone?" });
            var answer = await a.NextTextAsync(ClientExtensions.Patience);
            return answer.Type == "error" && answer.Str("code") == "user-offline";
        }, TimeSpan.FromSeconds(5), "user-offline");
        Assert.True(sinceClose.Elapsed < TimeSpan.FromSeconds(1), $"offline after {sinceClose.Elapsed}");
    }

    [Fact]
    public async Task Ping_answers_pong_with_the_ref()
    {
        await using var a = await node.ClientAsync(Names.User());
        await a.SendAsync(new { type = "ping", @ref = "p1" });
        var pong = await a.NextOfTypeAsync("pong");
        Assert.Equal("p1", pong.Str("ref"));
        await a.SendAsync(new { type = "ping" });
        Assert.Null((await a.NextOfTypeAsync("pong")).Str("ref"));
    }

    [Fact]
    public async Task Every_answer_echoes_the_ref_of_the_message_it_answers()
    {
        var room = Names.Room();
        var bob = Names.User("bob");
        await using var a = await node.ClientAsync(Names.User());
        await using var b = await node.ClientAsync(bob);
        await WaitReachableAsync(a, bob);
        var maxRef = new string('r', 64);

        await a.SendAsync(new { type = "join", room, @ref = maxRef });
        Assert.Equal(maxRef, (await a.NextOfTypeAsync("joined")).Str("ref"));
        await a.SendAsync(new { type = "say", room, text = "t", @ref = "say-ref" });
        Assert.Equal("say-ref", (await a.NextOfTypeAsync("said")).Str("ref"));
        await a.SendAsync(new { type = "direct", to = bob, text = "t", @ref = "direct-ref" });
        Assert.Equal("direct-ref", (await a.NextOfTypeAsync("delivered")).Str("ref"));
        await a.SendAsync(new { type = "ping", @ref = "ping-ref" });
        Assert.Equal("ping-ref", (await a.NextOfTypeAsync("pong")).Str("ref"));
        await a.SendAsync(new { type = "leave", room, @ref = "leave-ref" });
        Assert.Equal("leave-ref", (await a.NextOfTypeAsync("left")).Str("ref"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_connection_that_closes_leaves_all_its_rooms(bool abruptly)
    {
        var (room1, room2) = (Names.Room(), Names.Room());
        var bob = Names.User("bob");
        await using var a1 = await node.ClientAsync(Names.User());
        await using var a2 = await node.ClientAsync(Names.User());
        var b = await node.ClientAsync(bob);
        await a1.JoinStrictAsync(room1);
        await a2.JoinStrictAsync(room2);
        var m1 = (await b.JoinStrictAsync(room1)).Num("member");
        var m2 = (await b.JoinStrictAsync(room2)).Num("member");
        await a1.NextOfTypeAsync("member-joined");
        await a2.NextOfTypeAsync("member-joined");

        if (abruptly) b.Socket.Abort();
        await b.DisposeAsync();

        foreach (var (a, room, member) in new[] { (a1, room1, m1), (a2, room2, m2) })
        {
            var left = await a.NextOfTypeAsync("member-left");
            Assert.Equal(room, left.Str("room"));
            Assert.Equal(member, left.Num("member"));
            Assert.Equal(bob, left.Str("user"));
        }
    }

    /// <summary>Says m1..m<paramref name="count"/> in order, each once, within the text rate limit (a refused one is sent again).</summary>
    private static async Task SayAsync(VoiceClient client, string room, int count)
    {
        for (int i = 1; i <= count; i++)
        {
            while (true)
            {
                await client.SendAsync(new { type = "say", room, text = "m" + i, @ref = "m" + i });
                TextEvent answer;
                do answer = await client.NextTextAsync(TimeSpan.FromSeconds(10));
                while (answer.Type is not ("said" or "error"));
                if (answer.Type == "said") break;
                Assert.Equal("rate-limited", answer.Str("code"));
                await Task.Delay(60);
            }
        }
    }

    /// <summary>Sends direct until it is delivered (the directory registers a connection shortly after its welcome).</summary>
    private static Task WaitReachableAsync(VoiceClient from, string to) =>
        Wait.UntilAsync(async () =>
        {
            await from.SendAsync(new { type = "direct", to, text = "are you there?" });
            return (await from.NextTextAsync(ClientExtensions.Patience)).Type == "delivered";
        }, TimeSpan.FromSeconds(5), $"{to} reachable by direct");
}
