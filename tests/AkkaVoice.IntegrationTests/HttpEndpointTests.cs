using System.Net;
using System.Text.Json;
using AkkaVoice.IntegrationTests.Support;
using Xunit;
using static AkkaVoice.IntegrationTests.Support.ClientExtensions;

namespace AkkaVoice.IntegrationTests;

/// <summary>PROTOCOL.md section 5: health, readiness, metrics and the admin JSON, on the same port as /ws.</summary>
public sealed class HttpEndpointTests(DefaultNode fixture) : IClassFixture<DefaultNode>
{
    private readonly TestNode node = fixture.Node;

    private static readonly string[] MetricNames =
    [
        "akkavoice_connections", "akkavoice_rooms_hosted", "akkavoice_frames_received_total", "akkavoice_frames_delivered_total",
        "akkavoice_node_messages_sent_total", "akkavoice_shards_hosted", "akkavoice_shard_handoffs_total",
        Metrics.Dropped("rate-limited"), Metrics.Dropped("slow-receiver"), Metrics.Dropped("not-joined"),
    ];

    private async Task<JsonElement> GetJsonAsync(string path)
    {
        var response = await node.Http.GetAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {response.StatusCode}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.Clone();
    }

    [Fact]
    public async Task Healthz_answers_200()
    {
        Assert.Equal(HttpStatusCode.OK, (await node.Http.GetAsync("healthz")).StatusCode);
    }

    [Fact]
    public async Task Readyz_answers_200_once_the_node_is_up_and_its_shard_region_ready()
    {
        Assert.Equal(HttpStatusCode.OK, (await node.Http.GetAsync("readyz")).StatusCode);
        var cluster = await GetJsonAsync("admin/cluster");
        var self = cluster.GetProperty("self").GetString();
        Assert.Contains(cluster.GetProperty("members").EnumerateArray(),
            m => m.GetProperty("address").GetString() == self && m.GetProperty("status").GetString() == "Up");
    }

    [Fact]
    public async Task Metrics_is_prometheus_text_with_every_metric_of_the_contract()
    {
        var response = await node.Http.GetAsync("metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var metrics = await Metrics.ScrapeAsync(node.Http);
        foreach (var name in MetricNames) Assert.True(metrics.Has(name), $"/metrics lacks {name}:\n{metrics.Text}");
        Assert.Contains("# TYPE akkavoice_frames_received_total counter", metrics.Text);
        Assert.Contains("# TYPE akkavoice_connections gauge", metrics.Text);
    }

    [Fact]
    public async Task Metrics_move_with_traffic()
    {
        var before = await Metrics.ScrapeAsync(node.Http);
        var room = Names.Room();
        await using var a = await node.ClientAsync(Names.User());
        await using var b = await node.ClientAsync(Names.User());
        var slot = (byte)(await a.JoinStrictAsync(room)).Num("slot");
        await b.JoinStrictAsync(room);
        await a.NextOfTypeAsync("member-joined");
        for (int i = 0; i < 10; i++) await a.SendFrameAsync(slot, Numbered(i));
        for (int i = 0; i < 10; i++) await b.NextFrameAsync();
        await a.SendFrameAsync(200, Numbered(0));
        await a.ExpectErrorAsync("not-joined");

        var during = await Metrics.ScrapeAsync(node.Http);
        Assert.Equal(before["akkavoice_connections"] + 2, during["akkavoice_connections"]);
        Assert.True(during["akkavoice_rooms_hosted"] >= 1);
        Assert.True(during["akkavoice_rooms_hosted"] >= before["akkavoice_rooms_hosted"]);
        Assert.Equal(11, during["akkavoice_frames_received_total"] - before["akkavoice_frames_received_total"]);
        Assert.Equal(10, during["akkavoice_frames_delivered_total"] - before["akkavoice_frames_delivered_total"]);
        Assert.Equal(1, during[Metrics.Dropped("not-joined")] - before[Metrics.Dropped("not-joined")]);
        // One node: no frame ever goes to another node, and no shard ever moves.
        Assert.Equal(0, during["akkavoice_node_messages_sent_total"]);
        Assert.Equal(0, during["akkavoice_shard_handoffs_total"]);
        await Wait.UntilAsync(async () => (await Metrics.ScrapeAsync(node.Http))["akkavoice_shards_hosted"] >= 1,
            TimeSpan.FromSeconds(5), "akkavoice_shards_hosted >= 1");

        await a.DisposeAsync();
        await b.DisposeAsync();
        await Wait.UntilAsync(async () => (await Metrics.ScrapeAsync(node.Http))["akkavoice_connections"] == before["akkavoice_connections"],
            TimeSpan.FromSeconds(5), "akkavoice_connections back to its value before");
    }

    [Fact]
    public async Task Admin_cluster_shows_self_leader_and_members()
    {
        var cluster = await GetJsonAsync("admin/cluster");
        var self = cluster.GetProperty("self").GetString();
        Assert.StartsWith("akka.tcp://akkavoice@127.0.0.1:", self);
        Assert.Equal(self, cluster.GetProperty("leader").GetString());
        var member = Assert.Single(cluster.GetProperty("members").EnumerateArray());
        Assert.Equal(self, member.GetProperty("address").GetString());
        Assert.Equal("Up", member.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Array, member.GetProperty("roles").ValueKind);
        Assert.True(member.GetProperty("reachable").GetBoolean());
    }

    [Fact]
    public async Task Admin_shards_shows_the_room_in_its_shard_after_a_join()
    {
        var room = Names.Room();
        await using var a = await node.ClientAsync(Names.User());
        await a.JoinStrictAsync(room);
        var shard = (await GetJsonAsync($"admin/rooms/{room}")).GetProperty("shard").GetString();

        var shards = await GetJsonAsync("admin/shards");
        Assert.True(shards.GetProperty("rooms").GetInt32() >= 1);
        var region = Assert.Single(shards.GetProperty("regions").EnumerateArray());
        Assert.Equal((await GetJsonAsync("admin/cluster")).GetProperty("self").GetString(), region.GetProperty("address").GetString());
        var entries = region.GetProperty("shards").EnumerateArray().ToList();
        var mine = Assert.Single(entries, s => s.GetProperty("id").GetString() == shard);
        Assert.True(mine.GetProperty("rooms").GetInt32() >= 1);
        Assert.Equal(shards.GetProperty("rooms").GetInt32(), entries.Sum(s => s.GetProperty("rooms").GetInt32()));
    }

    [Fact]
    public async Task Admin_rooms_shows_the_rooms_shard_home_members_and_nodes()
    {
        var room = Names.Room();
        var (alice, bob) = (Names.User("alice"), Names.User("bob"));
        await using var a = await node.ClientAsync(alice);
        await using var b = await node.ClientAsync(bob);
        var am = (await a.JoinStrictAsync(room)).Num("member");
        var bm = (await b.JoinStrictAsync(room)).Num("member");
        var self = (await GetJsonAsync("admin/cluster")).GetProperty("self").GetString();

        var info = await GetJsonAsync($"admin/rooms/{room}");
        Assert.Equal(room, info.GetProperty("room").GetString());
        Assert.False(string.IsNullOrEmpty(info.GetProperty("shard").GetString()));
        Assert.Equal(self, info.GetProperty("home").GetString());
        var members = info.GetProperty("members").EnumerateArray()
            .Select(m => (m.GetProperty("member").GetInt64(), m.GetProperty("user").GetString(), m.GetProperty("node").GetString()))
            .OrderBy(m => m.Item2).ToList();
        Assert.Equal([(am, alice, self), (bm, bob, self)], members);
        Assert.Equal([self], info.GetProperty("nodes").EnumerateArray().Select(n => n.GetString()));
    }

    [Fact]
    public async Task Admin_rooms_is_404_for_a_room_without_members()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await node.Http.GetAsync($"admin/rooms/{Names.Room("never")}")).StatusCode);

        var room = Names.Room();
        await using var a = await node.ClientAsync(Names.User());
        await a.JoinStrictAsync(room);
        await a.SendAsync(new { type = "say", room, text = "so the room has history" });
        await a.NextOfTypeAsync("said");
        Assert.Equal(HttpStatusCode.OK, (await node.Http.GetAsync($"admin/rooms/{room}")).StatusCode);
        await a.SendAsync(new { type = "leave", room });
        await a.NextOfTypeAsync("left");
        await Wait.UntilAsync(async () => (await node.Http.GetAsync($"admin/rooms/{room}")).StatusCode == HttpStatusCode.NotFound,
            TimeSpan.FromSeconds(5), "404 for the room everyone left");
    }
}
