using Akka.Actor;
using AkkaVoice.Cluster.Rooms;

namespace AkkaVoice.Cluster.Relay;

/// <summary>
/// One per node, at <c>/user/relay</c>. Receives each frame of a room once and puts it on the outbound
/// queue of every local member except the speaker: the same payload array for all of them, no copy and
/// no allocation per receiver.
/// </summary>
public sealed class NodeRelay : UntypedActor
{
    /// <summary>The relay's name under <c>/user</c>; rooms address relays on other nodes by it.</summary>
    public const string Name = "relay";

    private readonly LocalMembers members;
    private readonly NodeStats stats;

    public NodeRelay(LocalMembers members, NodeStats stats)
    {
        this.members = members;
        this.stats = stats;
    }

    public static Props Props(LocalMembers members, NodeStats stats) =>
        Akka.Actor.Props.Create(() => new NodeRelay(members, stats));

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case VoiceOut frame:
                FanOut(frame);
                break;
            case VoiceBatch batch:
                foreach (var frame in batch.Frames) FanOut(frame);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void FanOut(VoiceOut frame)
    {
        stats.RelayFramesReceived.Increment();
        foreach (var m in members.Of(frame.Room))
        {
            if (m.Member != frame.Speaker && m.Active) m.Outbound.EnqueueVoice(m, frame.Speaker, frame.Payload);
        }
        if (frame.ReceivedAt != 0) stats.RelayLatency.Observe(Math.Max(0, DateTime.UtcNow.Ticks - frame.ReceivedAt) / (double)TimeSpan.TicksPerSecond);
    }
}
