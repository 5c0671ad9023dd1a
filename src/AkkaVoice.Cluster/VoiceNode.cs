using Akka;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using AkkaVoice.Cluster.Directory;
using AkkaVoice.Cluster.Hub;
using AkkaVoice.Cluster.Relay;
using AkkaVoice.Cluster.Rooms;
using AkkaVoice.Cluster.Users;
using AkkaVoice.Cluster.Webhooks;

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

    private VoiceNode(ActorSystem system, VoiceSettings settings, NodeStats stats, IActorRegistry registry, IActorRef? events, WebhookSettings? webhooks,
        IProcessRecords? records)
    {
        System = system;
        Stats = stats;
        Settings = settings;
        Directory = new RoomDirectory(settings.ShardCount);
        SelfAddress = Akka.Cluster.Cluster.Get(system).SelfAddress;
        Fence = NodeFence.FromConfig(system.Settings.Config);

        Events = events ?? (webhooks is null ? ActorRefs.Nobody : StartWebhooks(system, registry, webhooks, stats, SelfAddress.ToString()));
        // Every node runs the replicator that holds room configurations, so a majority write reaches a majority.
        _ = RoomConfigStore.Replicator(system);
        Relay = system.ActorOf(NodeRelay.Props(LocalRooms, Stats), NodeRelay.Name);
        Outbox = system.ActorOf(RelayOutbox.Props(Stats), RelayOutbox.Name);

        // Started here rather than with Akka.Cluster.Hosting's WithShardRegion, whose ShardOptions take no
        // allocation strategy: rendezvous placement is what lets every node compute a room's home.
        var sharding = ClusterSharding.Get(system);
        var shardingSettings = ClusterShardingSettings.Create(system);
        var extractor = new EntityExtractor(Directory);
        Rooms = sharding.Start(RoomTypeName, room => RoomActor.Props(room, Directory.ShardOf(room), settings, Stats, Outbox, Fence, Events), shardingSettings, extractor,
            new RendezvousAllocationStrategy(settings.MaxSimultaneousRebalance, stats), HandOffRoom.Instance);
        Users = sharding.Start(UserTypeName, _ => UserDirectory.Props(Stats), shardingSettings, extractor,
            new RendezvousAllocationStrategy(settings.MaxSimultaneousRebalance, null), PoisonPill.Instance);
        Hub = system.ActorOf(NodeHub.Props(this), NodeHub.Name);
        var watcher = system.ActorOf(ShardWatcher.Props(Rooms, Stats, settings.Healing.ShardWatchInterval), "shard-watcher");
        var clusterEvents = system.ActorOf(ClusterEventLogger.Props(), "cluster-events");
        var guard = system.ActorOf(FrozenNodeGuard.Props(Fence), "frozen-node-guard");
        var index = system.ActorOf(RoomIndex.Props(LocalRooms), RoomIndex.Name);
        if (settings.Healing.DeadNodeProbe)
            registry.Register<DeadNodeDetector>(system.ActorOf(DeadNodeDetector.Props(settings.Healing, records), DeadNodeDetector.Name));

        registry.Register<RoomActor>(Rooms);
        registry.Register<UserDirectory>(Users);
        registry.Register<NodeRelay>(Relay);
        registry.Register<RelayOutbox>(Outbox);
        registry.Register<NodeHub>(Hub);
        registry.Register<ShardWatcher>(watcher);
        registry.Register<ClusterEventLogger>(clusterEvents);
        registry.Register<FrozenNodeGuard>(guard);
        registry.Register<RoomIndex>(index);
    }

    public ActorSystem System { get; }
    public VoiceSettings Settings { get; }
    public NodeStats Stats { get; }
    public LocalRooms LocalRooms { get; } = new();
    public RoomDirectory Directory { get; }

    /// <summary>Closed once this node must not act for its rooms any more (it was frozen or is being downed).</summary>
    public NodeFence Fence { get; }

    /// <summary>Where this node's rooms send their <see cref="IRoomEvent"/>s (the webhook dispatcher); <c>ActorRefs.Nobody</c> when webhooks are off.</summary>
    public IActorRef Events { get; }

    /// <summary>The configured rooms of the cluster, shard by shard (the server API's listing).</summary>
    public RoomConfigReader Configs => new(System, Settings.ShardCount);

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
    /// <param name="events">Where rooms send their events (PROTOCOL section 10); none when null.</param>
    public static VoiceNode Start(ActorSystem system, VoiceSettings settings, NodeStats stats, IActorRef? events = null) =>
        new(system, settings, stats, ActorRegistry.For(system), events, null, null);

    /// <summary>
    /// The same, with the rooms' events posted to <paramref name="webhooks"/>' URLs by the node's <see cref="WebhookDispatcher"/>,
    /// and <paramref name="records"/> (the Kubernetes pod API) as a second witness of a dead process.
    /// </summary>
    public static VoiceNode Start(ActorSystem system, VoiceSettings settings, NodeStats stats, WebhookSettings? webhooks, IProcessRecords? records) =>
        new(system, settings, stats, ActorRegistry.For(system), null, webhooks, records);

    /// <summary>
    /// The node's webhook dispatcher. A stopping node gives it <c>flush-timeout</c> to deliver what its rooms queued,
    /// after they handed off (their last events are queued by then) and before the system terminates.
    /// </summary>
    private static IActorRef StartWebhooks(ActorSystem system, IActorRegistry registry, WebhookSettings webhooks, NodeStats stats, string node)
    {
        var dispatcher = system.ActorOf(WebhookDispatcher.Props(webhooks, stats, node), WebhookDispatcher.Name);
        registry.Register<WebhookDispatcher>(dispatcher);
        CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate, "flush-webhooks", async () =>
        {
            try
            {
                await dispatcher.Ask<Done>(WebhookDispatcher.Flush.Instance, webhooks.FlushTimeout);
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
            {
                // What is still queued is lost with the node (docs/webhooks.md); the dispatcher logs how much.
            }
            return Done.Instance;
        });
        return dispatcher;
    }
}
