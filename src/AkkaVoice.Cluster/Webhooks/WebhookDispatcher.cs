using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Akka;
using Akka.Actor;
using Akka.Event;
using AkkaVoice.Cluster.Rooms;

namespace AkkaVoice.Cluster.Webhooks;

/// <summary>
/// The node's webhook sender (PROTOCOL section 10): the rooms homed on this node tell it their events and never
/// wait; it gives each an id, encodes it once, and posts it to every URL from its own HttpClient, off the data
/// plane. Each URL has its own <see cref="WebhookQueue"/> (order per room, retries, bounds); attempts run as tasks
/// whose answers come back as messages. Events stay with the node that queued them: when a room moves, its new
/// home sends its later events, so a receiver that was failing can get the old home's backlog after them.
/// </summary>
public sealed class WebhookDispatcher : ReceiveActor, IWithTimers
{
    public const string Name = "webhooks";

    private sealed record Answer(WebhookQueue Queue, WebhookQueue.Pending Sent, bool Delivered, string? Failure);

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    /// <summary>Asks for an answer once every queue is empty (or at once if they are): a stopping node's flush.</summary>
    public sealed class Flush
    {
        public static readonly Flush Instance = new();
    }

    private readonly WebhookSettings settings;
    private readonly NodeStats stats;
    private readonly string node;
    private readonly HttpClient http;
    private readonly WebhookQueue[] queues;
    private readonly HashSet<WebhookQueue> failing = [];
    private readonly List<IActorRef> flushing = [];
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly ILoggingAdapter log = Context.GetLogger();
    private readonly string idPrefix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
    private long nextId;

    public WebhookDispatcher(WebhookSettings settings, NodeStats stats, string node)
    {
        this.settings = settings;
        this.stats = stats;
        this.node = node;
        queues = settings.Urls.Select(u => new WebhookQueue(u, settings)).ToArray();
        http = new HttpClient(new SocketsHttpHandler
        {
            // A 3xx is an answer that is not a 2xx: a failure, retried, never followed.
            AllowAutoRedirect = false,
            ConnectTimeout = settings.AttemptTimeout,
            MaxConnectionsPerServer = settings.Concurrency,
            // DNS changes reach long-lived connections.
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            MaxResponseHeadersLength = 16,
            UseCookies = false,
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
            // The body of an answer is never read (only its status), and could not be buffered past this.
            MaxResponseContentBufferSize = 64 * 1024,
        };

        Receive<IRoomEvent>(OnEvent);
        Receive<Answer>(OnAnswer);
        Receive<Tick>(_ => Pump());
        Receive<Flush>(_ =>
        {
            flushing.Add(Sender);
            AnswerFlushes();
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(WebhookSettings settings, NodeStats stats, string node) =>
        Akka.Actor.Props.Create(() => new WebhookDispatcher(settings, stats, node));

    protected override void PreStart() =>
        log.Info("Webhooks: sending every room event of this node to {Urls}", string.Join(", ", settings.Urls.Select(WebhookSettings.Shown)));

    protected override void PostStop()
    {
        http.Dispose();
        var left = queues.Sum(q => q.Count);
        stats.WebhookQueue.Add(-left);
        if (left > 0) log.Warning("Webhooks: {Events} events still queued were not delivered (the node stopped)", left);
    }

    private long Now => clock.ElapsedMilliseconds;

    private void OnEvent(IRoomEvent e)
    {
        var encoded = WebhookEvent.Encode(e, $"{idPrefix}-{nextId++:x}", node);
        foreach (var queue in queues)
        {
            stats.WebhookQueue.Increment();
            if (queue.Enqueue(encoded, Now) is { } dropped)
            {
                stats.WebhookQueue.Decrement();
                Count(dropped, WebhookOutcome.Dropped);
                log.Warning("Webhooks: queue for {Url} full ({Limit} events); dropped the oldest, {Event} of room {Room}",
                    WebhookSettings.Shown(queue.Url), settings.QueueLimit, dropped.Event, dropped.Room);
            }
        }
        Pump();
    }

    private void OnAnswer(Answer a)
    {
        var outcomes = a.Queue.Complete(a.Sent, a.Delivered, Now);
        foreach (var (e, outcome) in outcomes)
        {
            Count(e, outcome);
            if (outcome != WebhookOutcome.Retried) stats.WebhookQueue.Decrement();
            if (outcome == WebhookOutcome.Dropped)
                log.Warning("Webhooks: gave up on {Event} of room {Room} for {Url} after {Minutes} minutes", e.Event, e.Room,
                    WebhookSettings.Shown(a.Queue.Url), settings.GiveUpAfter.TotalMinutes);
        }
        // One line when a URL starts failing and one when it delivers again, not one per attempt.
        if (a.Delivered && failing.Remove(a.Queue))
            log.Info("Webhooks: {Url} delivers again", WebhookSettings.Shown(a.Queue.Url));
        else if (!a.Delivered && !a.Sent.Evicted && failing.Add(a.Queue))
        {
            log.Warning("Webhooks: {Url} failed ({Failure}); retrying with backoff", WebhookSettings.Shown(a.Queue.Url), a.Failure);
        }
        Pump();
    }

    private void Pump()
    {
        var now = Now;
        long? next = null;
        foreach (var queue in queues)
        {
            foreach (var pending in queue.TakeReady(now)) SendAsync(queue, pending).PipeTo(Self);
            if (queue.NextRetryAt is { } at && (next is null || at < next)) next = at;
        }
        if (next is { } due) Timers.StartSingleTimer(Tick.Instance, Tick.Instance, TimeSpan.FromMilliseconds(Math.Max(0, due - now)));
        else Timers.Cancel(Tick.Instance);
        AnswerFlushes();
    }

    private void AnswerFlushes()
    {
        if (flushing.Count == 0 || queues.Any(q => q.Count > 0)) return;
        foreach (var asker in flushing) asker.Tell(Done.Instance);
        flushing.Clear();
    }

    private void Count(WebhookEvent e, WebhookOutcome outcome)
    {
        var index = Array.IndexOf(WebhookEvent.Names, e.Event);
        if (index >= 0) stats.Webhooks[index, (int)outcome].Increment();
    }

    /// <summary>One attempt, on the thread pool: only immutable data is touched here, the answer goes back as a message.</summary>
    private async Task<Answer> SendAsync(WebhookQueue queue, WebhookQueue.Pending pending)
    {
        var body = pending.Event.Body;
        using var request = new HttpRequestMessage(HttpMethod.Post, queue.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("AkkaVoice-Signature",
            WebhookEvent.Signature(settings.Secret, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), body));
        using var timeout = new CancellationTokenSource(settings.AttemptTimeout);
        try
        {
            // Headers only: the status is the answer, a body (however large) is never read.
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            var code = (int)response.StatusCode;
            return new Answer(queue, pending, code is >= 200 and < 300, code is >= 200 and < 300 ? null : $"HTTP {code}");
        }
        catch (OperationCanceledException)
        {
            return new Answer(queue, pending, false, $"no answer within {settings.AttemptTimeout.TotalSeconds} s");
        }
        catch (HttpRequestException e)
        {
            return new Answer(queue, pending, false, e.HttpRequestError.ToString());
        }
        catch (Exception e) when (e is InvalidOperationException or IOException)
        {
            return new Answer(queue, pending, false, e.GetType().Name);
        }
    }
}
