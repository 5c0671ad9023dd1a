using Akka.Configuration;
using AkkaVoice.Protocol;

namespace AkkaVoice.Cluster;

/// <summary>How a room sends a voice frame to other nodes.</summary>
public enum Routing
{
    /// <summary>
    /// The speaker's node delivers to its own members of the room and sends the frame once to each other
    /// node with members, which the room tells it (the design).
    /// </summary>
    Interest,

    /// <summary>
    /// The speaker's node delivers to its own members and sends the frame to the room, which sends it once to
    /// each other node with members: one more hop, kept to measure interest routing against.
    /// </summary>
    ViaRoom,

    /// <summary>Once to every node of the cluster: the old design, kept as a measurable baseline.</summary>
    Broadcast,
}

/// <summary>
/// How the node places and runs rooms: routing, sharding and room state, read once from the <c>akkavoice</c>
/// section of its HOCON, with the node's <see cref="Limits"/> and <see cref="HealingSettings"/>. The
/// defaults are in hocon/akkavoice.conf, each key commented; a bad value stops the node with its key.
/// </summary>
public sealed record VoiceSettings
{
    public required Routing Routing { get; init; }
    public required int ShardCount { get; init; }
    public required int MaxSimultaneousRebalance { get; init; }
    public required int HistorySize { get; init; }
    public required TimeSpan RoomIdleTimeout { get; init; }
    public required HealingSettings Healing { get; init; }
    public required Limits Limits { get; init; }

    /// <summary>Parses a routing name, as the HOCON key and the <c>--routing</c> flag spell it; null when unknown.</summary>
    public static Routing? ParseRouting(string name) => name switch
    {
        "interest" => Routing.Interest,
        "via-room" => Routing.ViaRoom,
        "broadcast" => Routing.Broadcast,
        _ => null,
    };

    /// <summary>Reads and checks <c>akkavoice { ... }</c>; throws a <see cref="ConfigurationException"/> naming the first bad key.</summary>
    public static VoiceSettings FromConfig(Config config)
    {
        var c = new HoconSettings(config, "akkavoice");
        var routing = c.String("routing");
        var settings = new VoiceSettings
        {
            Routing = ParseRouting(routing) ?? throw c.Refuse("routing", $"must be interest, via-room or broadcast, not '{routing}'"),
            ShardCount = c.Int("shard-count", 1),
            MaxSimultaneousRebalance = c.Int("max-simultaneous-rebalance", 1),
            HistorySize = c.Int("history-size", 100),
            RoomIdleTimeout = c.PositiveDuration("room-idle-timeout"),
            Healing = HealingSettings.FromConfig(c),
            Limits = LimitsFromConfig(c.Section("limits")),
        };
        return settings;
    }

    private static Limits LimitsFromConfig(HoconSettings l)
    {
        var limits = new Limits
        {
            MaxFramePayload = l.Int("max-frame-payload", 1),
            MaxTextMessageBytes = l.Int("max-text-message-bytes", 1),
            // A slot is one byte of every voice frame.
            RoomsPerConnection = l.Int("rooms-per-connection", 1, 256),
            MembersPerRoom = l.Int("members-per-room", 1),
            StageMembersPerRoom = l.Int("stage-members-per-room", 1),
            SaysPerRoomPerSecond = l.PositiveDouble("says-per-room-per-second"),
            SayBurstPerRoom = l.Int("say-burst-per-room", 1),
            VoiceFramesPerSecond = l.PositiveDouble("voice-frames-per-second"),
            VoiceFrameBurst = l.Int("voice-frame-burst", 1),
            TextMessagesPerSecond = l.PositiveDouble("text-messages-per-second"),
            TextMessageBurst = l.Int("text-message-burst", 1),
            VoiceQueueFrames = l.Int("voice-queue-frames", 1),
            TextQueueMessages = l.Int("text-queue-messages", 1),
            StuckReceiverTimeout = l.PositiveDuration("stuck-receiver-timeout"),
            KeepAliveInterval = l.PositiveDuration("keep-alive-interval"),
            KeepAliveTimeout = l.PositiveDuration("keep-alive-timeout"),
            CloseGrace = l.PositiveDuration("close-grace"),
        };
        if (limits.KeepAliveTimeout <= limits.KeepAliveInterval)
            throw l.Refuse("keep-alive-timeout", $"must be longer than keep-alive-interval ({limits.KeepAliveInterval}), not {limits.KeepAliveTimeout}");
        return limits;
    }
}

/// <summary>
/// How the node heals rooms and memberships after a move or a crash: the timings of <c>akkavoice</c>
/// that an operator may tune (hocon/akkavoice.conf says what each one trades).
/// </summary>
public sealed record HealingSettings
{
    public required TimeSpan RoomProbeTimeout { get; init; }
    public required TimeSpan RejoinGrace { get; init; }
    public required TimeSpan RetryInterval { get; init; }
    public required TimeSpan ShardWatchInterval { get; init; }
    public required bool DeadNodeProbe { get; init; }
    public required TimeSpan DeadNodeProbeTimeout { get; init; }
    public required TimeSpan DeadNodeProbeInterval { get; init; }

    internal static HealingSettings FromConfig(HoconSettings c) => new()
    {
        RoomProbeTimeout = c.PositiveDuration("room-probe-timeout"),
        RejoinGrace = c.PositiveDuration("rejoin-grace"),
        RetryInterval = c.PositiveDuration("retry-interval"),
        ShardWatchInterval = c.PositiveDuration("shard-watch-interval"),
        DeadNodeProbe = c.Bool("dead-node-probe.enabled"),
        DeadNodeProbeTimeout = c.PositiveDuration("dead-node-probe.timeout"),
        DeadNodeProbeInterval = c.PositiveDuration("dead-node-probe.interval"),
    };
}
