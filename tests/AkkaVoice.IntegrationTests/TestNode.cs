using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Configuration;
using AkkaVoice.Client;
using AkkaVoice.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace AkkaVoice.IntegrationTests;

/// <summary>
/// A real AkkaVoice node in the test process: the same host the executable runs (Kestrel, WebSockets,
/// Akka cluster of one), on free loopback ports, ready before the test starts.
/// </summary>
public sealed class TestNode : IAsyncDisposable
{
    private readonly WebApplication app;

    private TestNode(WebApplication app, NodeOptions options)
    {
        this.app = app;
        Options = options;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{options.HttpPort}/") };
    }

    public NodeOptions Options { get; }
    public HttpClient Http { get; }

    /// <summary>The node's actor system, as Akka.Hosting registered it.</summary>
    public ActorSystem System => app.Services.GetRequiredService<ActorSystem>();

    /// <summary>
    /// Starts a node with the flags the executable takes; <paramref name="hocon"/> overrides the project's
    /// HOCON (for example a smaller limit).
    /// </summary>
    public static async Task<TestNode> StartAsync(string? jwtSecret = null, string? adminToken = null, string hocon = "", TestNode? seed = null,
        params string[] flags)
    {
        List<string> args = ["--http-port", FreePort().ToString(), "--akka-port", FreePort().ToString(), .. flags];
        if (jwtSecret is not null) args.AddRange(["--jwt-secret", jwtSecret]);
        if (adminToken is not null) args.AddRange(["--admin-token", adminToken]);
        if (seed is not null) args.AddRange(["--seeds", $"akka.tcp://akkavoice@127.0.0.1:{seed.Options.AkkaPort}"]);
        var config = ConfigurationFactory.ParseString(hocon).WithFallback(ConfigurationFactory.ParseString("akka.loglevel = WARNING"));
        var app = VoiceHost.Build([.. args], config);
        await app.StartAsync();
        var node = new TestNode(app, app.Services.GetRequiredService<NodeOptions>());
        await node.WaitReadyAsync();
        return node;
    }

    public Uri Ws(string query = "") => new($"ws://127.0.0.1:{Options.HttpPort}/ws{(query.Length > 0 ? "?" + query : "")}");

    /// <summary>The HTTP port, shared by <c>/ws</c> and the HTTP endpoints.</summary>
    public int Port => Options.HttpPort;

    /// <summary>Connects <paramref name="user"/> (development mode) and returns the client, its welcome already read.</summary>
    public async Task<VoiceClient> ClientAsync(string user) => (await ConnectAsync(user)).Client;

    /// <summary>Connects a client and reads its welcome.</summary>
    public async Task<(VoiceClient Client, TextEvent Welcome)> ConnectAsync(string user, string? bearer = null)
    {
        var client = await VoiceClient.ConnectAsync(Ws(bearer is null ? "user=" + user : ""), bearer);
        var welcome = await client.ExpectAsync("welcome");
        return (client, welcome);
    }

    private async Task WaitReadyAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                if ((await Http.GetAsync("readyz")).StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException)
            {
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the node did not become ready");
            await Task.Delay(50);
        }
    }

    private static int nextPort = Random.Shared.Next(0, 8000);

    /// <summary>
    /// A port for a node to bind, free now, below the ephemeral ranges (32768+ on Linux, 49152+ elsewhere)
    /// and never handed out twice in this process. A port 0 bind (the TestKit specs' nodes) or an outgoing
    /// connection anywhere on the machine therefore cannot take it between here and the node's own bind.
    /// </summary>
    public static int FreePort()
    {
        while (true)
        {
            int port = 20000 + Interlocked.Increment(ref nextPort) % 12000;
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
