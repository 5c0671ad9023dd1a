namespace AkkaVoice.Protocol;

/// <summary>
/// The per-connection and per-room limits of PROTOCOL.md section 4, and the timings a connection keeps.
/// Every value comes from the <c>akkavoice.limits</c> HOCON section (hocon/akkavoice.conf holds the
/// contract's defaults); there are none here, so a value is never read from two places.
/// </summary>
public sealed record Limits
{
    public required int MaxFramePayload { get; init; }
    public required int MaxTextMessageBytes { get; init; }
    public required int RoomsPerConnection { get; init; }
    public required int MembersPerRoom { get; init; }

    /// <summary>Members of a stage room (section 8); <see cref="MembersPerRoom"/> is an open room's.</summary>
    public required int StageMembersPerRoom { get; init; }

    /// <summary>The per-room <c>say</c> limit, all members together (token bucket).</summary>
    public required double SaysPerRoomPerSecond { get; init; }

    public required int SayBurstPerRoom { get; init; }
    public required double VoiceFramesPerSecond { get; init; }
    public required int VoiceFrameBurst { get; init; }
    public required double TextMessagesPerSecond { get; init; }
    public required int TextMessageBurst { get; init; }
    public required int VoiceQueueFrames { get; init; }
    public required int TextQueueMessages { get; init; }
    public required TimeSpan StuckReceiverTimeout { get; init; }
    public required TimeSpan KeepAliveInterval { get; init; }
    public required TimeSpan KeepAliveTimeout { get; init; }

    /// <summary>How long a closing socket waits for the client's close frame (and its last writes) before it is aborted.</summary>
    public required TimeSpan CloseGrace { get; init; }
}
