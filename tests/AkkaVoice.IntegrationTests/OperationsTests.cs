using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Xunit;

namespace AkkaVoice.IntegrationTests;

/// <summary>What an SRE sees while shards rebalance: log events, metrics and the admin API.</summary>
[Collection("processes")]
public sealed class OperationsTests
{
    private sealed class ListSink : ILogEventSink
    {
        public ConcurrentQueue<LogEvent> Events { get; } = new();

        public void Emit(LogEvent logEvent) => Events.Enqueue(logEvent);
    }

    [Fact]
    public async Task A_joining_node_takes_shards_with_logged_and_counted_handoffs()
    {
        var sink = new ListSink();
        Log.Logger = new LoggerConfiguration().MinimumLevel.Information().WriteTo.Sink(sink).CreateLogger();
        try
        {
            const string verbose = "akka.loglevel = INFO";
            await using var first = await TestNode.StartAsync(hocon: verbose);
            await using var second = await TestNode.StartAsync(hocon: verbose, seed: first);
            for (int i = 0; i < 300; i++) await first.Http.GetAsync($"admin/rooms/ops-{i}");

            await using var third = await TestNode.StartAsync(hocon: verbose, seed: first);
            var thirdAddress = $"akka.tcp://akkavoice@127.0.0.1:{third.Options.AkkaPort}";
            await Eventually(async () =>
            {
                var shards = JsonDocument.Parse(await second.Http.GetStringAsync("admin/shards")).RootElement;
                var region = shards.GetProperty("regions").EnumerateArray().FirstOrDefault(r => r.GetProperty("address").GetString() == thirdAddress);
                return region.ValueKind == JsonValueKind.Object && region.GetProperty("shards").GetArrayLength() > 0;
            });
            await Eventually(async () => await Metric(first, "akkavoice_shard_handoffs_total") + await Metric(second, "akkavoice_shard_handoffs_total") > 0);
            await Eventually(async () => await Metric(first, "akkavoice_shard_handoff_duration_seconds_count") > 0);
            await Eventually(async () => await Metric(third, "akkavoice_shards_hosted") > 0);

            await Eventually(() => Task.FromResult(sink.Events.Any(e => e.MessageTemplate.Text.StartsWith("Shard {Shard} handoff started") && e.Properties["To"].ToString().Contains(thirdAddress))), 10);
            await Eventually(() => Task.FromResult(sink.Events.Any(e => e.MessageTemplate.Text.StartsWith("Shard {Shard} handoff completed") && e.Properties.ContainsKey("DurationMs"))), 10);
            await Eventually(() => Task.FromResult(sink.Events.Any(e => e.MessageTemplate.Text.StartsWith("Shard {Shard} handed off from"))), 10);
            await Eventually(() => Task.FromResult(sink.Events.Any(e => e.MessageTemplate.Text == "Member {Member} is up" && e.Properties["Member"].ToString().Contains(thirdAddress))), 10);

            // Akka's log events reach Serilog asynchronously, so they are awaited like everything else.
            var rebalance = JsonDocument.Parse(await first.Http.GetStringAsync("admin/rebalance")).RootElement;
            Assert.Equal(JsonValueKind.Array, rebalance.GetProperty("pending").ValueKind);
        }
        finally
        {
            await Log.CloseAndFlushAsync();
        }
    }

    [Fact]
    public async Task The_admin_api_drains_another_node_out_of_the_cluster()
    {
        await using var first = await TestNode.StartAsync(adminToken: "t0ken");
        await using var second = await TestNode.StartAsync(adminToken: "t0ken", seed: first);
        var secondAddress = $"akka.tcp://akkavoice@127.0.0.1:{second.Options.AkkaPort}";
        first.Http.DefaultRequestHeaders.Authorization = new("Bearer", "t0ken");
        await Eventually(async () => (await first.Http.GetStringAsync("admin/cluster")).Contains(secondAddress));

        Assert.Equal(HttpStatusCode.BadRequest, (await first.Http.PostAsync("admin/leave?address=nonsense", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await first.Http.PostAsync("admin/leave?address=akka.tcp://akkavoice@127.0.0.1:1", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await first.Http.PostAsync($"admin/leave?address={Uri.EscapeDataString(secondAddress)}", null)).StatusCode);

        await Eventually(async () => !(await first.Http.GetStringAsync("admin/cluster")).Contains(secondAddress));
    }

    private static async Task<double> Metric(TestNode node, string name)
    {
        var text = await node.Http.GetStringAsync("metrics");
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task Eventually(Func<Task<bool>> condition, int seconds = 60)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met in time");
            await Task.Delay(200);
        }
    }
}
