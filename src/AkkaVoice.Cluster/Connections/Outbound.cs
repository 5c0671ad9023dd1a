using AkkaVoice.Protocol;

namespace AkkaVoice.Cluster.Connections;

/// <summary>What the socket writer takes from the queue: a voice frame (Membership set) or a text message.</summary>
public readonly record struct OutboundItem(Membership? Membership, uint Speaker, byte[] Bytes);

/// <summary>
/// A connection's bounded outbound queues (PROTOCOL.md section 4), drained by one socket writer.
/// Voice frames past the limit drop the oldest frame; a receiver whose voice queue stays full for the
/// stuck timeout, or whose text queue fills up, is asked to close with 1013. Text goes before voice.
/// </summary>
public sealed class Outbound
{
    /// <summary>WebSocket close code 1013, "try again later".</summary>
    public const int TryAgainLater = 1013;

    private readonly object gate = new();
    private readonly Queue<OutboundItem> voice = new(4);
    private readonly Queue<byte[]> text = new(2);
    private readonly int voiceLimit, textLimit;
    private readonly long stuckTicks;
    private readonly NodeStats stats;
    private long fullSince;

    public Outbound(Limits limits, NodeStats stats)
    {
        voiceLimit = limits.VoiceQueueFrames;
        textLimit = limits.TextQueueMessages;
        stuckTicks = (long)(limits.StuckReceiverTimeout.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        this.stats = stats;
    }

    /// <summary>Wakes the writer; set whenever something is queued or a close is asked for.</summary>
    public AsyncSignal Signal { get; } = new();

    /// <summary>The close code and reason the writer should close with, once one is asked for.</summary>
    public (int Code, string Reason)? CloseRequest { get; private set; }

    /// <summary>Called once, when the first close is asked for (the socket host arms its abort timer).</summary>
    public Action? CloseRequested { get; set; }

    /// <summary>Queues an encoded text message; never drops it. False when the queue was full and the connection must close.</summary>
    public bool EnqueueText(byte[] json)
    {
        lock (gate)
        {
            if (CloseRequest is not null) return false;
            if (text.Count >= textLimit)
            {
                MarkClose(TryAgainLater, "outbound text queue full");
                return false;
            }
            text.Enqueue(json);
        }
        Signal.Set();
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
                long now = System.Diagnostics.Stopwatch.GetTimestamp();
                if (fullSince == 0) fullSince = now;
                else if (now - fullSince > stuckTicks)
                {
                    voice.Clear();
                    MarkClose(TryAgainLater, "receiver too slow");
                    return;
                }
            }
            voice.Enqueue(new OutboundItem(membership, speaker, payload));
        }
        Signal.Set();
    }

    /// <summary>Asks the writer to close the socket with <paramref name="code"/>.</summary>
    public void RequestClose(int code, string reason)
    {
        lock (gate) MarkClose(code, reason);
    }

    private void MarkClose(int code, string reason)
    {
        if (CloseRequest is not null) return;
        CloseRequest = (code, reason);
        Signal.Set();
        CloseRequested?.Invoke();
    }

    /// <summary>Takes the next item, text first.</summary>
    public bool TryDequeue(out OutboundItem item)
    {
        lock (gate)
        {
            if (text.TryDequeue(out var json))
            {
                item = new OutboundItem(null, 0, json);
                return true;
            }
            if (voice.TryDequeue(out item))
            {
                fullSince = 0;
                return true;
            }
            return false;
        }
    }

    /// <summary>Items waiting, for tests and diagnostics.</summary>
    public int Count
    {
        get { lock (gate) return text.Count + voice.Count; }
    }
}
