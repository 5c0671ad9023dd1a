using Akka.Actor;
using AkkaVoice.Cluster.Rooms;

namespace AkkaVoice.Cluster.Relay;

/// <summary>One frame for several other nodes' relays (the other nodes with members of its room).</summary>
public sealed record RelayFrames(IActorRef[] Relays, VoiceOut Frame);

/// <summary>
/// One per node, at <c>/user/relay-outbox</c>: every voice frame this node sends to other nodes' relays
/// passes through it, whether a speaker's node sends it (interest routing) or a room (via-room and
/// broadcast). It sends what has collected for each relay as one message once it has taken every frame
/// already in its mailbox (a flush it tells itself lands behind them). No timer: a quiet node sends each
/// frame at once; a busy one sends a few frames per message, and remoting's cost per message, which is
/// far above its cost per byte, is paid once for all of them. One outbox per node also keeps each
/// speaker's frames in order on their way to each node.
/// </summary>
public sealed class RelayOutbox : UntypedActor
{
    public const string Name = "relay-outbox";

    private sealed class Flush
    {
        public static readonly Flush Instance = new();
    }

    private readonly NodeStats stats;

    // The frames collected since the last flush, by relay; a flush is queued exactly while this is not empty.
    private readonly Dictionary<IActorRef, List<VoiceOut>> pending = [];

    public RelayOutbox(NodeStats stats) => this.stats = stats;

    public static Props Props(NodeStats stats) => Akka.Actor.Props.Create(() => new RelayOutbox(stats));

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case RelayFrames f:
                foreach (var relay in f.Relays)
                {
                    if (pending.Count == 0) Self.Tell(Flush.Instance);
                    if (!pending.TryGetValue(relay, out var frames)) pending.Add(relay, frames = []);
                    frames.Add(f.Frame);
                }
                break;
            case Flush:
                foreach (var (relay, list) in pending)
                {
                    relay.Tell(list.Count == 1 ? list[0] : new VoiceBatch([.. list]), ActorRefs.NoSender);
                    stats.NodeBatchesSent.Increment();
                }
                pending.Clear();
                break;
            default:
                Unhandled(message);
                break;
        }
    }
}
