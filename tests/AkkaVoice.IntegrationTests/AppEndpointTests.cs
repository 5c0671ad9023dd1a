using System.Net;
using AkkaVoice.IntegrationTests.Support;
using Xunit;

namespace AkkaVoice.IntegrationTests;

/// <summary>PROTOCOL.md section 7: the app at / and the JavaScript client, served by the node next to /ws and the endpoints.</summary>
public sealed class AppEndpointTests(DefaultNode fixture) : IClassFixture<DefaultNode>
{
    private readonly TestNode node = fixture.Node;

    [Theory]
    [InlineData("/", "text/html", "<script type=\"module\" src=\"app.js\">")]
    [InlineData("/index.html", "text/html", "href=\"/dashboard\"")]
    [InlineData("/app.js", "text/javascript", "from './client/akkavoice.js'")]
    [InlineData("/audio.js", "text/javascript", "AudioEncoder")]
    [InlineData("/app.css", "text/css", "#members")]
    [InlineData("/client/akkavoice.js", "text/javascript", "export class VoiceClient")]
    [InlineData("/client/akkavoice.d.ts", "text/plain", "export declare class VoiceClient")]
    [InlineData("/dashboard", "text/html", "href=\"/\"")]
    public async Task The_node_serves_the_app_and_the_client(string path, string type, string content)
    {
        var response = await node.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(type, response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(content, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Unknown_paths_are_404_and_the_other_endpoints_still_answer()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await node.Http.GetAsync("/nothing-here.js")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await node.Http.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await node.Http.GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await node.Http.GetAsync("/admin/cluster")).StatusCode);
    }
}
