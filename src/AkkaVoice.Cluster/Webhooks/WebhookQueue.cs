namespace AkkaVoice.Cluster.Webhooks;

/// <summary>What became of one event at one URL.</summary>
public enum WebhookOutcome
{
    Delivered,
    Retried,
    Dropped,
}

/// <summary>
/// The events waiting for one URL on one node, and the rules of PROTOCOL section 10 for them, without I/O or
/// actors (the dispatcher drives it, the unit tests drive it with their own clock): one line per room, whose
/// events go one at a time in order, so a retry holds back only that room's later events; at most
/// <c>concurrency</c> rooms in flight; backoff 1 s, 2 s, 4 s ... at most <c>max-retry-interval</c> apart; an event
/// older than <c>give-up-after</c> that fails again is dropped, with its room's other events that old; past
/// <c>queue-limit</c> the oldest waiting event is dropped. Times are milliseconds of a monotonic clock.
/// </summary>
public sealed class WebhookQueue(Uri url, WebhookSettings settings)
{
    /// <summary>An event waiting for this URL.</summary>
    public sealed class Pending
    {
        internal Pending(WebhookEvent e, long enqueuedAt, Line line)
        {
            Event = e;
            EnqueuedAt = enqueuedAt;
            Line = line;
        }

        public WebhookEvent Event { get; }
        public long EnqueuedAt { get; }
        internal Line Line { get; }
        internal LinkedListNode<Pending>? Age { get; set; }

        /// <summary>Dropped (queue full) while its attempt was in flight: the answer changes nothing.</summary>
        internal bool Evicted { get; set; }
    }

    /// <summary>One room's events, oldest first, and whether its head is in flight or waiting for a retry.</summary>
    internal sealed class Line(string room)
    {
        public string Room { get; } = room;
        public Queue<Pending> Events { get; } = new();
        public Pending? Sending { get; set; }
        public bool Scheduled { get; set; }
        public int Failures { get; set; }
    }

    private readonly Dictionary<string, Line> lines = new(StringComparer.Ordinal);
    private readonly LinkedList<Pending> byAge = new();
    private readonly Queue<Line> ready = new();
    private readonly PriorityQueue<Line, long> waiting = new();
    private int inFlight;

    public Uri Url { get; } = url;

    /// <summary>Events waiting, in flight included.</summary>
    public int Count => byAge.Count;

    /// <summary>When the next retry is due, or null when none waits.</summary>
    public long? NextRetryAt => waiting.TryPeek(out _, out var at) ? at : null;

    /// <summary>Queues <paramref name="e"/>; returns the event dropped to make room for it, if the queue was full.</summary>
    public WebhookEvent? Enqueue(WebhookEvent e, long now)
    {
        WebhookEvent? dropped = null;
        if (byAge.Count >= settings.QueueLimit) dropped = DropOldest();
        if (!lines.TryGetValue(e.Room, out var line))
        {
            lines.Add(e.Room, line = new Line(e.Room));
        }
        var pending = new Pending(e, now, line);
        pending.Age = byAge.AddLast(pending);
        line.Events.Enqueue(pending);
        if (line.Sending is null && !line.Scheduled) MakeReady(line);
        return dropped;
    }

    /// <summary>The events to send now: the head of each room that is due, while fewer than <c>concurrency</c> are in flight.</summary>
    public List<Pending> TakeReady(long now)
    {
        while (waiting.TryPeek(out var line, out var at) && at <= now)
        {
            waiting.Dequeue();
            line.Scheduled = false;
            MakeReady(line);
        }
        var send = new List<Pending>();
        while (inFlight < settings.Concurrency && ready.TryDequeue(out var line))
        {
            line.Scheduled = false;
            if (!line.Events.TryPeek(out var head))
            {
                Forget(line);
                continue;
            }
            line.Sending = head;
            inFlight++;
            send.Add(head);
        }
        return send;
    }

    /// <summary>
    /// The answer to an attempt: what became of its event, and of any of the room's later events dropped with it
    /// (too old to send). Empty for an event already dropped because the queue was full.
    /// </summary>
    public List<(WebhookEvent Event, WebhookOutcome Outcome)> Complete(Pending sent, bool delivered, long now)
    {
        var line = sent.Line;
        inFlight--;
        line.Sending = null;
        var outcomes = new List<(WebhookEvent, WebhookOutcome)>();
        if (sent.Evicted)
        {
            line.Failures = 0;
        }
        else if (delivered)
        {
            Remove(line);
            line.Failures = 0;
            outcomes.Add((sent.Event, WebhookOutcome.Delivered));
        }
        else if (now - sent.EnqueuedAt >= settings.GiveUpAfter.TotalMilliseconds)
        {
            // Given up: this event, and every later one of the room that is as old (each had its 15 minutes).
            Remove(line);
            outcomes.Add((sent.Event, WebhookOutcome.Dropped));
            while (line.Events.TryPeek(out var next) && now - next.EnqueuedAt >= settings.GiveUpAfter.TotalMilliseconds)
            {
                Remove(line);
                outcomes.Add((next.Event, WebhookOutcome.Dropped));
            }
            line.Failures = 0;
        }
        else
        {
            line.Failures++;
            outcomes.Add((sent.Event, WebhookOutcome.Retried));
            line.Scheduled = true;
            waiting.Enqueue(line, now + (long)RetryDelay(line.Failures).TotalMilliseconds);
            return outcomes;
        }
        if (line.Events.Count > 0) MakeReady(line);
        else Forget(line);
        return outcomes;
    }

    /// <summary>The wait before retry number <paramref name="failures"/>: first-retry doubled each time, capped.</summary>
    public TimeSpan RetryDelay(int failures)
    {
        var ms = settings.FirstRetry.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 30));
        return TimeSpan.FromMilliseconds(Math.Min(ms, settings.MaxRetryInterval.TotalMilliseconds));
    }

    private WebhookEvent DropOldest()
    {
        // The oldest event overall is the head of its room's line: each line is in arrival order.
        var oldest = byAge.First!.Value;
        var line = oldest.Line;
        Remove(line);
        if (ReferenceEquals(line.Sending, oldest)) oldest.Evicted = true;
        else line.Failures = 0;
        return oldest.Event;
    }

    private void Remove(Line line)
    {
        var head = line.Events.Dequeue();
        byAge.Remove(head.Age!);
        head.Age = null;
    }

    private void MakeReady(Line line)
    {
        line.Scheduled = true;
        ready.Enqueue(line);
    }

    /// <summary>A line with no event, none in flight and no retry pending goes; the next event of its room starts a new one.</summary>
    private void Forget(Line line)
    {
        if (line.Events.Count == 0 && line.Sending is null && !line.Scheduled) lines.Remove(line.Room);
    }
}
