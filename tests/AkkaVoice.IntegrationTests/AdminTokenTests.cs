using System.Net;
using System.Net.Http.Headers;
using Xunit;

namespace AkkaVoice.IntegrationTests;

/// <summary>A node with an admin token (and development-mode identity).</summary>
public sealed class AdminTokenNode : NodeFixture
{
    public const string Token = "admin-token-for-tests";

    protected override Task<TestNode> StartAsync() => TestNode.StartAsync(adminToken: Token);
}

/// <summary>PROTOCOL.md section 5, last line: with an admin token set, /admin/* needs it as a bearer token.</summary>
public sealed class AdminTokenTests(AdminTokenNode fixture) : IClassFixture<AdminTokenNode>
{
    private readonly TestNode node = fixture.Node;

    public static TheoryData<string> AdminPaths() => new() { "admin/cluster", "admin/shards", "admin/rooms/some-room" };

    private async Task<HttpStatusCode> GetAsync(string path, AuthenticationHeaderValue? auth)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = auth;
        return (await node.Http.SendAsync(request)).StatusCode;
    }

    [Theory]
    [MemberData(nameof(AdminPaths))]
    public async Task Admin_endpoints_answer_401_without_the_token_or_with_a_wrong_one(string path)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(path, null));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(path, new AuthenticationHeaderValue("Bearer", "wrong")));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(path, new AuthenticationHeaderValue("Bearer", AdminTokenNode.Token + "x")));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(path, new AuthenticationHeaderValue("Basic", AdminTokenNode.Token)));
    }

    [Theory]
    [InlineData("admin/cluster")]
    [InlineData("admin/shards")]
    public async Task Admin_endpoints_answer_200_with_the_token(string path)
    {
        Assert.Equal(HttpStatusCode.OK, await GetAsync(path, new AuthenticationHeaderValue("Bearer", AdminTokenNode.Token)));
    }

    [Fact]
    public async Task Admin_rooms_with_the_token_answers_404_for_an_empty_room_not_401()
    {
        Assert.Equal(HttpStatusCode.NotFound, await GetAsync("admin/rooms/empty-room", new AuthenticationHeaderValue("Bearer", AdminTokenNode.Token)));
    }

    [Theory]
    [InlineData("healthz")]
    [InlineData("readyz")]
    [InlineData("metrics")]
    public async Task Health_readiness_and_metrics_need_no_token(string path)
    {
        Assert.Equal(HttpStatusCode.OK, await GetAsync(path, null));
    }
}
