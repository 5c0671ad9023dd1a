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

/// <summary>The node's own settings, read from the <c>akkavoice</c> section of its HOCON.</summary>
public sealed record VoiceSettings
{
    public Routing Routing { get; init; } = Routing.Interest;
    public int ShardCount { get; init; } = 100;
    public int MaxSimultaneousRebalance { get; init; } = 10;
    public int HistorySize { get; init; } = 100;
    public TimeSpan RoomIdleTimeout { get; init; } = TimeSpan.FromMinutes(5);
    public TimeSpan RoomProbeTimeout { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan RejoinGrace { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan RetryInterval { get; init; } = TimeSpan.FromSeconds(1);
    public Limits Limits { get; init; } = new();

    /// <summary>Reads <c>akkavoice { ... }</c>; a missing key keeps the contract's default.</summary>
    public static VoiceSettings FromConfig(Config config)
    {
        var c = config.GetConfig("akkavoice") ?? ConfigurationFactory.Empty;
        var d = new VoiceSettings();
        var l = c.GetConfig("limits") ?? ConfigurationFactory.Empty;
        var dl = d.Limits;
        var routing = c.GetString("routing", "interest");
        var settings = new VoiceSettings
        {
            Routing = routing switch
            {
                "interest" => Routing.Interest,
                "via-room" => Routing.ViaRoom,
                "broadcast" => Routing.Broadcast,
                _ => throw new ConfigurationException($"akkavoice.routing must be interest, via-room or broadcast, not '{routing}'"),
            },
            ShardCount = c.GetInt("shard-count", d.ShardCount),
            MaxSimultaneousRebalance = c.GetInt("max-simultaneous-rebalance", d.MaxSimultaneousRebalance),
            HistorySize = c.GetInt("history-size", d.HistorySize),
            RoomIdleTimeout = c.GetTimeSpan("room-idle-timeout", d.RoomIdleTimeout),
            RoomProbeTimeout = c.GetTimeSpan("room-probe-timeout", d.RoomProbeTimeout),
            RejoinGrace = c.GetTimeSpan("rejoin-grace", d.RejoinGrace),
            RetryInterval = c.GetTimeSpan("retry-interval", d.RetryInterval),
            Limits = new Limits
            {
                MaxFramePayload = l.GetInt("max-frame-payload", dl.MaxFramePayload),
                MaxTextMessageBytes = l.GetInt("max-text-message-bytes", dl.MaxTextMessageBytes),
                RoomsPerConnection = l.GetInt("rooms-per-connection", dl.RoomsPerConnection),
                MembersPerRoom = l.GetInt("members-per-room", dl.MembersPerRoom),
                VoiceFramesPerSecond = l.GetDouble("voice-frames-per-second", dl.VoiceFramesPerSecond),
                VoiceFrameBurst = l.GetInt("voice-frame-burst", dl.VoiceFrameBurst),
                TextMessagesPerSecond = l.GetDouble("text-messages-per-second", dl.TextMessagesPerSecond),
                TextMessageBurst = l.GetInt("text-message-burst", dl.TextMessageBurst),
                VoiceQueueFrames = l.GetInt("voice-queue-frames", dl.VoiceQueueFrames),
                TextQueueMessages = l.GetInt("text-queue-messages", dl.TextQueueMessages),
                StuckReceiverTimeout = l.GetTimeSpan("stuck-receiver-timeout", dl.StuckReceiverTimeout),
                KeepAliveInterval = l.GetTimeSpan("keep-alive-interval", dl.KeepAliveInterval),
                KeepAliveTimeout = l.GetTimeSpan("keep-alive-timeout", dl.KeepAliveTimeout),
            },
        };
        settings.Validate();
        return settings;
    }

    /// <summary>Refuses settings a node cannot run with, naming the key, rather than failing later under load.</summary>
    private void Validate()
    {
        static void Positive(double value, string key)
        {
            if (value <= 0) throw new ConfigurationException($"akkavoice.{key} must be positive, not {value}");
        }
        Positive(ShardCount, "shard-count");
        Positive(MaxSimultaneousRebalance, "max-simultaneous-rebalance");
        Positive(Limits.MaxFramePayload, "limits.max-frame-payload");
        Positive(Limits.MaxTextMessageBytes, "limits.max-text-message-bytes");
        Positive(Limits.RoomsPerConnection, "limits.rooms-per-connection");
        Positive(Limits.MembersPerRoom, "limits.members-per-room");
        Positive(Limits.VoiceFramesPerSecond, "limits.voice-frames-per-second");
        Positive(Limits.VoiceFrameBurst, "limits.voice-frame-burst");
        Positive(Limits.TextMessagesPerSecond, "limits.text-messages-per-second");
        Positive(Limits.TextMessageBurst, "limits.text-message-burst");
        Positive(RoomProbeTimeout.TotalMilliseconds, "room-probe-timeout");
        Positive(RejoinGrace.TotalMilliseconds, "rejoin-grace");
        Positive(RetryInterval.TotalMilliseconds, "retry-interval");
        if (HistorySize < 100) throw new ConfigurationException($"akkavoice.history-size must be at least 100 (the contract keeps the last 100), not {HistorySize}");
        if (Limits.RoomsPerConnection > 256) throw new ConfigurationException($"akkavoice.limits.rooms-per-connection must be at most 256 (a slot is one byte), not {Limits.RoomsPerConnection}");
        Positive(Limits.VoiceQueueFrames, "limits.voice-queue-frames");
        Positive(Limits.TextQueueMessages, "limits.text-queue-messages");
        Positive(Limits.StuckReceiverTimeout.TotalMilliseconds, "limits.stuck-receiver-timeout");
        Positive(Limits.KeepAliveInterval.TotalMilliseconds, "limits.keep-alive-interval");
        if (Limits.KeepAliveTimeout <= Limits.KeepAliveInterval)
            throw new ConfigurationException("akkavoice.limits.keep-alive-timeout must be longer than keep-alive-interval");
    }
}
