using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace AkkaVoice.IntegrationTests;

/// <summary>The dashboard in a real headless browser, against a real local cluster.</summary>
[Collection("processes")]
public sealed class DashboardTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_dashboard_shows_every_node_and_the_shards_that_move_when_a_node_joins()
    {
        if (HeadlessChromium.Executable() is null)
        {
            output.WriteLine("chromium is not installed (apt-get install chromium); the browser check did not run");
            return;
        }
        await using var first = await TestNode.StartAsync();
        await using var second = await TestNode.StartAsync(seed: first);

        // Rooms in use: asking about a room places its shard, so every shard has a home before the join.
        for (int i = 0; i < 300; i++) await first.Http.GetAsync($"admin/rooms/dash-{i}");

        await using var browser = (await HeadlessChromium.StartAsync($"http://127.0.0.1:{first.Options.HttpPort}/dashboard"))!;
        await WaitForAsync(browser, "window.akkavoice && window.akkavoice.nodes.length === 2 && window.akkavoice.nodes.every(n => n.shards > 0)");

        await using var third = await TestNode.StartAsync(seed: first);
        await WaitForAsync(browser, "window.akkavoice.nodes.length === 3 && window.akkavoice.nodes.every(n => n.status === 'Up' && n.shards > 0)", TimeSpan.FromSeconds(60));
        await WaitForAsync(browser, "window.akkavoice.moves.length > 0 && document.querySelectorAll('#move-list li').length > 0");

        var cards = (await browser.EvaluateAsync("[...document.querySelectorAll('.node')].map(n => n.dataset.address)")).EnumerateArray().Select(e => e.GetString()).ToList();
        foreach (var node in new[] { first, second, third })
            Assert.Contains($"akka.tcp://akkavoice@127.0.0.1:{node.Options.AkkaPort}", cards);
        var moves = await browser.EvaluateAsync("window.akkavoice.moves");
        Assert.Contains(moves.EnumerateArray(), m => m.GetProperty("to").GetString() == $"akka.tcp://akkavoice@127.0.0.1:{third.Options.AkkaPort}");

        var screenshot = Path.Combine(AppContext.BaseDirectory, "dashboard.png");
        await browser.ScreenshotAsync(screenshot);
        output.WriteLine($"screenshot: {screenshot}; moves seen: {moves.GetArrayLength()}");
    }

    private static async Task WaitForAsync(HeadlessChromium browser, string condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var value = await browser.EvaluateAsync($"!!({condition})");
            if (value.ValueKind == JsonValueKind.True) return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"page never satisfied {condition}; state: {await browser.EvaluateAsync("JSON.stringify(window.akkavoice)")}");
            await Task.Delay(250);
        }
    }
}
