using Akka.Configuration;
using AkkaVoice.Cluster;

namespace AkkaVoice.Server;

/// <summary>
/// The host's own settings around the sockets and the HTTP endpoints, read once from <c>akkavoice</c>
/// in the node's HOCON (defaults and comments in hocon/akkavoice.conf).
/// </summary>
public sealed record ServerSettings
{
    /// <summary>Kestrel's inline socket scheduling (<c>akkavoice.inline-io</c>).</summary>
    public required bool InlineIo { get; init; }

    /// <summary>Browser origins allowed to open <c>/ws</c>; empty allows any.</summary>
    public required IReadOnlyList<string> AllowedOrigins { get; init; }

    /// <summary>How long shutdown waits for clients to close after it sent them 1001.</summary>
    public required TimeSpan CloseTimeout { get; init; }

    /// <summary>How long the whole stop (closing, handoff, leaving the cluster) may take before the host gives up on it.</summary>
    public required TimeSpan ShutdownTimeout { get; init; }

    /// <summary>How long an admin endpoint waits for the shard regions' answer.</summary>
    public required TimeSpan AdminQueryTimeout { get; init; }

    /// <summary>How long one readiness probe of the room shard region waits before it asks again.</summary>
    public required TimeSpan ReadyProbeTimeout { get; init; }

    /// <summary>How long Kestrel waits for a request's headers (<c>akkavoice.request-headers-timeout</c>).</summary>
    public required TimeSpan RequestHeadersTimeout { get; init; }

    public static ServerSettings FromConfig(Config config)
    {
        var c = new HoconSettings(config, "akkavoice");
        var shutdown = c.Section("shutdown");
        var settings = new ServerSettings
        {
            InlineIo = c.Bool("inline-io"),
            AllowedOrigins = c.StringList("allowed-origins"),
            CloseTimeout = shutdown.PositiveDuration("close-timeout"),
            ShutdownTimeout = shutdown.PositiveDuration("timeout"),
            AdminQueryTimeout = c.PositiveDuration("admin-query-timeout"),
            ReadyProbeTimeout = c.PositiveDuration("ready-probe-timeout"),
            RequestHeadersTimeout = c.PositiveDuration("request-headers-timeout"),
        };
        foreach (var name in new[] { "before-service-unbind", "cluster-leave" })
        {
            var phase = new HoconSettings(config, $"akka.coordinated-shutdown.phases.{name}").PositiveDuration("timeout");
            if (settings.CloseTimeout >= phase)
                throw shutdown.Refuse("close-timeout", $"must be shorter than akka.coordinated-shutdown.phases.{name}.timeout ({phase}), a phase it runs in, not {settings.CloseTimeout}");
        }
        if (settings.CloseTimeout >= settings.ShutdownTimeout)
            throw shutdown.Refuse("close-timeout", $"must be shorter than akkavoice.shutdown.timeout ({settings.ShutdownTimeout}), not {settings.CloseTimeout}");
        return settings;
    }
}
