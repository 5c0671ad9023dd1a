using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using AkkaVoice.IntegrationTests.Support;
using Xunit;

namespace AkkaVoice.IntegrationTests;

/// <summary>A node with an API token (development-mode identity).</summary>
public sealed class ApiTokenNode : NodeFixture
{
    public const string Token = "api-token-for-tests";

    protected override Task<TestNode> StartAsync() => TestNode.StartAsync(flags: ["--api-token", Token]);
}

/// <summary>PROTOCOL section 9: the token, the bodies and fields it refuses (and that a refusal changes nothing), users' calls.</summary>
public sealed class ServerApiTests(ApiTokenNode fixture) : IClassFixture<ApiTokenNode>
{
    private readonly TestNode node = fixture.Node;

    private async Task<(HttpStatusCode Status, JsonElement Json)> CallAsync(HttpMethod method, string path, string? body = null, string? token = ApiTokenNode.Token)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await node.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private static void AssertError(HttpStatusCode expected, string code, (HttpStatusCode Status, JsonElement Json) answer)
    {
        Assert.Equal(expected, answer.Status);
        Assert.Equal(code, answer.Json.GetProperty("error").GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(answer.Json.GetProperty("error").GetProperty("message").GetString()));
    }

    private async Task<int> MembersOfAsync(string room)
    {
        var response = await node.Http.GetAsync($"admin/rooms/{room}");
        if (response.StatusCode == HttpStatusCode.NotFound) return 0;
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("members").GetArrayLength();
    }

    [Theory]
    [InlineData("GET", "api/v1/rooms")]
    [InlineData("GET", "api/v1/rooms/r1")]
    [InlineData("PUT", "api/v1/rooms/r1")]
    [InlineData("DELETE", "api/v1/rooms/r1")]
    [InlineData("POST", "api/v1/rooms/r1/kick")]
    [InlineData("POST", "api/v1/users/u1/direct")]
    [InlineData("POST", "api/v1/users/u1/disconnect")]
    [InlineData("GET", "api/v1/no-such-call")]
    public async Task Every_call_needs_the_token(string method, string path)
    {
        AssertError(HttpStatusCode.Unauthorized, "unauthorized", await CallAsync(new HttpMethod(method), path, "{}", token: null));
        AssertError(HttpStatusCode.Unauthorized, "unauthorized", await CallAsync(new HttpMethod(method), path, "{}", token: ApiTokenNode.Token + "x"));
    }

    [Fact]
    public async Task Bad_bodies_are_refused_with_their_codes_and_change_nothing()
    {
        await using var alice = await node.ClientAsync("api-alice");
        await alice.JoinAsync("api-bad");
        var kick = "api/v1/rooms/api-bad/kick";
        AssertError(HttpStatusCode.BadRequest, "bad-json", await CallAsync(HttpMethod.Post, kick, "{\"user\":"));
        AssertError(HttpStatusCode.BadRequest, "bad-json", await CallAsync(HttpMethod.Post, kick, "not json"));
        AssertError(HttpStatusCode.BadRequest, "bad-field", await CallAsync(HttpMethod.Post, kick, "[\"api-alice\"]"));
        AssertError(HttpStatusCode.BadRequest, "bad-field", await CallAsync(HttpMethod.Post, kick, "{\"user\":42}"));
        AssertError(HttpStatusCode.BadRequest, "bad-field", await CallAsync(HttpMethod.Post, kick, "{\"user\":\"api alice\"}"));
        AssertError(HttpStatusCode.BadRequest, "bad-field", await CallAsync(HttpMethod.Post, kick, "{\"user\":\"api-alice\",\"ban\":\"10\"}"));
        AssertError(HttpStatusCode.BadRequest, "bad-field", await CallAsync(HttpMethod.Post, kick, "{\"user\":\"api-alice\",\"ban\":1.5}"));
        AssertError((HttpStatusCode)422, "out-of-range", await CallAsync(HttpMethod.Post, kick, "{\"user\":\"api-alice\",\"ban\":0}"));
        AssertError((HttpStatusCode)422, "out-of-range", await CallAsync(HttpMethod.Post, kick, "{\"user\":\"api-alice\",\"ban\":86401}"));
        AssertError((HttpStatusCode)422, "out-of-range", await CallAsync(HttpMethod.Post, kick, "{\"user\":\"api-alice\",\"ban\":1e20}"));
        AssertError(HttpStatusCode.RequestEntityTooLarge, "too-large",
            await CallAsync(HttpMethod.Post, kick, "{\"user\":\"api-alice\",\"reason\":\"" + new string('x', 65 * 1024) + "\"}"));
        AssertError(HttpStatusCode.BadRequest, "bad-field", await CallAsync(HttpMethod.Post, "api/v1/rooms/api-bad/mute", "{\"user\":\"api-alice\",\"muted\":\"yes\"}"));
        AssertError(HttpStatusCode.BadRequest, "bad-field", await CallAsync(HttpMethod.Post, "api/v1/rooms/api-bad/say", "{\"text\":7}"));
        AssertError((HttpStatusCode)422, "out-of-range", await CallAsync(HttpMethod.Post, "api/v1/rooms/api-bad/say", "{\"text\":\"" + new string('x', 4097) + "\"}"));
        AssertError(HttpStatusCode.BadRequest, "bad-field", await CallAsync(HttpMethod.Put, "api/v1/rooms/api-bad", "{\"seats\":\"8\"}"));
        AssertError(HttpStatusCode.BadRequest, "bad-field", await CallAsync(HttpMethod.Put, "api/v1/rooms/api-bad", "{\"hosts\":[\"ok\", 3]}"));
        Assert.Equal(1, await MembersOfAsync("api-bad"));
    }

    [Theory]
    [InlineData("api/v1/rooms?limit=0", 422, "out-of-range")]
    [InlineData("api/v1/rooms?limit=1000000", 422, "out-of-range")]
    [InlineData("api/v1/rooms?limit=1001", 422, "out-of-range")]
    [InlineData("api/v1/rooms?limit=ten", 400, "bad-field")]
    [InlineData("api/v1/rooms?limit=-1", 400, "bad-field")]
    [InlineData("api/v1/rooms/r1/members?limit=0", 422, "out-of-range")]
    [InlineData("api/v1/rooms/r1/members?limit=1000000", 422, "out-of-range")]
    [InlineData("api/v1/rooms/r1/members?after=x", 400, "bad-field")]
    [InlineData("api/v1/rooms/bad%20room", 400, "bad-field")]
    [InlineData("api/v1/rooms/%ZZroom", 400, "bad-field")]
    [InlineData("api/v1/rooms/a%2Fb", 400, "bad-field")]
    [InlineData("api/v1/rooms/%C3%A9t%C3%A9", 400, "bad-field")]
    [InlineData("api/v1/rooms/%FF%FE", 400, "bad-field")]
    [InlineData("api/v1/rooms/" + "r234567890123456789012345678901234567890123456789012345678901234x", 400, "bad-field")]
    [InlineData("api/v1/no-such-call", 404, "not-found")]
    public async Task Bad_queries_and_room_ids_get_their_status(string path, int status, string code)
    {
        AssertError((HttpStatusCode)status, code, await CallAsync(HttpMethod.Get, path));
    }

    [Fact]
    public async Task Direct_reaches_every_connection_of_the_user_and_404_when_it_has_none()
    {
        await using var a = await node.ClientAsync("api-dora");
        await using var b = await node.ClientAsync("api-dora");
        var answer = await CallAsync(HttpMethod.Post, "api/v1/users/api-dora/direct", "{\"text\":\"hello from the app\"}");
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal(2, answer.Json.GetProperty("connections").GetInt32());
        foreach (var client in new[] { a, b })
        {
            var direct = await client.ExpectAsync("direct");
            Assert.Equal("system", direct.Str("from"));
            Assert.Equal("hello from the app", direct.Str("text"));
        }
        AssertError(HttpStatusCode.NotFound, "not-found", await CallAsync(HttpMethod.Post, "api/v1/users/api-nobody/direct", "{\"text\":\"hi\"}"));
        AssertError(HttpStatusCode.BadRequest, "bad-field", await CallAsync(HttpMethod.Post, "api/v1/users/api-dora/direct", "{}"));
    }

    [Fact]
    public async Task Disconnect_closes_each_connection_with_4001_and_the_reason()
    {
        await using var a = await node.ClientAsync("api-eve");
        await using var b = await node.ClientAsync("api-eve");
        await a.JoinAsync("api-eve-room");
        AssertError((HttpStatusCode)422, "out-of-range",
            await CallAsync(HttpMethod.Post, "api/v1/users/api-eve/disconnect", "{\"reason\":\"" + new string('é', 62) + "\"}"));
        Assert.Equal(1, await MembersOfAsync("api-eve-room"));

        var answer = await CallAsync(HttpMethod.Post, "api/v1/users/api-eve/disconnect", "{\"reason\":\"banned by the app\"}");
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal(2, answer.Json.GetProperty("connections").GetInt32());
        foreach (var client in new[] { a, b })
        {
            var closed = await client.WaitClosedAsync();
            Assert.Equal((WebSocketCloseStatus)4001, closed.Status);
            Assert.Equal("banned by the app", closed.Reason);
        }
        await Wait.UntilAsync(async () => await MembersOfAsync("api-eve-room") == 0, TimeSpan.FromSeconds(5), "the room empties");
        await Wait.UntilAsync(async () => (await CallAsync(HttpMethod.Post, "api/v1/users/api-eve/disconnect", "")).Status == HttpStatusCode.NotFound,
            TimeSpan.FromSeconds(5), "the user is offline");
    }
}
