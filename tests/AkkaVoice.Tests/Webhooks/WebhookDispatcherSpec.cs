using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using AkkaVoice.Cluster;
using AkkaVoice.Cluster.Rooms;
using AkkaVoice.Cluster.Webhooks;
using Xunit;

namespace AkkaVoice.Tests.Webhooks;

/// <summary>The dispatcher against real HTTP receivers on loopback (HttpListener), with short retry timings.</summary>
public sealed class WebhookDispatcherSpec() : TestKit("akka.loglevel = INFO")
{
    private const string Fast = """
        akkavoice.webhooks { attempt-timeout = 3s, first-retry = 50ms, max-retry-interval = 200ms }
        """;

    /// <summary>An HTTP receiver whose answer to each request <see cref="Answer"/> decides (it may also never answer).</summary>
    private sealed class Receiver : IDisposable
    {
        private readonly HttpListener listener = new();
        private readonly CancellationTokenSource stop = new();

        public Receiver(Func<int, HttpListenerContext, Task> answer)
        {
            Port = FreePort();
            listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            listener.Start();
            _ = Task.Run(async () =>
            {
                int n = 0;
                while (!stop.IsCancellationRequested)
                {
                    HttpListenerContext ctx;
                    try
                    {
                        ctx = await listener.GetContextAsync();
                    }
                    catch (Exception) when (stop.IsCancellationRequested)
                    {
                        return;
                    }
                    var body = await new StreamReader(ctx.Request.InputStream).ReadToEndAsync();
                    Requests.Enqueue((body, ctx.Request.Headers["AkkaVoice-Signature"] ?? "", ctx.Request.Url!.AbsolutePath));
                    var count = Interlocked.Increment(ref n);
                    _ = Task.Run(async () =>
                    {
                        try
                        {
                            await answer(count, ctx);
                        }
                        catch (Exception)
                        {
                            // The dispatcher gave up on the request first.
                        }
                    });
                }
            });
        }

        public int Port { get; }
        public string Url => $"http://127.0.0.1:{Port}/hook";
        public ConcurrentQueue<(string Body, string Signature, string Path)> Requests { get; } = new();

        public void Dispose()
        {
            stop.Cancel();
            listener.Close();
        }
    }

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    private static Task Status(HttpListenerContext ctx, int code)
    {
        ctx.Response.StatusCode = code;
        ctx.Response.Close();
        return Task.CompletedTask;
    }

    private (IActorRef Dispatcher, NodeStats Stats) Start(string urls, string? overrides = Fast)
    {
        var stats = new NodeStats();
        var settings = WebhookQueueTests.Settings(overrides, urls);
        return (Sys.ActorOf(WebhookDispatcher.Props(settings, stats, "akka.tcp://akkavoice@127.0.0.1:4053")), stats);
    }

    private static long Count(NodeStats stats, WebhookOutcome outcome) =>
        Enumerable.Range(0, WebhookEvent.Names.Length).Sum(e => stats.Webhooks[e, (int)outcome].Value);

    private static IEnumerable<IRoomEvent> Churn(string room, int members)
    {
        yield return new RoomEvents.Started(room, 1);
        for (uint m = 1; m <= members; m++)
        {
            yield return new RoomEvents.MemberJoined(room, 2, m, "u" + m, "member");
            yield return new RoomEvents.MemberLeft(room, 3, m, "u" + m, "left");
        }
        yield return new RoomEvents.Finished(room, 4, "empty");
    }

    [Fact]
    public void A_receiver_that_fails_for_a_while_then_recovers_gets_every_event_once_in_order_per_room()
    {
        using var receiver = new Receiver((n, ctx) => Status(ctx, n <= 30 ? 503 : 204));
        var (dispatcher, stats) = Start(receiver.Url);
        string[] rooms = ["a", "b", "c", "d"];
        foreach (var room in rooms)
        foreach (var e in Churn(room, 10)) dispatcher.Tell(e);

        AwaitAssert(() => Assert.Equal(4 * 22, Count(stats, WebhookOutcome.Delivered)), TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(100));
        Assert.True(Count(stats, WebhookOutcome.Retried) >= 30);
        Assert.Equal(0, Count(stats, WebhookOutcome.Dropped));
        Assert.Equal(0, stats.WebhookQueue.Value);

        // What the receiver accepted (requests after the first 30 failures), per room, in the order it got them.
        var accepted = receiver.Requests.Skip(30).Select(r => JsonDocument.Parse(r.Body).RootElement).ToList();
        Assert.Equal(accepted.Count, accepted.Select(e => e.GetProperty("id").GetString()).Distinct().Count());
        foreach (var room in rooms)
        {
            var got = accepted.Where(e => e.GetProperty("room").GetString() == room)
                .Select(e => e.GetProperty("event").GetString() + (e.TryGetProperty("member", out var m) ? m.GetUInt32().ToString() : ""));
            var sent = Churn(room, 10).Select(e => e.Event + e switch
            {
                RoomEvents.MemberJoined j => j.Member.ToString(),
                RoomEvents.MemberLeft l => l.Member.ToString(),
                _ => "",
            });
            Assert.Equal(sent, got);
        }
    }

    [Fact]
    public void Every_request_is_signed_over_its_time_and_body()
    {
        using var receiver = new Receiver((_, ctx) => Status(ctx, 200));
        var (dispatcher, stats) = Start(receiver.Url);
        dispatcher.Tell(new RoomEvents.Started("r", 1));
        AwaitAssert(() => Assert.Equal(1, Count(stats, WebhookOutcome.Delivered)), TimeSpan.FromSeconds(5));
        Assert.True(receiver.Requests.TryPeek(out var request));
        var t = long.Parse(request.Signature.Split(',')[0]["t=".Length..]);
        Assert.InRange(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - t, 0, 60);
        Assert.Equal(WebhookEvent.Signature(Encoding.UTF8.GetBytes(new string('s', 32)), t, Encoding.UTF8.GetBytes(request.Body)), request.Signature);
    }

    [Fact]
    public void A_redirect_is_a_failure_and_is_not_followed()
    {
        using var target = new Receiver((_, ctx) => Status(ctx, 200));
        using var receiver = new Receiver((_, ctx) =>
        {
            ctx.Response.RedirectLocation = target.Url;
            return Status(ctx, 307);
        });
        var (dispatcher, stats) = Start(receiver.Url);
        dispatcher.Tell(new RoomEvents.Started("r", 1));
        AwaitAssert(() => Assert.True(Count(stats, WebhookOutcome.Retried) >= 2), TimeSpan.FromSeconds(5));
        Assert.Empty(target.Requests);
        Assert.Equal(0, Count(stats, WebhookOutcome.Delivered));
    }

    [Fact]
    public void A_huge_answer_body_is_not_read()
    {
        // 2 GiB promised and streamed slowly: the dispatcher takes the status and goes on.
        using var receiver = new Receiver(async (_, ctx) =>
        {
            ctx.Response.StatusCode = 200;
            ctx.Response.ContentLength64 = 2L << 30;
            var chunk = new byte[64 * 1024];
            for (int i = 0; i < 32768; i++)
            {
                await ctx.Response.OutputStream.WriteAsync(chunk);
                await Task.Delay(10);
            }
        });
        var (dispatcher, stats) = Start(receiver.Url);
        for (int i = 0; i < 5; i++) dispatcher.Tell(new RoomEvents.MemberJoined("r", 1, (uint)i + 1, "u", "member"));
        AwaitAssert(() => Assert.Equal(5, Count(stats, WebhookOutcome.Delivered)), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Urls_that_refuse_do_not_resolve_or_never_answer_are_retried_and_the_others_still_deliver()
    {
        using var silent = new Receiver((_, _) => Task.Delay(Timeout.Infinite));
        using var good = new Receiver((_, ctx) => Status(ctx, 202));
        var refused = $"http://127.0.0.1:{FreePort()}/hook";
        var (dispatcher, stats) = Start($"{refused},http://no-such-host.invalid/hook,{silent.Url},{good.Url}", Fast + "\nakkavoice.webhooks.attempt-timeout = 500ms");
        for (int i = 0; i < 50; i++) dispatcher.Tell(new RoomEvents.MemberJoined("r" + (i % 5), 1, (uint)i + 1, "u", "member"));

        AwaitAssert(() => Assert.Equal(50, Count(stats, WebhookOutcome.Delivered)), TimeSpan.FromSeconds(5));
        // Three failing URLs, each retrying its five rooms' heads (the silent one after its 500 ms timeout).
        AwaitAssert(() => Assert.True(Count(stats, WebhookOutcome.Retried) >= 3 * 5), TimeSpan.FromSeconds(5));
        Assert.Equal(150, stats.WebhookQueue.Value);
        Assert.Equal(0, Count(stats, WebhookOutcome.Dropped));
    }

    [Fact]
    public void Past_the_queue_limit_the_oldest_events_are_dropped_and_counted()
    {
        var (dispatcher, stats) = Start($"http://127.0.0.1:{FreePort()}/hook", Fast + "\nakkavoice.webhooks.queue-limit = 100");
        for (int i = 0; i < 1000; i++) dispatcher.Tell(new RoomEvents.MemberJoined("r" + (i % 50), 1, (uint)i + 1, "u", "member"));
        AwaitAssert(() =>
        {
            Assert.Equal(900, stats.Webhooks[Array.IndexOf(WebhookEvent.Names, "member.joined"), (int)WebhookOutcome.Dropped].Value);
            Assert.Equal(100, stats.WebhookQueue.Value);
        }, TimeSpan.FromSeconds(5));
    }
}
