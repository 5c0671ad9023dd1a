using System.Text.Json;
using System.Text.RegularExpressions;
using AkkaVoice.IntegrationTests.Support;
using Xunit;

namespace AkkaVoice.IntegrationTests;

/// <summary>k8s/grafana/akkavoice-dashboard.json against a running node: every metric it queries is exported.</summary>
public sealed partial class GrafanaDashboardTests
{
    /// <summary>What the dashboard must show, by the metric it reads (docs/operations.md, Grafana dashboard).</summary>
    private static readonly string[] Required =
    [
        "akkavoice_connections", "akkavoice_rooms_hosted", "akkavoice_frames_delivered_total", "akkavoice_frames_dropped_total",
        "akkavoice_node_messages_sent_total", "akkavoice_frames_received_total", "akkavoice_node_text_messages_sent_total",
        "akkavoice_relay_latency_seconds_bucket", "akkavoice_shards_hosted", "akkavoice_shard_handoffs_total",
        "akkavoice_webhooks_total", "akkavoice_webhook_queue",
    ];

    [GeneratedRegex("akkavoice_[a-z0-9_]+")]
    private static partial Regex MetricName();

    [Fact]
    public async Task Every_akkavoice_metric_the_dashboard_queries_is_exported_by_a_running_node()
    {
        var queried = Queries(Dashboard()).SelectMany(q => MetricName().Matches(q).Select(m => m.Value)).ToHashSet();
        Assert.Superset(Required.ToHashSet(), queried);

        await using var node = await TestNode.StartAsync();
        var scrape = await Metrics.ScrapeAsync(node.Http);
        var exported = scrape.Text.Split('\n')
            .Where(line => line.StartsWith("akkavoice_", StringComparison.Ordinal))
            .Select(line => line[..line.IndexOfAny(['{', ' '])])
            .ToHashSet();
        // A histogram's base name stands for its _bucket, _sum and _count series.
        exported.UnionWith(exported.Where(n => n.EndsWith("_bucket", StringComparison.Ordinal)).Select(n => n[..^"_bucket".Length]).ToList());

        var missing = queried.Where(name => !exported.Contains(name)).Order().ToList();
        Assert.True(missing.Count == 0, $"the dashboard queries metrics /metrics does not export: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Every_panel_has_a_unique_id_a_place_and_queries_on_the_chosen_data_source()
    {
        var dashboard = Dashboard();
        var panels = dashboard.GetProperty("panels").EnumerateArray().ToList();
        Assert.NotEmpty(panels);
        Assert.Equal(panels.Count, panels.Select(p => p.GetProperty("id").GetInt32()).Distinct().Count());
        Assert.All(panels, panel =>
        {
            Assert.True(panel.GetProperty("gridPos").GetProperty("w").GetInt32() > 0);
            Assert.Equal("${datasource}", panel.GetProperty("datasource").GetProperty("uid").GetString());
            var targets = panel.GetProperty("targets").EnumerateArray().ToList();
            Assert.NotEmpty(targets);
            Assert.All(targets, t => Assert.False(string.IsNullOrWhiteSpace(t.GetProperty("expr").GetString())));
        });
        Assert.Contains(dashboard.GetProperty("templating").GetProperty("list").EnumerateArray(),
            v => v.GetProperty("name").GetString() == "datasource" && v.GetProperty("type").GetString() == "datasource");
    }

    private static JsonElement Dashboard()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "AkkaVoice.sln"))) root = Path.GetDirectoryName(root) ?? throw new DirectoryNotFoundException("AkkaVoice.sln is not above the test binaries");
        return JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "k8s", "grafana", "akkavoice-dashboard.json"))).RootElement.Clone();
    }

    /// <summary>Every PromQL the dashboard runs: the panels' targets and the template variables' queries.</summary>
    private static IEnumerable<string> Queries(JsonElement dashboard)
    {
        foreach (var panel in dashboard.GetProperty("panels").EnumerateArray())
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
                yield return target.GetProperty("expr").GetString()!;
        foreach (var variable in dashboard.GetProperty("templating").GetProperty("list").EnumerateArray())
            if (variable.TryGetProperty("definition", out var definition)) yield return definition.GetString()!;
    }
}
