namespace AkkaVoice.Protocol;

/// <summary>
/// The per-connection and per-room limits of PROTOCOL.md section 4. The defaults are the contract's;
/// a node reads its own values from the <c>akkavoice.limits</c> HOCON section.
/// </summary>
public sealed record Limits
{
    public int MaxFramePayload { get; init; } = 1500;
    public int MaxTextMessageBytes { get; init; } = 16 * 1024;
    public int RoomsPerConnection { get; init; } = 8;
    public int MembersPerRoom { get; init; } = 200;
    public double VoiceFramesPerSecond { get; init; } = 100;
    public int VoiceFrameBurst { get; init; } = 200;
    public double TextMessagesPerSecond { get; init; } = 20;
    public int TextMessageBurst { get; init; } = 60;
    public int VoiceQueueFrames { get; init; } = 256;
    public int TextQueueMessages { get; init; } = 256;
    public TimeSpan StuckReceiverTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(15);
    public TimeSpan KeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(45);
}
