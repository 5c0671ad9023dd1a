using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using AkkaVoice.Client;
using AkkaVoice.IntegrationTests.Support;
using Xunit;
using static AkkaVoice.IntegrationTests.Support.ClientExtensions;

namespace AkkaVoice.IntegrationTests;

/// <summary>PROTOCOL.md section 4 at the default limits: frame and text sizes, rooms per connection, the voice rate.</summary>
public sealed class LimitTests(DefaultNode fixture) : IClassFixture<DefaultNode>
{
    private readonly TestNode node = fixture.Node;

    private async Task<(VoiceClient Speaker, byte Slot, VoiceClient Listener)> SpeakerAndListenerAsync()
    {
        var room = Names.Room();
        var speaker = await node.ClientAsync(Names.User("speaker"));
        var listener = await node.ClientAsync(Names.User("listener"));
        var slot = (byte)(await speaker.JoinStrictAsync(room)).Num("slot");
        await listener.JoinStrictAsync(room);
        await speaker.NextOfTypeAsync("member-joined");
        return (speaker, slot, listener);
    }

    [Fact]
    public async Task A_frame_with_a_payload_of_exactly_1500_bytes_is_relayed()
    {
        var (speaker, slot, listener) = await SpeakerAndListenerAsync();
        await using var s = speaker;
        await using var l = listener;
        var payload = Numbered(7, 1500);
        await s.SendFrameAsync(slot, payload);
        Assert.Equal(payload, (await l.NextFrameAsync()).Payload);
        await s.AssertAliveAsync();
    }

    [Fact]
    public async Task A_frame_with_a_payload_of_1501_bytes_closes_with_1009()
    {
        var (speaker, slot, listener) = await SpeakerAndListenerAsync();
        await using var s = speaker;
        await using var l = listener;
        await s.SendFrameAsync(slot, new byte[1501]);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, (await s.WaitClosedAsync()).Status);
        // The listener sees the speaker leave, and never the oversized frame.
        while (true)
        {
            var e = await l.ReceiveAsync(Patience);
            Assert.IsNotType<FrameEvent>(e);
            if (e is TextEvent { Type: "member-left" }) break;
        }
        await l.AssertAliveAsync();
    }

    [Fact]
    public async Task A_text_message_of_exactly_16_KiB_is_accepted()
    {
        await using var a = await node.ClientAsync(Names.User());
        var text = TextOfBytes(16 * 1024);
        await a.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text);
        Assert.Equal("big", (await a.NextOfTypeAsync("pong")).Str("ref"));
    }

    [Fact]
    public async Task A_text_message_larger_than_16_KiB_closes_with_1009()
    {
        await using var a = await node.ClientAsync(Names.User());
        await a.SendAsync(Encoding.UTF8.GetBytes(TextOfBytes(16 * 1024 + 1)), WebSocketMessageType.Text);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, (await a.WaitClosedAsync()).Status);
    }

    [Fact]
    public async Task A_text_message_far_larger_than_16_KiB_closes_with_1009()
    {
        await using var a = await node.ClientAsync(Names.User());
        await a.SendAsync(Encoding.UTF8.GetBytes(TextOfBytes(1024 * 1024)), WebSocketMessageType.Text);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, (await a.WaitClosedAsync()).Status);
    }

    [Fact]
    public async Task The_ninth_room_of_a_connection_is_refused_with_room_limit()
    {
        await using var a = await node.ClientAsync(Names.User());
        var rooms = Enumerable.Range(0, 9).Select(_ => Names.Room()).ToArray();
        for (int i = 0; i < 8; i++) await a.JoinStrictAsync(rooms[i]);

        await a.SendAsync(new { type = "join", room = rooms[8], @ref = "ninth" });
        await a.ExpectErrorAsync("room-limit", "ninth");
        // Joining one of the eight again is not a ninth room.
        await a.JoinStrictAsync(rooms[3]);

        await a.SendAsync(new { type = "leave", room = rooms[0] });
        await a.NextOfTypeAsync("left");
        await a.JoinStrictAsync(rooms[8]);
    }

    [Fact]
    public async Task Nine_joins_sent_at_once_give_eight_rooms_and_one_room_limit()
    {
        await using var a = await node.ClientAsync(Names.User());
        for (int i = 0; i < 9; i++) await a.SendAsync(new { type = "join", room = Names.Room(), @ref = $"j{i}" });
        var answers = new List<TextEvent>();
        for (int i = 0; i < 9; i++) answers.Add(await a.NextTextAsync(Patience));
        Assert.Equal(8, answers.Count(t => t.Type == "joined"));
        Assert.Single(answers, t => t.Type == "error" && t.Str("code") == "room-limit");
    }

    [Fact]
    public async Task Voice_past_the_rate_limit_is_dropped_with_one_rate_limited_error_a_second()
    {
        var (speaker, slot, listener) = await SpeakerAndListenerAsync();
        await using var s = speaker;
        await using var l = listener;
        var before = await Metrics.ScrapeAsync(node.Http);

        var watch = Stopwatch.StartNew();
        for (int i = 0; i < 400; i++) await s.SendFrameAsync(slot, Numbered(i));
        var elapsed = watch.Elapsed;
        var texts = await s.TextsUntilPongAsync();

        // A marker after the burst (the bucket has refilled a few tokens by then) ends the listener's count.
        await Task.Delay(50);
        await s.SendFrameAsync(slot, Numbered(100_000));
        var got = new List<int>();
        while (true)
        {
            var n = NumberOf(await l.NextFrameAsync());
            if (n == 100_000) break;
            got.Add(n);
        }

        // The burst of 200 passes whole; after it only what the bucket refills at 100 a second.
        var refilled = (int)Math.Ceiling(elapsed.TotalSeconds * 100) + 1;
        Assert.InRange(got.Count, 200, 200 + refilled);
        Assert.Equal(Enumerable.Range(0, 200), got.Take(200));
        Assert.Equal(got.Order(), got);

        var errors = texts.Where(t => t.Type == "error").ToList();
        Assert.All(errors, e => Assert.Equal("rate-limited", e.Str("code")));
        if (elapsed < TimeSpan.FromSeconds(1)) Assert.Single(errors);
        else Assert.InRange(errors.Count, 1, 1 + (int)elapsed.TotalSeconds);

        var after = await Metrics.ScrapeAsync(node.Http);
        var rateLimited = after[Metrics.Dropped("rate-limited")] - before[Metrics.Dropped("rate-limited")];
        var slow = after[Metrics.Dropped("slow-receiver")] - before[Metrics.Dropped("slow-receiver")];
        Assert.Equal(0, slow);
        Assert.Equal(400 - got.Count, rateLimited);
    }

    /// <summary>A ping (ref "big") padded to exactly <paramref name="bytes"/> bytes of UTF-8.</summary>
    private static string TextOfBytes(int bytes)
    {
        const string head = "{\"type\":\"ping\",\"ref\":\"big\",\"pad\":\"";
        const string tail = "\"}";
        var text = head + new string('p', bytes - head.Length - tail.Length) + tail;
        Assert.Equal(bytes, Encoding.UTF8.GetByteCount(text));
        return text;
    }
}
