using Akka.Actor;
using AkkaVoice.Cluster.Hub;
using AkkaVoice.Cluster.Rooms;

namespace AkkaVoice.Cluster.Relay;

/// <summary>
/// One per node, at <c>/user/relay</c>: takes the voice frames other nodes send here, each once per node,
/// and puts each on the outbound queue of every local member of its room except the speaker: the same
/// payload array for all of them, no copy and no allocation per receiver. An idle socket is written at
/// once on this thread (see <c>Outbound</c>).
/// </summary>
public sealed class NodeRelay : UntypedActor
{
    /// <summary>The relay's name under <c>/user</c>; other nodes address it by this name.</summary>
    public const string Name = "relay";

    private readonly LocalRooms rooms;
    private readonly NodeStats stats;

    public NodeRelay(LocalRooms rooms, NodeStats stats)
    {
        this.rooms = rooms;
        this.stats = stats;
    }

    public static Props Props(LocalRooms rooms, NodeStats stats) => Akka.Actor.Props.Create(() => new NodeRelay(rooms, stats));

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
        if (rooms.Find(frame.Room) is { } room) room.FanOut(frame.Speaker, frame.Payload);
        if (frame.ReceivedAt != 0) stats.RelayLatency.Observe(Math.Max(0, DateTime.UtcNow.Ticks - frame.ReceivedAt) / (double)TimeSpan.TicksPerSecond);
    }
}
