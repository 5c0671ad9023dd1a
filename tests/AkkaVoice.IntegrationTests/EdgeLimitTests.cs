using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using AkkaVoice.IntegrationTests.Support;
using Xunit;

namespace AkkaVoice.IntegrationTests;

/// <summary>A node behind a proxy on 127.0.0.1: 3 connections in all, 2 per client address, a 1 s header timeout.</summary>
public sealed class EdgeLimitedNode : NodeFixture
{
    protected override Task<TestNode> StartAsync() => TestNode.StartAsync(hocon: """
        akkavoice.node { max-connections = 3, max-connections-per-ip = 2, trusted-proxies = ["127.0.0.1"] }
        akkavoice.request-headers-timeout = 1s
        """);
}

/// <summary>
/// PROTOCOL.md section 11, the edge: past <c>--max-connections</c> or <c>--max-connections-per-ip</c> an upgrade
/// gets 503 before it happens, counted by reason; the client address comes from X-Forwarded-For only through a
/// trusted proxy; a slow upgrade request holds no slot and is dropped at Kestrel's header timeout.
/// </summary>
public sealed class EdgeLimitTests(EdgeLimitedNode fixture) : IClassFixture<EdgeLimitedNode>
{
    private readonly TestNode node = fixture.Node;

    private async Task<ClientWebSocket> OpenAsync(string forwardedFor)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("X-Forwarded-For", forwardedFor);
        await socket.ConnectAsync(node.Ws("user=" + Names.User("edge")), CancellationToken.None);
        return socket;
    }

    private Task<RawResponse> RefusedAsync(string forwardedFor) =>
        RawHttp.UpgradeAsync(node.Port, "/ws?user=" + Names.User("edge"), ("X-Forwarded-For", forwardedFor));

    private async Task<double> RefusalsAsync(string reason) =>
        (await Metrics.ScrapeAsync(node.Http))[$"akkavoice_connections_refused_total{{reason=\"{reason}\"}}"];

    [Fact]
    public async Task Past_either_limit_an_upgrade_gets_503_counted_by_reason_and_other_addresses_are_unaffected()
    {
        var perIp = await RefusalsAsync("max-connections-per-ip");
        var perNode = await RefusalsAsync("max-connections");

        // Slow clients first: upgrade requests that never finish their headers hold no slot.
        var slow = new List<TcpClient>();
        for (int i = 0; i < 5; i++)
        {
            var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, node.Port);
            await tcp.GetStream().WriteAsync(Encoding.ASCII.GetBytes("GET /ws?user=slow HTTP/1.1\r\nHost: x\r\n"));
            slow.Add(tcp);
        }

        using var a1 = await OpenAsync("203.0.113.7");
        using var a2 = await OpenAsync("198.51.100.1, 203.0.113.7");
        var refused = await RefusedAsync("203.0.113.7");
        Assert.Equal(503, refused.Status);
        Assert.Contains("this address holds its maximum of 2 connections", Encoding.UTF8.GetString(refused.Body));
        Assert.Equal(perIp + 1, await RefusalsAsync("max-connections-per-ip"));

        // Another address is unaffected, up to the node's own limit.
        using var b1 = await OpenAsync("203.0.113.8");
        Assert.Equal(WebSocketState.Open, b1.State);
        refused = await RefusedAsync("203.0.113.9");
        Assert.Equal(503, refused.Status);
        Assert.Contains("this node holds its maximum of 3 connections", Encoding.UTF8.GetString(refused.Body));
        Assert.Equal(perNode + 1, await RefusalsAsync("max-connections"));

        // A closed connection gives its slot back.
        await a1.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        using var a3 = await Wait.ForAsync(async () =>
        {
            try
            {
                return await OpenAsync("203.0.113.7");
            }
            catch (WebSocketException)
            {
                return null;
            }
        }, TimeSpan.FromSeconds(10), "a slot given back");

        // The slow requests are dropped at the header timeout (1 s here).
        foreach (var tcp in slow)
        {
            Assert.True(await AkkaWire.ClosedByPeerAsync(tcp.GetStream(), TimeSpan.FromSeconds(10)), "a slow upgrade request outlived the header timeout");
            tcp.Dispose();
        }
    }
}

/// <summary>A node with one connection per address and no trusted proxy.</summary>
public sealed class OnePerAddressNode : NodeFixture
{
    protected override Task<TestNode> StartAsync() => TestNode.StartAsync(hocon: "akkavoice.node.max-connections-per-ip = 1");
}

public sealed class UntrustedForwardingTests(OnePerAddressNode fixture) : IClassFixture<OnePerAddressNode>
{
    [Fact]
    public async Task X_forwarded_for_from_a_peer_that_is_not_a_trusted_proxy_is_ignored()
    {
        var node = fixture.Node;
        using var first = new ClientWebSocket();
        first.Options.SetRequestHeader("X-Forwarded-For", "198.51.100.1");
        await first.ConnectAsync(node.Ws("user=" + Names.User("first")), CancellationToken.None);
        var refused = await RawHttp.UpgradeAsync(node.Port, "/ws?user=" + Names.User("second"), ("X-Forwarded-For", "198.51.100.2"));
        Assert.Equal(503, refused.Status);
    }
}
