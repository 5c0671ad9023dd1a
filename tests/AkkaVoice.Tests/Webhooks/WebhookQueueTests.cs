using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Akka.Configuration;
using AkkaVoice.Cluster.Rooms;
using AkkaVoice.Cluster.Webhooks;
using Xunit;

namespace AkkaVoice.Tests.Webhooks;

public sealed class WebhookQueueTests
{
    internal static WebhookSettings Settings(string? overrides = null, string urls = "http://127.0.0.1:1/hook") =>
        WebhookSettings.From(urls, new string('s', 32), ConfigurationFactory.ParseString(overrides ?? "").WithFallback(TestSettings.Hocon))!;

    private static WebhookEvent Event(string room, int n) => new($"id-{room}-{n}", "member.joined", room, Encoding.UTF8.GetBytes($"{{\"n\":{n}}}"));

    private static WebhookQueue Queue(string? overrides = null) => new(new Uri("http://127.0.0.1:1/hook"), Settings(overrides));

    [Fact]
    public void One_rooms_events_go_one_at_a_time_in_order()
    {
        var queue = Queue();
        for (int i = 0; i < 3; i++) queue.Enqueue(Event("a", i), 0);
        var first = Assert.Single(queue.TakeReady(0));
        Assert.Empty(queue.TakeReady(0));
        queue.Complete(first, delivered: true, 1);
        Assert.Equal("id-a-1", Assert.Single(queue.TakeReady(1)).Event.Id);
    }

    [Fact]
    public void A_retry_holds_back_its_own_room_and_no_other()
    {
        var queue = Queue();
        queue.Enqueue(Event("a", 0), 0);
        queue.Enqueue(Event("a", 1), 0);
        queue.Enqueue(Event("b", 0), 0);
        var sent = queue.TakeReady(0);
        Assert.Equal(["id-a-0", "id-b-0"], sent.Select(p => p.Event.Id));
        var outcome = queue.Complete(sent[0], delivered: false, 10);
        Assert.Equal(WebhookOutcome.Retried, Assert.Single(outcome).Outcome);
        queue.Complete(sent[1], delivered: true, 10);
        queue.Enqueue(Event("b", 1), 10);
        Assert.Equal("id-b-1", Assert.Single(queue.TakeReady(11)).Event.Id);
        Assert.Equal(1010, queue.NextRetryAt);
        Assert.Empty(queue.TakeReady(1009));
        Assert.Equal("id-a-0", Assert.Single(queue.TakeReady(1010)).Event.Id);
    }

    [Fact]
    public void Retries_wait_one_two_four_seconds_and_never_more_than_sixty()
    {
        var queue = Queue();
        Assert.Equal([1, 2, 4, 8, 16, 32, 60, 60], Enumerable.Range(1, 8).Select(n => queue.RetryDelay(n).TotalSeconds));
        Assert.Equal(60, queue.RetryDelay(1000).TotalSeconds);
    }

    [Fact]
    public void An_event_that_still_fails_after_fifteen_minutes_is_dropped_with_its_rooms_events_as_old()
    {
        var queue = Queue();
        queue.Enqueue(Event("a", 0), 0);
        queue.Enqueue(Event("a", 1), 1000);
        queue.Enqueue(Event("a", 2), 900_000);
        long now = 0;
        while (true)
        {
            var sent = Assert.Single(queue.TakeReady(now));
            var outcomes = queue.Complete(sent, delivered: false, now);
            if (outcomes[0].Outcome == WebhookOutcome.Dropped)
            {
                Assert.True(now >= 900_000);
                Assert.Equal(["id-a-0", "id-a-1"], outcomes.Select(o => o.Event.Id));
                break;
            }
            now = queue.NextRetryAt!.Value;
        }
        Assert.Equal(1, queue.Count);
        Assert.Equal("id-a-2", Assert.Single(queue.TakeReady(now)).Event.Id);
    }

    [Fact]
    public void A_full_queue_drops_its_oldest_event()
    {
        var queue = Queue("akkavoice.webhooks.queue-limit = 3");
        queue.Enqueue(Event("a", 0), 0);
        queue.Enqueue(Event("b", 0), 1);
        queue.Enqueue(Event("a", 1), 2);
        Assert.Equal("id-a-0", queue.Enqueue(Event("c", 0), 3)!.Id);
        Assert.Equal(3, queue.Count);
        Assert.Equal(["id-a-1", "id-b-0", "id-c-0"], queue.TakeReady(3).Select(p => p.Event.Id).Order());
    }

    [Fact]
    public void An_event_dropped_while_in_flight_still_holds_its_room_until_its_answer()
    {
        var queue = Queue("akkavoice.webhooks.queue-limit = 2");
        queue.Enqueue(Event("a", 0), 0);
        var inFlight = Assert.Single(queue.TakeReady(0));
        queue.Enqueue(Event("a", 1), 1);
        Assert.Equal("id-a-0", queue.Enqueue(Event("a", 2), 2)!.Id);
        Assert.Empty(queue.TakeReady(3));
        Assert.Empty(queue.Complete(inFlight, delivered: true, 4));
        Assert.Equal("id-a-1", Assert.Single(queue.TakeReady(4)).Event.Id);
    }

    [Fact]
    public void No_more_rooms_are_in_flight_than_the_concurrency()
    {
        var queue = Queue("akkavoice.webhooks.concurrency = 2");
        foreach (var room in new[] { "a", "b", "c" }) queue.Enqueue(Event(room, 0), 0);
        var sent = queue.TakeReady(0);
        Assert.Equal(2, sent.Count);
        queue.Complete(sent[0], delivered: true, 1);
        Assert.Equal("id-c-0", Assert.Single(queue.TakeReady(1)).Event.Id);
    }

    [Fact]
    public void The_signature_is_the_hmac_of_the_time_a_dot_and_the_body()
    {
        var secret = Encoding.UTF8.GetBytes(new string('k', 40));
        var body = Encoding.UTF8.GetBytes("{\"id\":\"x\"}");
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes("1700000000.{\"id\":\"x\"}")));
        Assert.Equal($"t=1700000000,v1={expected}", WebhookEvent.Signature(secret, 1700000000, body));
    }

    [Fact]
    public void Each_event_carries_the_common_fields_and_its_own()
    {
        var rehomed = WebhookEvent.Encode(new RoomEvents.Rehomed("r", 5, [new(7, "u", "speaker", 2), new(8, "v", "listener", null)]), "id1", "node1");
        var json = JsonDocument.Parse(rehomed.Body).RootElement;
        Assert.Equal("id1", json.GetProperty("id").GetString());
        Assert.Equal("room.rehomed", json.GetProperty("event").GetString());
        Assert.Equal(5, json.GetProperty("time").GetInt64());
        Assert.Equal("r", json.GetProperty("room").GetString());
        Assert.Equal("node1", json.GetProperty("node").GetString());
        var members = json.GetProperty("members");
        Assert.Equal(2, members[0].GetProperty("seat").GetInt32());
        Assert.False(members[1].TryGetProperty("seat", out _));

        var seat = JsonDocument.Parse(WebhookEvent.Encode(new RoomEvents.SeatChanged("r", 1, 3, null, true, false), "id2", "n").Body).RootElement;
        Assert.Equal(JsonValueKind.Null, seat.GetProperty("user").ValueKind);
        Assert.True(seat.GetProperty("locked").GetBoolean());
        var left = JsonDocument.Parse(WebhookEvent.Encode(new RoomEvents.MemberLeft("r", 1, 9, "u", "kicked"), "id3", "n").Body).RootElement;
        Assert.Equal("kicked", left.GetProperty("reason").GetString());
        Assert.Equal(9u, left.GetProperty("member").GetUInt32());
    }

    [Theory]
    [InlineData("ftp://example.com/hook", "x")]
    [InlineData("not a url", "x")]
    [InlineData("http://user:pw@example.com/hook", "x")]
    [InlineData("http://example.com/hook", "short")]
    public void A_bad_url_or_a_short_secret_is_refused(string url, string secret)
    {
        var e = Assert.Throws<ArgumentException>(() => WebhookSettings.From(url, secret == "x" ? new string('s', 32) : secret, TestSettings.Hocon));
        Assert.Contains("--webhook-", e.Message);
    }

    [Fact]
    public void No_url_means_no_webhooks_and_several_urls_are_comma_separated()
    {
        Assert.Null(WebhookSettings.From(null, null, TestSettings.Hocon));
        Assert.Equal(2, Settings(urls: "http://a.example/h, https://b.example/h?token=x").Urls.Count);
    }
}
