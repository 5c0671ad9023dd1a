using System.Net;
using AkkaVoice.Client;
using AkkaVoice.IntegrationTests.Support;
using Xunit;

namespace AkkaVoice.IntegrationTests;

/// <summary>A node with a JWT secret and one allowed origin.</summary>
public sealed class SecuredNode : NodeFixture
{
    public const string Secret = "integration-test-secret-0123456789";
    public const string GoodOrigin = "http://good";

    protected override Task<TestNode> StartAsync() =>
        TestNode.StartAsync(jwtSecret: Secret, hocon: $"akkavoice.allowed-origins = [\"{GoodOrigin}\"]");
}

/// <summary>PROTOCOL.md section 1 with a secret configured: JWT identity, the rooms claim, allowed origins.</summary>
public sealed class AuthenticationTests(SecuredNode fixture) : IClassFixture<SecuredNode>
{
    private readonly TestNode node = fixture.Node;

    private static string Token(string sub, string[]? rooms = null) => Jwt.Hs256(SecuredNode.Secret, sub, TimeSpan.FromMinutes(5), rooms);

    [Fact]
    public async Task A_token_in_the_authorization_header_is_accepted_and_names_the_user()
    {
        var user = Names.User();
        var (client, welcome) = await node.ConnectAsync(user, bearer: Token(user));
        await using var _ = client;
        Assert.Equal(user, welcome.Str("user"));
        await client.AssertAliveAsync();
    }

    [Fact]
    public async Task A_token_in_the_access_token_query_parameter_is_accepted()
    {
        var user = Names.User();
        var client = await VoiceClient.ConnectAsync(node.Ws("access_token=" + Token(user)));
        await using var _ = client;
        var welcome = await client.NextOfTypeAsync("welcome");
        Assert.Equal(user, welcome.Str("user"));
    }

    [Fact]
    public async Task The_user_parameter_does_not_override_the_token()
    {
        var user = Names.User();
        var client = await VoiceClient.ConnectAsync(node.Ws("user=mallory&access_token=" + Token(user)));
        await using var _ = client;
        Assert.Equal(user, (await client.NextOfTypeAsync("welcome")).Str("user"));
    }

    public static TheoryData<string, string?> RefusedTokens() => new()
    {
        { "missing", null },
        { "expired", Jwt.Hs256(SecuredNode.Secret, "alice", TimeSpan.FromMinutes(-1)) },
        { "signed with another secret", Jwt.Hs256("some-other-secret", "alice", TimeSpan.FromMinutes(5)) },
        { "alg none", Jwt.Unsigned("alice", TimeSpan.FromMinutes(5)) },
        { "alg none signed anyway", Jwt.Sign(SecuredNode.Secret, new { alg = "none" }, new { sub = "alice", exp = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds() }) },
        { "without exp", Jwt.Sign(SecuredNode.Secret, new { alg = "HS256" }, new { sub = "alice" }) },
        { "alg HS384", Jwt.Sign(SecuredNode.Secret, new { alg = "HS384" }, new { sub = "alice", exp = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds() }) },
        { "alg RS256", Jwt.Sign(SecuredNode.Secret, new { alg = "RS256" }, new { sub = "alice", exp = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds() }) },
        { "not yet valid", Jwt.Sign(SecuredNode.Secret, new { alg = "HS256" }, new { sub = "alice", exp = DateTimeOffset.UtcNow.AddHours(2).ToUnixTimeSeconds(), nbf = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds() }) },
        { "not a jwt", "abc.def" },
    };

    [Theory]
    [MemberData(nameof(RefusedTokens))]
    public async Task A_bad_bearer_token_is_refused_with_401_before_the_upgrade_and_nothing_else(string why, string? token)
    {
        var headers = token is null ? [] : new[] { ("Authorization", "Bearer " + token) };
        var response = await RawHttp.UpgradeAsync(node.Port, "/ws?user=alice", headers);
        Assert.True(response.Status == 401, $"{why}: got {response.Status}");
        Assert.False(response.Headers.ContainsKey("sec-websocket-accept"), why);
        Assert.Empty(response.Body);
    }

    [Theory]
    [MemberData(nameof(RefusedTokens))]
    public async Task A_bad_access_token_parameter_is_refused_with_401_before_the_upgrade(string why, string? token)
    {
        var response = await RawHttp.UpgradeAsync(node.Port, token is null ? "/ws" : "/ws?access_token=" + Uri.EscapeDataString(token));
        Assert.True(response.Status == 401, $"{why}: got {response.Status}");
        Assert.Empty(response.Body);
    }

    [Fact]
    public async Task A_rooms_claim_allows_its_rooms_and_prefixes_and_forbids_others()
    {
        var user = Names.User();
        var exact = Names.Room("lobby");
        var prefix = Names.Room("team");
        var (client, _) = await node.ConnectAsync(user, bearer: Token(user, [exact, prefix + "-*"]));
        await using var __ = client;

        await client.JoinStrictAsync(exact);
        await client.JoinStrictAsync(prefix + "-red");

        await client.SendAsync(new { type = "join", room = Names.Room("elsewhere"), @ref = "j3" });
        await client.ExpectErrorAsync("forbidden", "j3");
        await client.SendAsync(new { type = "join", room = prefix, @ref = "j4" });
        await client.ExpectErrorAsync("forbidden", "j4");
        await client.AssertAliveAsync();
    }

    [Fact]
    public async Task An_origin_that_is_not_allowed_is_refused_with_403()
    {
        var user = Names.User();
        var response = await RawHttp.UpgradeAsync(node.Port, "/ws", ("Authorization", "Bearer " + Token(user)), ("Origin", "http://evil"));
        Assert.Equal(403, response.Status);
        Assert.False(response.Headers.ContainsKey("sec-websocket-accept"));
    }

    [Fact]
    public async Task The_allowed_origin_is_accepted()
    {
        var user = Names.User();
        var client = await VoiceClient.ConnectAsync(node.Ws(), bearer: Token(user), origin: SecuredNode.GoodOrigin);
        await using var _ = client;
        Assert.Equal(user, (await client.NextOfTypeAsync("welcome")).Str("user"));
    }
}

/// <summary>A node process with a JWT secret, seen from outside: what it serves, what it refuses, and what it logs.</summary>
[Collection("processes")]
public sealed class JwtNodeProcessTests
{
    [Fact]
    public async Task A_node_serves_good_tokens_refuses_bad_ones_and_never_logs_a_token_or_its_secret()
    {
        await using var node = NodeProcess.Start(null, "--jwt-secret", SecuredNode.Secret);
        await node.WaitReadyAsync();

        var good = new[] { Jwt.Hs256(SecuredNode.Secret, "alice", TimeSpan.FromMinutes(5)), Jwt.Hs256(SecuredNode.Secret, "bob", TimeSpan.FromMinutes(5)) };
        var viaHeader = await VoiceClient.ConnectAsync(new Uri($"ws://127.0.0.1:{node.HttpPort}/ws"), bearer: good[0]);
        await using var _ = viaHeader;
        Assert.Equal("alice", (await viaHeader.NextOfTypeAsync("welcome")).Str("user"));
        var viaQuery = await VoiceClient.ConnectAsync(new Uri($"ws://127.0.0.1:{node.HttpPort}/ws?access_token={good[1]}"));
        await using var __ = viaQuery;
        Assert.Equal("bob", (await viaQuery.NextOfTypeAsync("welcome")).Str("user"));

        var bad = AuthenticationTests.RefusedTokens().Select(row => (string?)row[1]).OfType<string>().ToList();
        foreach (var token in bad)
        {
            Assert.Equal(401, (await RawHttp.UpgradeAsync(node.HttpPort, "/ws", ("Authorization", "Bearer " + token))).Status);
            Assert.Equal(401, (await RawHttp.UpgradeAsync(node.HttpPort, "/ws?access_token=" + Uri.EscapeDataString(token))).Status);
        }

        static int Count(string log, string what) => log.Split('\n').Count(line => line.Contains(what));
        await Wait.UntilAsync(() => Count(node.Log, "WebSocket refused with 401") >= 2 * bad.Count && Count(node.Log, "opened from") >= 2,
            TimeSpan.FromSeconds(20), "a log line for every connection and refusal");
        var log = node.Log;
        Assert.DoesNotContain(SecuredNode.Secret, log);
        foreach (var token in good.Concat(bad))
        {
            // No token, nor any of its signed parts (an encoded payload names the user and the expiry).
            foreach (var part in token.Split('.').Where(part => part.Length >= 8)) Assert.DoesNotContain(part, log);
        }
    }

    [Fact]
    public async Task A_node_given_a_JWT_secret_shorter_than_32_bytes_exits_2_with_the_reason_and_not_the_secret()
    {
        const string shortSecret = "only-twenty-four-bytes!!";
        await using var node = NodeProcess.Start(null, "--jwt-secret", shortSecret);

        Assert.Equal(2, await node.WaitExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("Cannot start: --jwt-secret must be at least 32 bytes", node.Log);
        Assert.DoesNotContain(shortSecret, node.Log);
    }
}
