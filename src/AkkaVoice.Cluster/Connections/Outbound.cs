using System.Diagnostics;
using AkkaVoice.Cluster.Hub;
using AkkaVoice.Protocol;

namespace AkkaVoice.Cluster.Connections;

/// <summary>What the writer takes from the queue: a voice frame (Membership set) or a text message.</summary>
public readonly record struct OutboundItem(Membership? Membership, uint Speaker, byte[] Bytes);

/// <summary>Where a connection's output goes: the socket (frames laid into one buffer, sent in one write) or a test's reader.</summary>
public interface IOutboundSink
{
    /// <summary>Adds one message to the pending write; false when it does not fit (flush, then add it again).</summary>
    bool TryAdd(in OutboundItem item);

    /// <summary>Writes what was added. May complete later (the peer's window is full); nothing is added meanwhile.</summary>
    ValueTask FlushAsync();

    /// <summary>The queue is empty: give back any buffer, so an idle connection holds none.</summary>
    void Idle();
}

/// <summary>
/// A connection's output (PROTOCOL.md section 4), with one writer at a time. A message for a connection
/// that is not writing is written at once, on the caller's thread (the socket reader of a local speaker,
/// the relay, the hub): no thread hop per delivery. While a write is in progress, messages queue, bounded
/// (voice drops the oldest; a receiver whose voice queue stays full for the stuck timeout, or that has the
/// text limit of unasked-for text pending, is closed with 1013), and the writer takes everything waiting
/// in its next write. Text goes before voice. Answers to the connection's own requests never close it:
/// the socket reader stops reading while more than half the text limit is pending instead (flow control).
/// </summary>
public sealed class Outbound
{
    /// <summary>WebSocket close code 1013, "try again later".</summary>
    public const int TryAgainLater = 1013;

    /// <summary>WebSocket close code 1011: the server could not go on with the connection.</summary>
    public const int InternalError = 1011;

    private readonly object gate = new();
    private readonly Queue<OutboundItem> voice = new(4);
    private readonly Queue<byte[]> text = new(2);
    private readonly int voiceLimit, textLimit;
    private readonly long stuckTicks;
    private readonly NodeStats stats;
    private readonly TaskCompletionSource closing = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IOutboundSink? sink;
    private TaskCompletionSource? stopped;
    private bool writing;
    private long fullSince;

    public Outbound(Limits limits, NodeStats stats)
    {
        voiceLimit = limits.VoiceQueueFrames;
        textLimit = limits.TextQueueMessages;
        stuckTicks = (long)(limits.StuckReceiverTimeout.TotalSeconds * Stopwatch.Frequency);
        this.stats = stats;
    }

    /// <summary>The close code and reason the connection should close with, once one is asked for.</summary>
    public (int Code, string Reason)? CloseRequest { get; private set; }

    /// <summary>Completes when a close is asked for: the socket host then stops the writer and closes.</summary>
    public Task Closing => closing.Task;

    /// <summary>Set when the text backlog falls to half the limit or less, and on close: the reader waits on it while paused.</summary>
    public AsyncSignal TextDrained { get; } = new();

    /// <summary>True while more than half the text limit is pending: the reader stops reading the connection.</summary>
    public bool ReadPaused
    {
        get { lock (gate) return text.Count > textLimit / 2 && CloseRequest is null; }
    }

    /// <summary>Starts writing to <paramref name="output"/>; what was queued before goes first.</summary>
    public void Attach(IOutboundSink output)
    {
        lock (gate)
        {
            sink = output;
            if (writing || (text.Count == 0 && voice.Count == 0)) return;
            writing = true;
        }
        _ = PumpAsync();
    }

    /// <summary>
    /// Queues an encoded text message; text is never dropped. <paramref name="answer"/> marks an answer to the
    /// connection's own request, which never closes it. False when the connection is closing, or when this
    /// message found the unasked-for text limit reached and so closed it.
    /// </summary>
    public bool EnqueueText(byte[] json, bool answer = false)
    {
        lock (gate)
        {
            if (CloseRequest is not null) return false;
            if (!answer && text.Count >= textLimit)
            {
                MarkClose(TryAgainLater, "outbound text queue full");
                return false;
            }
            text.Enqueue(json);
            if (!StartWriting()) return true;
        }
        _ = PumpAsync();
        return true;
    }

    /// <summary>Queues a voice frame, dropping the oldest one when full.</summary>
    public void EnqueueVoice(Membership membership, uint speaker, byte[] payload)
    {
        lock (gate)
        {
            if (CloseRequest is not null) return;
            if (voice.Count >= voiceLimit)
            {
                voice.Dequeue();
                stats.FramesDroppedSlowReceiver.Increment();
                long now = Stopwatch.GetTimestamp();
                if (fullSince == 0) fullSince = now;
                else if (now - fullSince > stuckTicks)
                {
                    voice.Clear();
                    MarkClose(TryAgainLater, "receiver too slow");
                    return;
                }
            }
            voice.Enqueue(new OutboundItem(membership, speaker, payload));
            if (!StartWriting()) return;
        }
        _ = PumpAsync();
    }

    /// <summary>Asks the socket host to close the connection with <paramref name="code"/>.</summary>
    public void RequestClose(int code, string reason)
    {
        lock (gate) MarkClose(code, reason);
    }

    /// <summary>Completes once no write is in progress and none will start again: the close frame may go.</summary>
    public Task StopWritingAsync()
    {
        lock (gate)
        {
            MarkClose((int)System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "closing");
            if (!writing) return Task.CompletedTask;
            stopped ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return stopped.Task;
        }
    }

    /// <summary>Messages waiting, for tests and diagnostics.</summary>
    public int Count
    {
        get { lock (gate) return text.Count + voice.Count; }
    }

    /// <summary>Under the lock: claims the writer's role when nobody writes; true when the caller must pump.</summary>
    private bool StartWriting()
    {
        if (writing || sink is null) return false;
        writing = true;
        return true;
    }

    private void MarkClose(int code, string reason)
    {
        if (CloseRequest is not null) return;
        CloseRequest = (code, reason);
        closing.TrySetResult();
        TextDrained.Set();
    }

    /// <summary>
    /// Writes until the queue is empty. Runs on the thread that found the connection idle, and goes on
    /// asynchronously only when a write does not complete at once (the peer's TCP window is full).
    /// </summary>
    private async ValueTask PumpAsync()
    {
        var output = sink!;
        try
        {
            while (true)
            {
                int delivered;
                lock (gate)
                {
                    if (!Fill(output, out delivered))
                    {
                        writing = false;
                        output.Idle();
                        stopped?.TrySetResult();
                        return;
                    }
                }
                if (delivered > 0) stats.FramesDelivered.Add(delivered);
                var flush = output.FlushAsync();
                if (!flush.IsCompletedSuccessfully) await flush;
            }
        }
        catch (Exception e)
        {
            // The socket is gone or broken: nothing more can be written to it.
            lock (gate)
            {
                MarkClose(InternalError, $"write failed: {e.GetType().Name}");
                writing = false;
                output.Idle();
                stopped?.TrySetResult();
            }
        }
    }

    /// <summary>Under the lock: moves waiting messages into the sink until it is full; false when there was nothing to write.</summary>
    private bool Fill(IOutboundSink output, out int delivered)
    {
        delivered = 0;
        if (CloseRequest is not null) return false;
        bool added = false;
        while (text.TryPeek(out var json))
        {
            if (!output.TryAdd(new OutboundItem(null, 0, json)) && added) return true;
            text.Dequeue();
            added = true;
        }
        // Only taking text can end a pause of the reader; a write of voice alone wakes nobody.
        if (added && text.Count <= textLimit / 2) TextDrained.Set();
        while (voice.TryPeek(out var item))
        {
            if (item.Membership is { Active: false })
            {
                voice.Dequeue();
                continue;
            }
            if (!output.TryAdd(item) && added) return true;
            voice.Dequeue();
            fullSince = 0;
            added = true;
            delivered++;
        }
        return added;
    }
}
