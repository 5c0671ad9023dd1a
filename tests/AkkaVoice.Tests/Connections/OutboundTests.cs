using System.Diagnostics;
using AkkaVoice.Cluster;
using AkkaVoice.Cluster.Connections;
using AkkaVoice.Cluster.Hub;
using AkkaVoice.Protocol;
using Xunit;

namespace AkkaVoice.Tests.Connections;

public sealed class OutboundTests
{
    private readonly NodeStats stats = new();

    /// <summary>A sink that records every write and, while <see cref="Hold"/> is set, leaves flushes pending like a full TCP window.</summary>
    private sealed class RecordingSink : IOutboundSink
    {
        private readonly List<OutboundItem> pending = [];
        public List<List<OutboundItem>> Writes { get; } = [];
        public List<int> WriterThreads { get; } = [];
        public TaskCompletionSource? Hold { get; set; }
        public Exception? Fail { get; set; }
        public int Idles;

        public bool TryAdd(in OutboundItem item)
        {
            pending.Add(item);
            return true;
        }

        public ValueTask FlushAsync()
        {
            if (Fail is { } e) throw e;
            lock (Writes)
            {
                Writes.Add([.. pending]);
                WriterThreads.Add(Environment.CurrentManagedThreadId);
            }
            pending.Clear();
            return Hold is { } hold ? new ValueTask(hold.Task) : default;
        }

        public void Idle() => Interlocked.Increment(ref Idles);

        public List<OutboundItem> All() { lock (Writes) return Writes.SelectMany(w => w).ToList(); }
    }

    private Outbound NewOutbound(int voiceFrames = 4, int textMessages = 4, TimeSpan? stuckAfter = null) =>
        new(TestSettings.Limits with
        {
            VoiceQueueFrames = voiceFrames,
            TextQueueMessages = textMessages,
            StuckReceiverTimeout = stuckAfter ?? TimeSpan.FromSeconds(10),
        }, stats);

    private static Membership NewMembership() => new(new LocalRoom("lobby"), null!, null!, 3, 7);

    private static byte[] Frame(int n) => [(byte)n, (byte)(n >> 8)];

    private static byte[] Text(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    /// <summary>An outbound whose sink is busy with a first write that has not completed.</summary>
    private (Outbound, RecordingSink, Membership) Busy(int voiceFrames = 4, int textMessages = 4, TimeSpan? stuckAfter = null)
    {
        var outbound = NewOutbound(voiceFrames, textMessages, stuckAfter);
        var sink = new RecordingSink { Hold = new TaskCompletionSource() };
        outbound.Attach(sink);
        var membership = NewMembership();
        outbound.EnqueueVoice(membership, 1, Frame(999));
        Assert.Single(sink.Writes);
        return (outbound, sink, membership);
    }

    private static void Release(RecordingSink sink)
    {
        var hold = sink.Hold!;
        sink.Hold = null;
        hold.SetResult();
    }

    [Fact]
    public void A_message_for_an_idle_connection_is_written_at_once_on_the_callers_thread()
    {
        var outbound = NewOutbound();
        var sink = new RecordingSink();
        outbound.Attach(sink);
        var membership = NewMembership();

        outbound.EnqueueVoice(membership, 9, Frame(1));
        outbound.EnqueueText(Text("hi"));

        Assert.Equal(2, sink.Writes.Count);
        Assert.All(sink.WriterThreads, t => Assert.Equal(Environment.CurrentManagedThreadId, t));
        Assert.Equal(9u, sink.Writes[0].Single().Speaker);
        Assert.Equal(0, outbound.Count);
        Assert.Equal(2, sink.Idles);
        Assert.Equal(1, stats.FramesDelivered.Value);
    }

    [Fact]
    public void What_was_queued_before_the_socket_was_attached_goes_first()
    {
        var outbound = NewOutbound();
        outbound.EnqueueText(Text("welcome"));
        var sink = new RecordingSink();
        outbound.Attach(sink);
        outbound.EnqueueText(Text("next"));

        Assert.Equal(["welcome", "next"], sink.All().Select(i => System.Text.Encoding.UTF8.GetString(i.Bytes)));
    }

    [Fact]
    public async Task Messages_queued_during_a_write_leave_together_in_the_next_one_text_first()
    {
        var (outbound, sink, membership) = Busy();
        outbound.EnqueueVoice(membership, 1, Frame(1));
        outbound.EnqueueVoice(membership, 1, Frame(2));
        outbound.EnqueueText(Text("a"));
        Assert.Single(sink.Writes);

        Release(sink);
        await WaitUntil(() => outbound.Count == 0);

        var second = sink.Writes[1];
        Assert.Equal(3, second.Count);
        Assert.Null(second[0].Membership);
        Assert.Equal([Frame(1), Frame(2)], second.Skip(1).Select(i => i.Bytes));
    }

    [Fact]
    public void Queued_bytes_are_handed_to_the_writer_as_they_are_without_a_copy()
    {
        var outbound = NewOutbound();
        var sink = new RecordingSink();
        outbound.Attach(sink);
        var payload = Frame(5);
        outbound.EnqueueVoice(NewMembership(), 1, payload);
        Assert.Same(payload, sink.All().Single().Bytes);
    }

    [Fact]
    public async Task A_full_voice_queue_drops_its_oldest_frames_and_counts_them()
    {
        var (outbound, sink, membership) = Busy(voiceFrames: 4);
        for (int i = 0; i < 6; i++) outbound.EnqueueVoice(membership, 1, Frame(i));
        Assert.Equal(2, stats.FramesDroppedSlowReceiver.Value);

        Release(sink);
        await WaitUntil(() => outbound.Count == 0);
        Assert.Equal([Frame(2), Frame(3), Frame(4), Frame(5)], sink.Writes[1].Select(i => i.Bytes));
    }

    [Fact]
    public async Task Dropping_voice_never_drops_text()
    {
        var (outbound, sink, membership) = Busy(voiceFrames: 2);
        outbound.EnqueueText(Text("keep"));
        for (int i = 0; i < 5; i++) outbound.EnqueueVoice(membership, 1, Frame(i));
        Release(sink);
        await WaitUntil(() => outbound.Count == 0);
        Assert.Contains(sink.All(), i => i.Membership is null);
    }

    [Fact]
    public void Unasked_for_text_past_the_limit_closes_with_1013_but_answers_never_do()
    {
        var (outbound, _, _) = Busy(textMessages: 3);
        for (int i = 0; i < 5; i++) Assert.True(outbound.EnqueueText(Text($"answer {i}"), answer: true));
        Assert.Null(outbound.CloseRequest);

        Assert.False(outbound.EnqueueText(Text("event")));
        Assert.Equal(1013, outbound.CloseRequest!.Value.Code);
        Assert.True(outbound.Closing.IsCompleted);
    }

    [Fact]
    public async Task The_reader_pauses_while_more_than_half_the_text_limit_is_pending()
    {
        var (outbound, sink, _) = Busy(textMessages: 4);
        outbound.EnqueueText(Text("1"), answer: true);
        outbound.EnqueueText(Text("2"), answer: true);
        Assert.False(outbound.ReadPaused);
        outbound.EnqueueText(Text("3"), answer: true);
        Assert.True(outbound.ReadPaused);
        var resumed = outbound.TextDrained.WaitAsync().AsTask();

        Release(sink);
        await resumed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(outbound.ReadPaused);
    }

    [Fact]
    public void Once_a_close_is_asked_for_nothing_more_is_queued_or_written()
    {
        var outbound = NewOutbound();
        var sink = new RecordingSink();
        outbound.Attach(sink);
        outbound.RequestClose(1001, "going away");
        outbound.RequestClose(1000, "later");

        Assert.False(outbound.EnqueueText(Text("x"), answer: true));
        outbound.EnqueueVoice(NewMembership(), 1, Frame(1));
        Assert.Empty(sink.Writes);
        Assert.Equal((1001, "going away"), outbound.CloseRequest);
    }

    [Fact]
    public void A_frame_of_a_membership_that_left_is_not_written()
    {
        var (outbound, sink, membership) = Busy();
        outbound.EnqueueVoice(membership, 1, Frame(1));
        membership.Deactivate();
        Release(sink);
        Assert.True(SpinWait.SpinUntil(() => outbound.Count == 0, TimeSpan.FromSeconds(10)));
        Assert.Single(sink.Writes);
    }

    [Fact]
    public async Task Stop_writing_waits_for_the_write_in_progress()
    {
        var (outbound, sink, _) = Busy();
        var stopped = outbound.StopWritingAsync();
        await Task.Delay(50);
        Assert.False(stopped.IsCompleted);
        Release(sink);
        await stopped.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void A_write_that_fails_closes_the_connection_without_throwing_at_the_caller()
    {
        var outbound = NewOutbound();
        outbound.Attach(new RecordingSink { Fail = new IOException("reset") });
        outbound.EnqueueVoice(NewMembership(), 1, Frame(1));
        Assert.Equal(Outbound.InternalError, outbound.CloseRequest!.Value.Code);
    }

    [Fact]
    public async Task A_receiver_whose_voice_queue_stays_full_past_the_stuck_timeout_is_closed_with_1013()
    {
        var stuckAfter = TimeSpan.FromMilliseconds(50);
        var (outbound, _, membership) = Busy(voiceFrames: 4, stuckAfter: stuckAfter);
        for (int i = 0; i < 5; i++) outbound.EnqueueVoice(membership, 1, Frame(i));
        var fullSince = Stopwatch.StartNew();
        Assert.Null(outbound.CloseRequest);

        while (outbound.CloseRequest is null && fullSince.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(10);
            outbound.EnqueueVoice(membership, 1, Frame(5));
        }

        var close = Assert.NotNull(outbound.CloseRequest);
        Assert.Equal(1013, close.Code);
        Assert.True(fullSince.Elapsed >= stuckAfter, $"closed after {fullSince.Elapsed}, before the stuck timeout");
        // The frames of a receiver that is being closed are of no use to anyone.
        Assert.Equal(0, outbound.Count);
    }

    [Fact]
    public async Task A_receiver_that_takes_frames_is_not_stuck_even_if_its_queue_fills_again()
    {
        var (outbound, sink, membership) = Busy(voiceFrames: 4, stuckAfter: TimeSpan.FromMilliseconds(50));
        for (int i = 0; i < 5; i++) outbound.EnqueueVoice(membership, 1, Frame(i));
        await Task.Delay(100);
        // The write completes and takes the queue; the next one blocks again and the queue overflows at once.
        var next = new TaskCompletionSource();
        var hold = sink.Hold!;
        sink.Hold = next;
        hold.SetResult();
        await WaitUntil(() => outbound.Count == 0);
        for (int i = 0; i < 6; i++) outbound.EnqueueVoice(membership, 1, Frame(i));

        Assert.Null(outbound.CloseRequest);
        Assert.Equal(4, outbound.Count);
    }

    [Fact]
    public void The_default_limits_are_those_of_the_contract()
    {
        var limits = TestSettings.Limits;
        Assert.Equal(256, limits.VoiceQueueFrames);
        Assert.Equal(256, limits.TextQueueMessages);
        Assert.Equal(TimeSpan.FromSeconds(10), limits.StuckReceiverTimeout);
        Assert.Equal(20, limits.TextMessagesPerSecond);
        Assert.Equal(60, limits.TextMessageBurst);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(10)) throw new TimeoutException("condition never held");
            await Task.Delay(5);
        }
    }
}
