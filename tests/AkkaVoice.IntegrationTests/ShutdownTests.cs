using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using AkkaVoice.IntegrationTests.Support;
using Xunit;

namespace AkkaVoice.IntegrationTests;

/// <summary>
/// PROTOCOL.md section 5, <c>/readyz</c> from the start of shutdown, and the 1001 close that goes with it,
/// whatever starts the shutdown. Nodes of their own.
/// </summary>
public sealed class ShutdownTests
{
    [Fact]
    public async Task From_the_start_of_shutdown_readyz_never_answers_200_and_clients_are_closed_with_1001()
    {
        var node = await TestNode.StartAsync();
        var stopped = Task.CompletedTask;
        try
        {
            await using var client = await node.ClientAsync(Names.User());
            using var http = new HttpClient { BaseAddress = node.Http.BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("readyz")).StatusCode);

            var watch = Stopwatch.StartNew();
            stopped = Task.Run(async () => await node.DisposeAsync());
            var closed = await client.WaitClosedAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, closed.Status);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"closed {watch.Elapsed} after the shutdown began");

            // The node is shutting down: while it still answers HTTP, readiness is 503, never 200 again.
            var answers = new List<HttpStatusCode?>();
            while (!stopped.IsCompleted)
            {
                try
                {
                    answers.Add((await http.GetAsync("readyz")).StatusCode);
                }
                catch (HttpRequestException)
                {
                    answers.Add(null);
                }
                await Task.Delay(20);
            }
            // Whether Kestrel still answers at all by now is a race with its own stop; what it answers is not.
            Assert.All(answers, a => Assert.True(a is null or HttpStatusCode.ServiceUnavailable, $"readyz answered {a} during shutdown"));
        }
        finally
        {
            if (stopped == Task.CompletedTask) await node.DisposeAsync();
            else await stopped;
        }
    }

    [Fact]
    public async Task A_node_downed_by_the_others_closes_its_clients_with_1001_and_stops()
    {
        await using var first = await TestNode.StartAsync();
        var second = await TestNode.StartAsync(seed: first);
        try
        {
            await using var client = await second.ClientAsync(Names.User());
            var downed = Akka.Cluster.Cluster.Get(second.System).SelfAddress;

            // What the split-brain resolver does to a node the others cannot reach: the node learns it is
            // down and runs coordinated shutdown itself (run-coordinated-shutdown-when-down).
            Akka.Cluster.Cluster.Get(first.System).Down(downed);
            var closed = await client.WaitClosedAsync(TimeSpan.FromSeconds(20));
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, closed.Status);
            await second.System.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            await second.DisposeAsync();
        }
    }
}
