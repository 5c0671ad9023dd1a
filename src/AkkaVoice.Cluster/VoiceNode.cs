using Akka.Actor;
using Akka.Cluster.Sharding;
using AkkaVoice.Cluster.Directory;
using AkkaVoice.Cluster.Hub;
using AkkaVoice.Cluster.Relay;
using AkkaVoice.Cluster.Rooms;
using AkkaVoice.Cluster.Users;

namespace AkkaVoice.Cluster;

/// <summary>
/// Everything AkkaVoice runs inside one ActorSystem: the room and user directory shard regions, the
/// node's hub, relay and relay outbox, the node's rooms as its connections see them, and its counters.
/// The socket host and the tests start one per system.
/// </summary>
public sealed class VoiceNode
{
    /// <summary>Sharding type name of rooms.</summary>
    public const string RoomTypeName = "room";

    /// <summary>Sharding type name of the user directory.</summary>
    public const string UserTypeName = "user";

    private VoiceNode(ActorSystem system, VoiceSettings settings, NodeStats stats)
    {
        System = system;
        Stats = stats;
        Settings = settings;
        Directory = new RoomDirectory(settings.ShardCount);
        SelfAddress = Akka.Cluster.Cluster.Get(system).SelfAddress;

        Relay = system.ActorOf(NodeRelay.Props(LocalRooms, Stats), NodeRelay.Name);
        Outbox = system.ActorOf(RelayOutbox.Props(Stats), RelayOutbox.Name);

        var sharding = ClusterSharding.Get(system);
        var shardingSettings = ClusterShardingSettings.Create(system);
        var extractor = new EntityExtractor(Directory);
        Rooms = sharding.Start(RoomTypeName, room => RoomActor.Props(room, settings, Stats, Outbox), shardingSettings, extractor,
            new RendezvousAllocationStrategy(settings.MaxSimultaneousRebalance, stats), PoisonPill.Instance);
        Users = sharding.Start(UserTypeName, _ => UserDirectory.Props(Stats), shardingSettings, extractor,
            new RendezvousAllocationStrategy(settings.MaxSimultaneousRebalance, null), PoisonPill.Instance);
        Hub = system.ActorOf(NodeHub.Props(this), NodeHub.Name);
        system.ActorOf(ShardWatcher.Props(Rooms, Stats), "shard-watcher");
        system.ActorOf(ClusterEventLogger.Props(), "cluster-events");
    }

    public ActorSystem System { get; }
    public VoiceSettings Settings { get; }
    public NodeStats Stats { get; }
    public LocalRooms LocalRooms { get; } = new();
    public RoomDirectory Directory { get; }

    /// <summary>This node's address, as other nodes reach it.</summary>
    public Address SelfAddress { get; }

    /// <summary>The room shard region.</summary>
    public IActorRef Rooms { get; }

    /// <summary>The user directory shard region.</summary>
    public IActorRef Users { get; }

    /// <summary>This node's hub: every connection's text requests, joins and rejoins.</summary>
    public IActorRef Hub { get; }

    /// <summary>This node's relay: voice frames from other nodes.</summary>
    public IActorRef Relay { get; }

    /// <summary>This node's relay outbox: voice frames to other nodes.</summary>
    public IActorRef Outbox { get; }

    /// <summary>Starts AkkaVoice in a system whose configuration has the cluster provider and an <c>akkavoice</c> section.</summary>
    public static VoiceNode Start(ActorSystem system, NodeStats? stats = null) =>
        new(system, VoiceSettings.FromConfig(system.Settings.Config), stats ?? new NodeStats());
}
