using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using AkkaVoice.Cluster.Directory;
using AkkaVoice.Cluster.Hub;
using AkkaVoice.Cluster.Relay;
using AkkaVoice.Cluster.Rooms;
using AkkaVoice.Cluster.Users;

namespace AkkaVoice.Cluster;

/// <summary>
/// Everything AkkaVoice runs inside one ActorSystem: the room and user directory shard regions, the
/// node's hub, relay and relay outbox, its shard watcher, cluster event logger, frozen-node guard and dead-node detector (each registered in
/// the system's <see cref="ActorRegistry"/> under its actor type, the room region under
/// <see cref="RoomActor"/> and the user region under <see cref="UserDirectory"/>), the node's rooms as
/// its connections see them, and its counters. The host starts one through
/// <see cref="VoiceNodeHosting.WithVoiceNode"/>; the multi-node tests start one per system.
/// </summary>
public sealed class VoiceNode
{
    /// <summary>Sharding type name of rooms.</summary>
    public const string RoomTypeName = "room";

    /// <summary>Sharding type name of the user directory.</summary>
    public const string UserTypeName = "user";

    private VoiceNode(ActorSystem system, VoiceSettings settings, NodeStats stats, IActorRegistry registry, IProcessRecords? records)
    {
        System = system;
        Stats = stats;
        Settings = settings;
        Directory = new RoomDirectory(settings.ShardCount);
        SelfAddress = Akka.Cluster.Cluster.Get(system).SelfAddress;
        Fence = NodeFence.FromConfig(system.Settings.Config);

        Relay = system.ActorOf(NodeRelay.Props(LocalRooms, Stats), NodeRelay.Name);
        Outbox = system.ActorOf(RelayOutbox.Props(Stats), RelayOutbox.Name);

        // Started here rather than with Akka.Cluster.Hosting's WithShardRegion, whose ShardOptions take no
        // allocation strategy: rendezvous placement is what lets every node compute a room's home.
        var sharding = ClusterSharding.Get(system);
        var shardingSettings = ClusterShardingSettings.Create(system);
        var extractor = new EntityExtractor(Directory);
        Rooms = sharding.Start(RoomTypeName, room => RoomActor.Props(room, settings, Stats, Outbox, Fence), shardingSettings, extractor,
            new RendezvousAllocationStrategy(settings.MaxSimultaneousRebalance, stats), PoisonPill.Instance);
        Users = sharding.Start(UserTypeName, _ => UserDirectory.Props(Stats), shardingSettings, extractor,
            new RendezvousAllocationStrategy(settings.MaxSimultaneousRebalance, null), PoisonPill.Instance);
        Hub = system.ActorOf(NodeHub.Props(this), NodeHub.Name);
        var watcher = system.ActorOf(ShardWatcher.Props(Rooms, Stats, settings.Healing.ShardWatchInterval), "shard-watcher");
        var events = system.ActorOf(ClusterEventLogger.Props(), "cluster-events");
        var guard = system.ActorOf(FrozenNodeGuard.Props(Fence), "frozen-node-guard");
        if (settings.Healing.DeadNodeProbe)
            registry.Register<DeadNodeDetector>(system.ActorOf(DeadNodeDetector.Props(settings.Healing, records), DeadNodeDetector.Name));

        registry.Register<RoomActor>(Rooms);
        registry.Register<UserDirectory>(Users);
        registry.Register<NodeRelay>(Relay);
        registry.Register<RelayOutbox>(Outbox);
        registry.Register<NodeHub>(Hub);
        registry.Register<ShardWatcher>(watcher);
        registry.Register<ClusterEventLogger>(events);
        registry.Register<FrozenNodeGuard>(guard);
    }

    public ActorSystem System { get; }
    public VoiceSettings Settings { get; }
    public NodeStats Stats { get; }
    public LocalRooms LocalRooms { get; } = new();
    public RoomDirectory Directory { get; }

    /// <summary>Closed once this node must not act for its rooms any more (it was frozen or is being downed).</summary>
    public NodeFence Fence { get; }

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

    /// <summary>
    /// Starts AkkaVoice in a cluster system whose messages between nodes go through the
    /// <see cref="Serialization.WireSerializer"/> (<see cref="VoiceNodeHosting.Serialization"/>), and
    /// registers its actors in the system's <see cref="ActorRegistry"/>. <paramref name="records"/> is a second witness of dead processes for the <see cref="DeadNodeDetector"/>
    /// (the Kubernetes pod API); without it the refused remoting port is the only one.
    /// </summary>
    public static VoiceNode Start(ActorSystem system, VoiceSettings settings, NodeStats stats, IProcessRecords? records = null) =>
        new(system, settings, stats, ActorRegistry.For(system), records);
}
