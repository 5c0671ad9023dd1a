using System.Diagnostics;
using System.Net.WebSockets;
using AkkaVoice.Client;
using AkkaVoice.IntegrationTests.Support;
using Xunit;
using static AkkaVoice.IntegrationTests.Support.ClientExtensions;

namespace AkkaVoice.IntegrationTests;

/// <summary>
/// A node for receivers that stop reading: the stuck-receiver timeout is 3 s instead of 10, the text queue
/// holds 32 messages, and the voice rate limit is lifted so one speaker can fill a receiver's buffers quickly.
/// </summary>
public sealed class SlowReceiverNode : NodeFixture
{
    public const int TextQueue = 32;

    protected override Task<TestNode> StartAsync() => TestNode.StartAsync(hocon: $"""
        akkavoice.limits.stuck-receiver-timeout = 3s
        akkavoice.limits.text-queue-messages = {TextQueue}
        akkavoice.limits.voice-frames-per-second = 100000
        akkavoice.limits.text-messages-per-second = 100000
        akkavoice.limits.text-message-burst = 100000
        akkavoice.limits.says-per-room-per-second = 100000
        akkavoice.limits.say-burst-per-room = 100000
        akkavoice.limits.voice-frame-burst = 100000
        """);
}

/// <summary>PROTOCOL.md section 4, the outbound queues: a receiver that does not read never slows others, and is closed in the end.</summary>
public sealed class SlowReceiverTests(SlowReceiverNode fixture) : IClassFixture<SlowReceiverNode>
{
    private const int FrameSize = 1400;
    private const int EndMarker = -1;
    private const int TalkBase = 1_000_000;
    private const int Talk = 300;

    private readonly TestNode node = fixture.Node;

    /// <summary>A socket that never reads, with a 4 KiB TCP receive buffer, joined to <paramref name="room"/> (slot 0).</summary>
    private async Task<(ClientWebSocket Socket, string User)> StuckMemberAsync(string room, VoiceClient witness)
    {
        var user = Names.User("stuck");
        var socket = await RawSocket.ConnectAsync(node.Ws("user=" + user), ["akkavoice.v1"], receiveBufferSize: 4096);
        await socket.SendJsonAsync(new { type = "join", room });
        while ((await witness.ExpectAsync("member-joined")).Str("user") != user)
        {
        }
        return (socket, user);
    }

    [Fact]
    public async Task A_receiver_that_never_reads_does_not_slow_its_roommates()
    {
        var room = Names.Room();
        await using var speaker = await node.ClientAsync(Names.User("speaker"));
        await using var r1 = await node.ClientAsync(Names.User("reader"));
        await using var r2 = await node.ClientAsync(Names.User("reader"));
        var slot = (byte)(await speaker.JoinStrictAsync(room)).Num("slot");
        await r1.JoinStrictAsync(room);
        await r2.JoinStrictAsync(room);
        var (stuck, _) = await StuckMemberAsync(room, r1);
        using var _ = stuck;
        var readers = new[] { r1, r2 }.Select(r => Task.Run(() => ReadUntilMarkerAsync(r))).ToArray();

        // First fill the socket buffers and the queue of the member that never reads, as fast as possible.
        var dropsBefore = await SlowReceiverDropsAsync();
        int filler = 0;
        var watch = Stopwatch.StartNew();
        while (await SlowReceiverDropsAsync() == dropsBefore && watch.Elapsed < TimeSpan.FromSeconds(20))
        {
            for (int i = 0; i < 200; i++) await speaker.SendFrameAsync(slot, Numbered(filler++, FrameSize));
        }
        Assert.True(await SlowReceiverDropsAsync() > dropsBefore, "the member that never reads had frames dropped");

        // Then talk at a lively but real pace (500 frames a second) while it stays stuck.
        var sentAt = new long[Talk];
        for (int i = 0; i < Talk; i++)
        {
            sentAt[i] = Stopwatch.GetTimestamp();
            await speaker.SendFrameAsync(slot, Numbered(TalkBase + i, FrameSize));
            if (i % 10 == 9) await Task.Delay(20);
        }
        await speaker.SendFrameAsync(slot, Numbered(EndMarker, FrameSize));

        foreach (var reader in readers)
        {
            var received = (await reader).Where(r => r.Number >= TalkBase).ToList();
            Assert.Equal(Enumerable.Range(TalkBase, Talk), received.Select(r => r.Number));
            var worst = received.Max(r => Stopwatch.GetElapsedTime(sentAt[r.Number - TalkBase], r.At));
            Assert.True(worst < TimeSpan.FromSeconds(1), $"a frame took {worst} to reach a reader");
        }

        static async Task<List<(int Number, long At)>> ReadUntilMarkerAsync(VoiceClient reader)
        {
            var received = new List<(int, long)>();
            while (true)
            {
                var n = NumberOf(await reader.NextFrameAsync(TimeSpan.FromSeconds(30)));
                if (n == EndMarker) return received;
                received.Add((n, Stopwatch.GetTimestamp()));
            }
        }
    }

    private async Task<double> SlowReceiverDropsAsync() => (await Metrics.ScrapeAsync(node.Http))[Metrics.Dropped("slow-receiver")];

    [Fact]
    public async Task A_receiver_whose_voice_queue_stays_full_is_closed()
    {
        var room = Names.Room();
        await using var speaker = await node.ClientAsync(Names.User("speaker"));
        var slot = (byte)(await speaker.JoinStrictAsync(room)).Num("slot");
        var (stuck, user) = await StuckMemberAsync(room, speaker);
        using var _ = stuck;

        // Keep talking (about 2000 frames, 2.8 MB, a second) until the stuck member is gone from the room.
        var watch = Stopwatch.StartNew();
        var leftTask = speaker.ExpectAsync("member-left", TimeSpan.FromSeconds(30));
        int sent = 0;
        while (!leftTask.IsCompleted && watch.Elapsed < TimeSpan.FromSeconds(30))
        {
            for (int i = 0; i < 10; i++) await speaker.SendFrameAsync(slot, Numbered(sent++, FrameSize));
            await Task.Delay(5);
        }
        var left = await leftTask;
        Assert.Equal(user, left.Str("user"));
        // It had a full queue for the whole timeout first.
        Assert.True(watch.Elapsed > TimeSpan.FromSeconds(3), $"closed after {watch.Elapsed}");

        var status = await stuck.DrainUntilClosedAsync(TimeSpan.FromSeconds(10));
        Assert.True(status is null or (WebSocketCloseStatus)1013, $"closed with {status}, not 1013 or an abort");
        await speaker.AssertAliveAsync();
    }

    [Fact]
    public async Task A_receiver_with_a_full_text_queue_is_closed_with_1013()
    {
        var room = Names.Room();
        await using var talker = await node.ClientAsync(Names.User("talker"));
        await talker.JoinStrictAsync(room);
        var (stuck, user) = await StuckMemberAsync(room, talker);
        using var _ = stuck;

        // Far more said text (6 MB) than the stuck member's socket buffers (a few MB on loopback) and its
        // 32-message queue can hold. The talker waits for each of its own said, so its own queue never fills.
        var text = new string('\u20ac', 4096);
        for (int i = 0; i < 500; i++)
        {
            await talker.SendTextAsync($$"""{"type":"say","room":"{{room}}","text":"{{text}}"}""");
            await talker.NextOfTypeAsync("said");
        }

        // Reading again, the stuck member gets what was queued and then the close: text is never dropped.
        var status = await stuck.DrainUntilClosedAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((WebSocketCloseStatus)1013, status);
        var left = await talker.ExpectAsync("member-left");
        Assert.Equal(user, left.Str("user"));
    }
}
