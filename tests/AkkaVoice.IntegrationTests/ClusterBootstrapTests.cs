using System.Net;
using System.Text.Json;
using Akka.Configuration;
using AkkaVoice.Server;
using AkkaVoice.Server.Bootstrap;
using Xunit;

namespace AkkaVoice.IntegrationTests;

[CollectionDefinition(nameof(ClusterBootstrapTests), DisableParallelization = true)]
public sealed class ClusterBootstrapCollection;

/// <summary>
/// Cluster bootstrap as the Kubernetes pods run it (akkavoice.bootstrap.enabled = on, contact points on the
/// management port), with config discovery standing in for the Kubernetes API: real nodes on loopback.
/// </summary>
[Collection(nameof(ClusterBootstrapTests))]
public sealed class ClusterBootstrapTests
{
    [Fact]
    public void Bootstrap_is_off_by_default_and_explicit_seeds_win_over_it()
    {
        var plain = NodeSettings.FromArgs([]);
        Assert.Null(ContactPoint.Resolve(plain.Node, plain.Hocon));

        var kubernetes = NodeSettings.FromArgs(["--config", "kubernetes.conf", "--hostname", "10.1.0.10", "--bind", "0.0.0.0", "--tls-cert", "/etc/akkavoice/cluster-cert/cluster.p12"]);
        var contactPoint = ContactPoint.Resolve(kubernetes.Node, kubernetes.Hocon);
        Assert.NotNull(contactPoint);
        Assert.Equal(new Uri("http://10.1.0.10:8558/"), contactPoint.SelfBaseUri);
        Assert.Equal("http://0.0.0.0:8558", contactPoint.BindUrl);

        var seeded = kubernetes.Node with { Seeds = ["akka.tcp://akkavoice@10.1.0.11:4053"] };
        Assert.Null(ContactPoint.Resolve(seeded, kubernetes.Hocon));
    }

    [Fact]
    public async Task Two_nodes_form_a_cluster_through_bootstrap_and_a_later_node_joins_it()
    {
        var ports = Enumerable.Range(0, 3).Select(_ => TestNode.FreePort()).ToArray();
        TestNode? third = null;
        // The first two only find each other, as pods that are the only ones running would.
        var firstTwo = await Task.WhenAll(
            TestNode.StartAsync(hocon: Bootstrap(ports[0], ports[..2])),
            TestNode.StartAsync(hocon: Bootstrap(ports[1], ports[..2])));
        try
        {
            foreach (var node in firstTwo) Assert.Equal(2, await UpMembersAsync(node, 2));

            using var management = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports[0]}/") };
            using var seedNodes = JsonDocument.Parse(await management.GetStringAsync("bootstrap/seed-nodes"));
            Assert.Equal(firstTwo[0].Options.AkkaPort, seedNodes.RootElement.GetProperty("SelfNode").GetProperty("Port").GetInt32());
            Assert.Equal(2, seedNodes.RootElement.GetProperty("Nodes").GetArrayLength());
            // The management port serves bootstrap only; sockets and admin stay on the HTTP port.
            Assert.Equal(HttpStatusCode.NotFound, (await management.GetAsync("ws")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await management.GetAsync("admin/cluster")).StatusCode);

            // A pod started later (a rolling update's replacement) sees the running ones and joins their
            // cluster instead of forming its own.
            third = await TestNode.StartAsync(hocon: Bootstrap(ports[2], ports));
            Assert.Equal(3, await UpMembersAsync(third, 3));
            Assert.Equal(3, await UpMembersAsync(firstTwo[0], 3));
        }
        finally
        {
            if (third is not null) await third.DisposeAsync();
            foreach (var node in firstTwo) await node.DisposeAsync();
        }
    }

    private static string Bootstrap(int managementPort, int[] discovered) => $$"""
        akkavoice.bootstrap.enabled = on
        akka.management.http.port = {{managementPort}}
        akka.management.cluster.bootstrap {
          contact-point-discovery {
            service-name = akkavoice
            discovery-method = config
            port-name = ""
            required-contact-point-nr = 2
            stable-margin = 1s
            interval = 500ms
          }
          contact-point {
            filter-on-fallback-port = false
            probe-interval = 1s
          }
        }
        akka.discovery.config.services.akkavoice.endpoints = [{{string.Join(", ", discovered.Select(p => $"\"127.0.0.1:{p}\""))}}]
        """;

    /// <summary>How many members the node sees Up, once that is <paramref name="expected"/> or 20 s have passed.</summary>
    private static async Task<int> UpMembersAsync(TestNode node, int expected)
    {
        // Ready means this node is Up; the others' Up status reaches it a gossip round later.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            using var cluster = JsonDocument.Parse(await node.Http.GetStringAsync("admin/cluster"));
            var up = cluster.RootElement.GetProperty("members").EnumerateArray().Count(m => m.GetProperty("status").GetString() == "Up");
            if (up == expected || DateTime.UtcNow > deadline) return up;
            await Task.Delay(100);
        }
    }
}
