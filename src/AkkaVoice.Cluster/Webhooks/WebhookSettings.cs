using System.Text;
using Akka.Configuration;

namespace AkkaVoice.Cluster.Webhooks;

/// <summary>
/// Where a node sends its rooms' events (PROTOCOL section 10) and how it retries: the URLs and secret come from
/// <c>--webhook-url</c> and <c>--webhook-secret</c>, the timings from <c>akkavoice.webhooks</c> (hocon/akkavoice.conf).
/// </summary>
public sealed record WebhookSettings
{
    /// <summary>The secret must be at least this long (HMAC-SHA256 with a 256-bit key).</summary>
    public const int MinSecretBytes = 32;

    /// <summary>Each URL gets every event.</summary>
    public required IReadOnlyList<Uri> Urls { get; init; }

    public required byte[] Secret { get; init; }
    public required TimeSpan AttemptTimeout { get; init; }
    public required TimeSpan FirstRetry { get; init; }
    public required TimeSpan MaxRetryInterval { get; init; }
    public required TimeSpan GiveUpAfter { get; init; }
    public required int QueueLimit { get; init; }
    public required int Concurrency { get; init; }
    public required TimeSpan FlushTimeout { get; init; }

    /// <summary>
    /// The settings for <paramref name="urls"/> (comma-separated) signed with <paramref name="secret"/>, or null when no
    /// URL is given. Throws an <see cref="ArgumentException"/> naming the flag for a URL that is not absolute http(s),
    /// or a missing or short secret: a node that would send unsigned or badly signed events does not start.
    /// </summary>
    public static WebhookSettings? From(string? urls, string? secret, Config hocon)
    {
        var list = (urls ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (list.Length == 0) return null;
        var parsed = list.Select(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.UserInfo.Length == 0
            ? uri
            : throw new ArgumentException($"--webhook-url must list absolute http or https URLs (without user:password@), not '{Shown(u)}'")).ToArray();
        if (secret is null || Encoding.UTF8.GetByteCount(secret) < MinSecretBytes)
            throw new ArgumentException($"--webhook-secret of at least {MinSecretBytes} bytes is required when --webhook-url is set (events are signed with it)");

        var c = new HoconSettings(hocon, "akkavoice.webhooks");
        var settings = new WebhookSettings
        {
            Urls = parsed,
            Secret = Encoding.UTF8.GetBytes(secret),
            AttemptTimeout = c.PositiveDuration("attempt-timeout"),
            FirstRetry = c.PositiveDuration("first-retry"),
            MaxRetryInterval = c.PositiveDuration("max-retry-interval"),
            GiveUpAfter = c.PositiveDuration("give-up-after"),
            QueueLimit = c.Int("queue-limit", 1),
            Concurrency = c.Int("concurrency", 1, 1024),
            FlushTimeout = c.Duration("flush-timeout"),
        };
        if (settings.MaxRetryInterval < settings.FirstRetry)
            throw c.Refuse("max-retry-interval", $"must be at least first-retry ({settings.FirstRetry}), not {settings.MaxRetryInterval}");
        return settings;
    }

    /// <summary>A URL as a log line or an error may show it: scheme, host, port and path, never its query (it may hold a token).</summary>
    public static string Shown(string url) => url.Split('?', 2)[0];

    /// <inheritdoc cref="Shown(string)"/>
    public static string Shown(Uri url) => url.GetLeftPart(UriPartial.Path);
}
