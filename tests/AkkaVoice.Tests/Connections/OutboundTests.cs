using System.Diagnostics;
using AkkaVoice.Cluster;
using AkkaVoice.Cluster.Connections;
using AkkaVoice.Protocol;
using Xunit;

namespace AkkaVoice.Tests.Connections;

public sealed class OutboundTests
{
    private readonly NodeStats stats = new();

    private Outbound NewOutbound(int voiceFrames = 4, int textMessages = 3, TimeSpan? stuckAfter = null) =>
        new(new Limits
        {
            VoiceQueueFrames = voiceFrames,
            TextQueueMessages = textMessages,
            StuckReceiverTimeout = stuckAfter ?? TimeSpan.FromSeconds(10),
        }, stats);

    private static Membership MembershipOf(Outbound outbound) => new("lobby", 3, 7, outbound);

    private static byte[] Frame(int n) => [(byte)n, (byte)(n >> 8)];

    private static byte[] Text(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    private static List<OutboundItem> Drain(Outbound outbound)
    {
        var items = new List<OutboundItem>();
        while (outbound.TryDequeue(out var item)) items.Add(item);
        return items;
    }

    [Fact]
    public void An_empty_queue_has_nothing_to_take()
    {
        var outbound = NewOutbound();
        Assert.False(outbound.TryDequeue(out _));
        Assert.Equal(0, outbound.Count);
        Assert.Null(outbound.CloseRequest);
    }

    [Fact]
    public void Text_goes_before_voice_whatever_order_they_were_queued_in()
    {
        var outbound = NewOutbound();
        var membership = MembershipOf(outbound);
        byte[] v1 = Frame(1), v2 = Frame(2), t1 = Text("t1"), t2 = Text("t2");
        outbound.EnqueueVoice(membership, 10, v1);
        Assert.True(outbound.EnqueueText(t1));
        outbound.EnqueueVoice(membership, 11, v2);
        Assert.True(outbound.EnqueueText(t2));
        Assert.Equal(4, outbound.Count);

        var items = Drain(outbound);
        Assert.Equal([t1, t2, v1, v2], items.Select(i => i.Bytes));
        Assert.All(items.Take(2), i => Assert.Null(i.Membership));
        Assert.All(items.Skip(2), i => Assert.Same(membership, i.Membership));
        Assert.Equal([10u, 11u], items.Skip(2).Select(i => i.Speaker));
        Assert.Equal(0, outbound.Count);
    }

    [Fact]
    public void Text_queued_while_voice_waits_jumps_ahead_of_it()
    {
        var outbound = NewOutbound();
        var membership = MembershipOf(outbound);
        outbound.EnqueueVoice(membership, 1, Frame(1));
        outbound.EnqueueVoice(membership, 1, Frame(2));
        Assert.True(outbound.TryDequeue(out var first));
        Assert.Equal(Frame(1), first.Bytes);
        var urgent = Text("urgent");
        outbound.EnqueueText(urgent);
        Assert.True(outbound.TryDequeue(out var second));
        Assert.Same(urgent, second.Bytes);
    }

    [Fact]
    public void Queued_bytes_are_handed_to_the_writer_as_they_are_without_a_copy()
    {
        var outbound = NewOutbound();
        var frame = Frame(9);
        var text = Text("{}");
        outbound.EnqueueVoice(MembershipOf(outbound), 1, frame);
        outbound.EnqueueText(text);
        var items = Drain(outbound);
        Assert.Same(text, items[0].Bytes);
        Assert.Same(frame, items[1].Bytes);
    }

    [Fact]
    public void A_full_voice_queue_drops_its_oldest_frames_and_counts_them()
    {
        var outbound = NewOutbound(voiceFrames: 4);
        var membership = MembershipOf(outbound);
        for (int i = 0; i < 10; i++) outbound.EnqueueVoice(membership, 1, Frame(i));

        Assert.Equal(4, outbound.Count);
        Assert.Equal(6, stats.FramesDroppedSlowReceiver.Value);
        Assert.Equal([Frame(6), Frame(7), Frame(8), Frame(9)], Drain(outbound).Select(i => i.Bytes));
        // Briefly full is not stuck.
        Assert.Null(outbound.CloseRequest);
    }

    [Fact]
    public void Dropping_voice_never_drops_text()
    {
        var outbound = NewOutbound(voiceFrames: 2, textMessages: 3);
        var membership = MembershipOf(outbound);
        var text = Text("keep me");
        outbound.EnqueueText(text);
        for (int i = 0; i < 50; i++) outbound.EnqueueVoice(membership, 1, Frame(i));
        Assert.Equal(48, stats.FramesDroppedSlowReceiver.Value);
        Assert.True(outbound.TryDequeue(out var first));
        Assert.Same(text, first.Bytes);
    }

    [Fact]
    public void A_full_text_queue_refuses_more_text_and_asks_to_close_with_1013()
    {
        var outbound = NewOutbound(textMessages: 3);
        byte[][] texts = [Text("1"), Text("2"), Text("3")];
        foreach (var t in texts) Assert.True(outbound.EnqueueText(t));
        Assert.Null(outbound.CloseRequest);

        Assert.False(outbound.EnqueueText(Text("4")));

        var close = Assert.NotNull(outbound.CloseRequest);
        Assert.Equal(1013, close.Code);
        Assert.Equal(Outbound.TryAgainLater, close.Code);
        Assert.False(string.IsNullOrWhiteSpace(close.Reason));
        // Text is never dropped: what was queued is still there, in order.
        Assert.Equal(texts, Drain(outbound).Select(i => i.Bytes));
    }

    [Fact]
    public void Once_a_close_is_asked_for_nothing_more_is_queued()
    {
        var outbound = NewOutbound();
        var membership = MembershipOf(outbound);
        outbound.EnqueueVoice(membership, 1, Frame(1));
        outbound.RequestClose(1000, "bye");

        Assert.False(outbound.EnqueueText(Text("late")));
        outbound.EnqueueVoice(membership, 1, Frame(2));

        Assert.Equal(1, outbound.Count);
        Assert.Equal((1000, "bye"), outbound.CloseRequest);
    }

    [Fact]
    public void The_first_close_asked_for_is_the_one_kept()
    {
        var outbound = NewOutbound(textMessages: 1);
        outbound.RequestClose(1001, "going away");
        outbound.RequestClose(1013, "later");
        outbound.EnqueueText(Text("1"));
        outbound.EnqueueText(Text("2"));
        Assert.Equal((1001, "going away"), outbound.CloseRequest);
    }

    [Fact]
    public void The_close_callback_is_invoked_exactly_once()
    {
        var outbound = NewOutbound(textMessages: 1);
        int calls = 0;
        outbound.CloseRequested = () => Interlocked.Increment(ref calls);

        Assert.True(outbound.EnqueueText(Text("1")));
        Assert.Equal(0, calls);
        Assert.False(outbound.EnqueueText(Text("2")));
        Assert.False(outbound.EnqueueText(Text("3")));
        outbound.RequestClose(1000, "bye");
        outbound.EnqueueVoice(MembershipOf(outbound), 1, Frame(1));

        Assert.Equal(1, calls);
        Assert.Equal(1013, outbound.CloseRequest?.Code);
    }

    [Fact]
    public void The_close_callback_is_invoked_once_when_many_threads_ask_at_once()
    {
        var outbound = NewOutbound();
        int calls = 0;
        outbound.CloseRequested = () => Interlocked.Increment(ref calls);
        Parallel.For(0, 64, i => outbound.RequestClose(4000 + i, "close"));
        Assert.Equal(1, calls);
        Assert.InRange(outbound.CloseRequest!.Value.Code, 4000, 4063);
    }

    [Fact]
    public void Queuing_text_or_voice_or_asking_to_close_wakes_the_writer()
    {
        var textOutbound = NewOutbound();
        var pending = textOutbound.Signal.WaitAsync();
        Assert.False(pending.IsCompleted);
        textOutbound.EnqueueText(Text("x"));
        Assert.True(pending.IsCompleted);

        var voiceOutbound = NewOutbound();
        pending = voiceOutbound.Signal.WaitAsync();
        Assert.False(pending.IsCompleted);
        voiceOutbound.EnqueueVoice(MembershipOf(voiceOutbound), 1, Frame(1));
        Assert.True(pending.IsCompleted);

        var closeOutbound = NewOutbound();
        pending = closeOutbound.Signal.WaitAsync();
        Assert.False(pending.IsCompleted);
        closeOutbound.RequestClose(1000, "bye");
        Assert.True(pending.IsCompleted);
    }

    [Fact]
    public async Task A_receiver_whose_voice_queue_stays_full_past_the_stuck_timeout_is_closed_with_1013()
    {
        var stuckAfter = TimeSpan.FromMilliseconds(50);
        var outbound = NewOutbound(voiceFrames: 4, stuckAfter: stuckAfter);
        int calls = 0;
        outbound.CloseRequested = () => Interlocked.Increment(ref calls);
        var membership = MembershipOf(outbound);
        for (int i = 0; i < 4; i++) outbound.EnqueueVoice(membership, 1, Frame(i));

        // The first dropped frame starts the clock; nobody takes a frame from here on.
        outbound.EnqueueVoice(membership, 1, Frame(4));
        var fullSince = Stopwatch.StartNew();
        Assert.Null(outbound.CloseRequest);

        var deadline = TimeSpan.FromSeconds(10);
        while (outbound.CloseRequest is null && fullSince.Elapsed < deadline)
        {
            await Task.Delay(10);
            outbound.EnqueueVoice(membership, 1, Frame(5));
        }

        var close = Assert.NotNull(outbound.CloseRequest);
        Assert.Equal(1013, close.Code);
        Assert.True(fullSince.Elapsed >= stuckAfter, $"closed after {fullSince.Elapsed}, before the stuck timeout");
        Assert.Equal(1, calls);
        // The frames of a receiver that is being closed are of no use to anyone.
        Assert.Equal(0, outbound.Count);
    }

    [Fact]
    public async Task A_receiver_that_takes_a_frame_is_not_stuck_even_if_its_queue_fills_again()
    {
        var outbound = NewOutbound(voiceFrames: 4, stuckAfter: TimeSpan.FromMilliseconds(50));
        var membership = MembershipOf(outbound);
        for (int i = 0; i < 5; i++) outbound.EnqueueVoice(membership, 1, Frame(i));
        var fullSince = Stopwatch.StartNew();

        // Let the stuck timeout pass while the queue is full...
        while (fullSince.Elapsed < TimeSpan.FromMilliseconds(100)) await Task.Delay(20);
        // ...then the writer takes a frame, and the queue fills and overflows again at once.
        Assert.True(outbound.TryDequeue(out _));
        outbound.EnqueueVoice(membership, 1, Frame(5));
        outbound.EnqueueVoice(membership, 1, Frame(6));

        Assert.Null(outbound.CloseRequest);
        Assert.Equal(4, outbound.Count);
    }

    [Fact]
    public void The_default_limits_are_those_of_the_contract()
    {
        var limits = new Limits();
        Assert.Equal(256, limits.VoiceQueueFrames);
        Assert.Equal(256, limits.TextQueueMessages);
        Assert.Equal(TimeSpan.FromSeconds(10), limits.StuckReceiverTimeout);
    }
}
