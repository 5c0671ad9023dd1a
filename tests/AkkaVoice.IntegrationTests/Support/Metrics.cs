using System.Globalization;

namespace AkkaVoice.IntegrationTests.Support;

/// <summary>One scrape of <c>/metrics</c>: every sample by its series name (with labels, as written).</summary>
public sealed class Metrics
{
    private readonly Dictionary<string, double> samples;

    private Metrics(Dictionary<string, double> samples, string text)
    {
        this.samples = samples;
        Text = text;
    }

    public string Text { get; }

    public static async Task<Metrics> ScrapeAsync(HttpClient http)
    {
        var text = await http.GetStringAsync("metrics");
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var space = line.LastIndexOf(' ');
            samples[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }
        return new Metrics(samples, text);
    }

    /// <summary>The sample of <paramref name="series"/>, e.g. <c>akkavoice_frames_dropped_total{reason="not-joined"}</c>.</summary>
    public double this[string series] =>
        samples.TryGetValue(series, out var v) ? v : throw new KeyNotFoundException($"/metrics has no sample {series}");

    public bool Has(string series) => samples.ContainsKey(series);

    public static string Dropped(string reason) => $"akkavoice_frames_dropped_total{{reason=\"{reason}\"}}";
}
