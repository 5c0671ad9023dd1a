using System.Diagnostics;
using System.Net.WebSockets;
using AkkaVoice.Client;
using AkkaVoice.IntegrationTests.Support;
using Xunit;
using static AkkaVoice.IntegrationTests.Support.ClientExtensions;

namespace AkkaVoice.IntegrationTests;

/// <summary>PROTOCOL.md section 3: the frame layouts, opaque payloads, no echo, order, and frames for slots not joined.</summary>
public sealed class VoiceFrameTests(DefaultNode fixture) : IClassFixture<DefaultNode>
{
    private readonly TestNode node = fixture.Node;

    /// <summary>Alice and Bob in one room; Bob joined another room first, so his slot for it differs from Alice's.</summary>
    private async Task<(VoiceClient Alice, TextEvent AliceJoined, VoiceClient Bob, TextEvent BobJoined, string Room)> TwoInARoomAsync()
    {
        var room = Names.Room();
        var alice = await node.ClientAsync(Names.User("alice"));
        var bob = await node.ClientAsync(Names.User("bob"));
        await bob.JoinStrictAsync(Names.Room("other"));
        var aj = await alice.JoinStrictAsync(room);
        var bj = await bob.JoinStrictAsync(room);
        await alice.NextOfTypeAsync("member-joined");
        Assert.NotEqual(aj.Num("slot"), bj.Num("slot"));
        return (alice, aj, bob, bj, room);
    }

    [Fact]
    public async Task A_frame_reaches_the_others_as_the_receivers_slot_the_speakers_member_and_the_payload()
    {
        var (alice, aj, bob, bj, _) = await TwoInARoomAsync();
        await using var a = alice;
        await using var b = bob;

        await a.SendFrameAsync((byte)aj.Num("slot"), new byte[] { 1, 2, 3 });
        var frame = await b.NextFrameAsync();
        Assert.Equal(bj.Num("slot"), frame.Slot);
        Assert.Equal((uint)aj.Num("member"), frame.Member);
        Assert.Equal(new byte[] { 1, 2, 3 }, frame.Payload);
    }

    [Fact]
    public async Task The_wire_layout_is_slot_then_member_as_big_endian_u32_then_the_payload()
    {
        var room = Names.Room();
        await using var a = await node.ClientAsync(Names.User());
        using var raw = await RawSocket.ConnectAsync(node.Ws("user=" + Names.User()), ["akkavoice.v1"]);
        await raw.ReceiveJsonAsync();
        await raw.SendJsonAsync(new { type = "join", room = Names.Room() });
        await raw.ReceiveJsonAsync();
        await raw.SendJsonAsync(new { type = "join", room });
        var rawSlot = (byte)(await raw.ReceiveJsonAsync()).GetProperty("slot").GetInt32();
        var aj = await a.JoinStrictAsync(room);

        // Raw bytes on the wire, client to server: [slot][payload].
        await a.SendAsync(new byte[] { (byte)aj.Num("slot"), 0xde, 0xad }, WebSocketMessageType.Binary);
        var buffer = new byte[64];
        using var timeout = new CancellationTokenSource(Patience);
        ValueWebSocketReceiveResult r;
        do r = await raw.ReceiveAsync(buffer.AsMemory(), timeout.Token);
        while (r.MessageType != WebSocketMessageType.Binary);

        var member = (uint)aj.Num("member");
        byte[] expected = [rawSlot, (byte)(member >> 24), (byte)(member >> 16), (byte)(member >> 8), (byte)member, 0xde, 0xad];
        Assert.True(r.EndOfMessage);
        Assert.Equal(expected, buffer[..r.Count]);
    }

    [Fact]
    public async Task The_payload_arrives_byte_for_byte_unchanged()
    {
        var (alice, aj, bob, _, _) = await TwoInARoomAsync();
        await using var a = alice;
        await using var b = bob;
        var payloads = new List<byte[]>
        {
            Enumerable.Range(0, 256).Select(i => (byte)i).ToArray(),
            new byte[] { 0 },
            "{\"type\":\"said\"}"u8.ToArray(),
            new byte[] { 0xff, 0xfe }.Concat(Enumerable.Repeat((byte)0x80, 1200)).ToArray(),
        };
        var random = new Random(42);
        var big = new byte[1500];
        random.NextBytes(big);
        payloads.Add(big);

        foreach (var p in payloads) await a.SendFrameAsync((byte)aj.Num("slot"), p);
        foreach (var p in payloads) Assert.Equal(p, (await b.NextFrameAsync()).Payload);
    }

    [Fact]
    public async Task A_frame_is_never_sent_back_to_its_sender()
    {
        var (alice, aj, bob, _, _) = await TwoInARoomAsync();
        await using var a = alice;
        await using var b = bob;
        for (int i = 0; i < 20; i++) await a.SendFrameAsync((byte)aj.Num("slot"), Numbered(i));
        for (int i = 0; i < 20; i++) Assert.Equal(i, NumberOf(await b.NextFrameAsync()));

        // Every frame has reached Bob; any echo to Alice would have been queued by now.
        var seen = await a.CollectAsync(TimeSpan.FromMilliseconds(300));
        Assert.DoesNotContain(seen, e => e is FrameEvent);
    }

    [Fact]
    public async Task Each_speakers_frames_arrive_in_order_for_every_receiver()
    {
        var room = Names.Room();
        await using var a = await node.ClientAsync(Names.User());
        await using var c = await node.ClientAsync(Names.User());
        await using var r1 = await node.ClientAsync(Names.User());
        await using var r2 = await node.ClientAsync(Names.User());
        var aj = await a.JoinStrictAsync(room);
        var cj = await c.JoinStrictAsync(room);
        await r1.JoinStrictAsync(room);
        await r2.JoinStrictAsync(room);

        // Two speakers at once, 100 frames each.
        await Task.WhenAll(
            Task.Run(async () => { for (int i = 0; i < 100; i++) await a.SendFrameAsync((byte)aj.Num("slot"), Numbered(i)); }),
            Task.Run(async () => { for (int i = 0; i < 100; i++) await c.SendFrameAsync((byte)cj.Num("slot"), Numbered(1000 + i)); }));

        foreach (var receiver in new[] { r1, r2 })
        {
            var bySpeaker = new Dictionary<uint, List<int>>();
            for (int i = 0; i < 200; i++)
            {
                var f = await receiver.NextFrameAsync();
                if (!bySpeaker.TryGetValue(f.Member, out var list)) bySpeaker[f.Member] = list = [];
                list.Add(NumberOf(f));
            }
            Assert.Equal(Enumerable.Range(0, 100), bySpeaker[(uint)aj.Num("member")]);
            Assert.Equal(Enumerable.Range(1000, 100), bySpeaker[(uint)cj.Num("member")]);
        }
    }

    [Fact]
    public async Task A_frame_for_an_unjoined_slot_is_dropped_with_at_most_one_not_joined_error_a_second()
    {
        var (alice, aj, bob, _, _) = await TwoInARoomAsync();
        await using var a = alice;
        await using var b = bob;
        var before = await Metrics.ScrapeAsync(node.Http);
        var unjoined = (byte)(aj.Num("slot") + 7);

        // A burst well inside one second: exactly one error.
        var burst = Stopwatch.StartNew();
        for (int i = 0; i < 10; i++) await a.SendFrameAsync(unjoined, Numbered(i));
        var firstBurst = burst.Elapsed;
        var texts = await a.TextsUntilPongAsync();
        var errors = texts.Where(t => t.Type == "error").ToList();
        Assert.True(firstBurst < TimeSpan.FromSeconds(1), $"the burst took {firstBurst}");
        Assert.Single(errors);
        Assert.Equal("not-joined", errors[0].Str("code"));

        // More than a second after that error, the next bad frame is reported again, once.
        var rest = TimeSpan.FromSeconds(1.1) - burst.Elapsed;
        if (rest > TimeSpan.Zero) await Task.Delay(rest);
        for (int i = 0; i < 10; i++) await a.SendFrameAsync(unjoined, Numbered(i));
        errors = (await a.TextsUntilPongAsync()).Where(t => t.Type == "error").ToList();
        Assert.Single(errors);
        Assert.Equal("not-joined", errors[0].Str("code"));

        // None of them reached Bob: the first frame he gets is the one for the joined slot.
        await a.SendFrameAsync((byte)aj.Num("slot"), Numbered(999));
        Assert.Equal(999, NumberOf(await b.NextFrameAsync()));
        var after = await Metrics.ScrapeAsync(node.Http);
        Assert.Equal(20, after[Metrics.Dropped("not-joined")] - before[Metrics.Dropped("not-joined")]);
    }

    [Fact]
    public async Task An_empty_binary_message_or_a_slot_without_payload_is_bad_field()
    {
        var (alice, aj, bob, _, _) = await TwoInARoomAsync();
        await using var a = alice;
        await using var b = bob;
        await a.SendAsync(Array.Empty<byte>(), WebSocketMessageType.Binary);
        await a.ExpectErrorAsync("bad-field");
        await a.AssertAliveAsync();

        // A fresh connection, since such errors too come at most once a second per connection.
        await using var c = await node.ClientAsync(Names.User());
        await c.SendAsync(new byte[] { (byte)aj.Num("slot") }, WebSocketMessageType.Binary);
        await c.ExpectErrorAsync("bad-field");
        await c.AssertAliveAsync();

        await a.SendFrameAsync((byte)aj.Num("slot"), Numbered(1));
        Assert.Equal(1, NumberOf(await b.NextFrameAsync()));
    }

    [Fact]
    public async Task After_left_no_frame_arrives_for_that_slot_until_a_later_joined()
    {
        var (alice, aj, bob, _, room) = await TwoInARoomAsync();
        await using var a = alice;
        await using var b = bob;
        using var stop = new CancellationTokenSource();
        // Alice keeps talking at 100 frames a second (her rate limit) the whole time.
        var speaking = Task.Run(async () =>
        {
            for (int i = 0; !stop.IsCancellationRequested; i++)
            {
                await a.SendFrameAsync((byte)aj.Num("slot"), Numbered(i));
                await Task.Delay(10);
            }
        });
        try
        {
            await b.NextFrameAsync();
            await b.SendAsync(new { type = "leave", room });
            // Frames before left are fine; after it, none for that slot.
            while (await b.ReceiveAsync(Patience) is not TextEvent { Type: "left" })
            {
            }
            var after = await b.CollectAsync(TimeSpan.FromMilliseconds(500));
            Assert.DoesNotContain(after, e => e is FrameEvent);

            var again = await b.JoinStrictAsync(room);
            var frame = await b.NextFrameAsync();
            Assert.Equal(again.Num("slot"), frame.Slot);
        }
        finally
        {
            stop.Cancel();
            await speaking;
        }
    }
}
