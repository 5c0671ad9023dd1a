using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using AkkaVoice.Cluster.Directory;
using AkkaVoice.Cluster.Hub;
using AkkaVoice.Cluster.Relay;
using AkkaVoice.Protocol;
using static Akka.Cluster.ClusterEvent;

namespace AkkaVoice.Cluster.Rooms;

/// <summary>
/// One room, a sharded entity on its home node: the authority on membership, member ids, the <c>said</c>
/// sequence and its recent history. Members are grouped by the node (hub) that holds them, and the room
/// talks to nodes, not to sockets: everything it emits (<c>said</c>, member events, routes) goes once to
/// each node with members, whose hub fans it out locally. With interest routing voice does not pass
/// through the room at all: it tells each node the relays of the other nodes with members
/// (<see cref="RoomRoute"/>) and the speaker's node sends its frames there itself.
/// A room is soft state: when it moves or restarts, each node's hub joins it again for all its members. Its
/// configuration (kind, seats, hosts, bans, mutes) is not: RoomActor.Control.cs reads it from the replicas before the
/// room answers anything, and applies roles, seats and moderation through <see cref="RoomControl"/>.
/// </summary>
public sealed partial class RoomActor : ReceiveActor, IWithTimers, IWithUnboundedStash
{
    private sealed record Member(uint Id, string User, NodeMembers Node)
    {
        /// <summary>The hub's request that made this membership (0 for a rejoin).</summary>
        public long Request { get; set; }
    }

    /// <summary>A node with members of the room: its hub (the key), relay and how many members it holds.</summary>
    private sealed class NodeMembers(IActorRef hub, IActorRef relay)
    {
        public IActorRef Hub { get; } = hub;
        public IActorRef Relay { get; } = relay;
        public bool Remote { get; } = !hub.Path.Address.HasLocalScope;
        public int Count { get; set; }
    }

    private sealed record HubGone(IActorRef Hub);

    /// <summary>Where a frame goes: this node's relay (told directly), and other nodes' relays (through the outbox).</summary>
    private sealed record Targets(IActorRef? Local, IActorRef[] Remote)
    {
        public static Targets Of(IEnumerable<IActorRef> relays)
        {
            var all = relays.ToList();
            return new Targets(all.FirstOrDefault(r => r.Path.Address.HasLocalScope), all.Where(r => !r.Path.Address.HasLocalScope).ToArray());
        }
    }

    private sealed class IdleTimeout
    {
        public static readonly IdleTimeout Instance = new();
    }

    private sealed class RejoinGraceOver
    {
        public static readonly RejoinGraceOver Instance = new();
    }

    /// <summary>How long a room that hands off waits for its hubs' <see cref="RoomMovingSeen"/> before it stops anyway.</summary>
    public static readonly TimeSpan MoveWait = TimeSpan.FromSeconds(1);

    private sealed class MoveWaitOver
    {
        public static readonly MoveWaitOver Instance = new();
    }

    /// <summary>The hubs yet to answer <see cref="RoomMoving"/>; null while the room is not handing off.</summary>
    private HashSet<IActorRef>? moving;

    private sealed class ProbeOver
    {
        public static readonly ProbeOver Instance = new();
    }

    private readonly string room;
    private readonly string shard;
    private readonly IActorRef events;
    private readonly RoomControl control;
    private readonly VoiceSettings settings;
    private readonly NodeStats stats;
    private readonly NodeFence fence;
    private readonly IActorRef outbox;
    private readonly ILoggingAdapter log = Context.GetLogger();
    private readonly Akka.Cluster.Cluster cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly Dictionary<uint, Member> members = [];

    // The membership each hub's join request made, so a join the hub sent again (its answer was slow) is answered
    // with the same membership instead of making a second one.
    private readonly Dictionary<(IActorRef Hub, long Request), uint> joinRequests = [];

    // Joins whose membership has ended, the last EndedJoinsKept of them: a hub sends a join twice (through its
    // region and through the home's hub) and again while unanswered, and a copy that arrives after the member
    // left must not bring it back.
    private const int EndedJoinsKept = 4096;
    private readonly HashSet<(IActorRef Hub, long Request)> endedJoins = [];
    private readonly Queue<(IActorRef Hub, long Request)> endedJoinsOrder = new();
    private readonly Dictionary<IActorRef, NodeMembers> nodes = [];
    private readonly Queue<(long Seq, byte[] Json)> history = new();
    private readonly Dictionary<uint, string> awaited = [];
    // The per-room say limit, all members together.
    private TokenBucket sayTokens;
    private readonly HashSet<Address> probing = [];
    private readonly Random random = new();

    // Relays of every node with members except the speaker's node, split into this node's and the others',
    // rebuilt when the set of nodes changes (via-room routing); and every node's (broadcast).
    private Dictionary<IActorRef, Targets> othersOf = [];
    private Targets everyNode = new(null, []);
    private readonly HashSet<Address> clusterNodes = [];

    private long seq;
    private bool saidHere, rehomeLogged, rebuilt;

    /// <param name="outbox">The node's <see cref="RelayOutbox"/>; frames for other nodes' relays go through it.</param>
    /// <param name="events">Where the room's <see cref="IRoomEvent"/>s go (the webhook dispatcher), <c>ActorRefs.Nobody</c> for none.</param>
    public RoomActor(string room, string shard, VoiceSettings settings, NodeStats stats, IActorRef outbox, NodeFence fence, IActorRef events)
    {
        this.fence = fence;
        this.room = room;
        this.shard = shard;
        this.events = events;
        this.settings = settings;
        this.stats = stats;
        this.outbox = outbox;
        control = new RoomControl(settings.Limits.MembersPerRoom, settings.Limits.StageMembersPerRoom);
        sayTokens = new TokenBucket(settings.Limits.SaysPerRoomPerSecond, settings.Limits.SayBurstPerRoom);
        Become(Loading);
    }

    /// <summary>The room's behaviour once its configuration is read.</summary>
    private void Ready()
    {
        Receive<VoiceIn>(OnVoice);
        Receive<JoinRoom>(OnJoin);
        Receive<RejoinRoom>(OnRejoin);
        Receive<NoMembers>(_ => ProbeAnswered());
        Receive<LeaveRoom>(l => RemoveMembers([l.Member], l.Reason));
        Receive<HubGone>(g =>
        {
            if (nodes.ContainsKey(g.Hub))
                RemoveMembers(members.Values.Where(m => m.Node.Hub.Equals(g.Hub)).Select(m => m.Id).ToList(), "node-lost");
            Moved(g.Hub);
        });
        Receive<Say>(say =>
        {
            // Until every node has said what it knows of the room, a say could reuse a seq its members saw.
            if (probing.Count > 0) Stash.Stash();
            else OnSay(say);
        });
        Receive<ProbeOver>(_ =>
        {
            if (probing.Count > 0) log.Warning("Room {Room}: {Nodes} nodes did not answer its start probe in time; chat goes on", room, probing.Count);
            probing.Clear();
            ProbeSettled();
        });
        Receive<GetRoomInfo>(_ => OnInfo());
        Receive<HandOffRoom>(_ => MoveOut());
        Receive<RoomMovingSeen>(_ => Moved(Sender));
        Receive<MoveWaitOver>(_ =>
        {
            log.Warning("Room {Room}: {Nodes} nodes did not answer its move in {Wait}; it stops anyway", room, moving?.Count, MoveWait);
            Context.Stop(Self);
        });
        Receive<RejoinGraceOver>(_ => AnnounceMissing());
        Receive<IdleTimeout>(_ =>
        {
            if (members.Count == 0) Passivate();
        });
        ControlReceives();
        Receive<MemberUp>(up => { clusterNodes.Add(up.Member.Address); RebuildBroadcast(); });
        Receive<MemberRemoved>(gone => { clusterNodes.Remove(gone.Member.Address); RebuildBroadcast(); });
        Receive<IMemberEvent>(_ => { });
        Receive<CurrentClusterState>(_ => { });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public IStash Stash { get; set; } = null!;

    public static Props Props(string room, string shard, VoiceSettings settings, NodeStats stats, IActorRef outbox, NodeFence fence, IActorRef events) =>
        Akka.Actor.Props.Create(() => new RoomActor(room, shard, settings, stats, outbox, fence, events));

    protected override void PreStart()
    {
        stats.RoomsHosted.Increment();
        log.Info("Room {Room} started on {Node}", room, cluster.SelfAddress);
        if (settings.Routing == Routing.Broadcast)
            cluster.Subscribe(Self, InitialStateAsEvents, typeof(MemberUp), typeof(MemberRemoved));
        Probe();
        LoadConfig();
        Timers.StartSingleTimer(IdleTimeout.Instance, IdleTimeout.Instance, settings.RoomIdleTimeout);
    }

    protected override void PostStop()
    {
        stats.RoomsHosted.Decrement();
        if (settings.Routing == Routing.Broadcast) cluster.Unsubscribe(Self);
        log.Info("Room {Room} stopped on {Node} with {Members} members", room, cluster.SelfAddress, members.Count);
    }

    /// <summary>
    /// A room that throws stops instead of restarting with the same ref: its hubs see it terminate and join
    /// a fresh incarnation, so no member is left in a room that silently forgot it.
    /// </summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        // This node is being downed, or has just woken from a freeze in which the others moved its rooms:
        // the room's new incarnation elsewhere is the one that speaks.
        if (fence.IsClosed) return true;
        try
        {
            return base.AroundReceive(receive, message);
        }
        catch (Exception e)
        {
            log.Error(e, "Room {Room} failed on {Message}; it stops and its members join a fresh one", room, message.GetType().Name);
            Context.Stop(Self);
            return true;
        }
    }

    /// <summary>
    /// The shard hands off: tell every node with members, answer whatever they sent before they knew, then stop.
    /// Joins, says and control requests are served as usual meanwhile; this incarnation is still the room.
    /// </summary>
    private void MoveOut()
    {
        if (moving is not null) return;
        moving = [.. nodes.Keys];
        if (moving.Count == 0)
        {
            Context.Stop(Self);
            return;
        }
        foreach (var hub in moving) hub.Tell(new RoomMoving(room));
        Timers.StartSingleTimer(MoveWaitOver.Instance, MoveWaitOver.Instance, MoveWait);
    }

    private void Moved(IActorRef hub)
    {
        if (moving is null || !moving.Remove(hub) || moving.Count > 0) return;
        Context.Stop(Self);
    }

    private void OnVoice(VoiceIn frame)
    {
        if (!members.TryGetValue(frame.Speaker, out var speaker)) return;
        var message = new VoiceOut(room, frame.Speaker, frame.Payload, frame.ReceivedAt);
        if (settings.Routing == Routing.Broadcast)
        {
            Send(everyNode, message);
            return;
        }
        // via-room: the speaker's node delivered to its own members already.
        if (othersOf.TryGetValue(speaker.Node.Hub, out var targets)) Send(targets, message);
    }

    private void Send(Targets targets, VoiceOut message)
    {
        targets.Local?.Tell(message, ActorRefs.NoSender);
        if (targets.Remote.Length == 0) return;
        // Counted per frame and node, whether or not the outbox then carries it together with others.
        stats.NodeMessagesSent.Add(targets.Remote.Length);
        outbox.Tell(new RelayFrames(targets.Remote, message), ActorRefs.NoSender);
    }

    private void OnJoin(JoinRoom join)
    {
        if (endedJoins.Contains((join.Hub, join.Request))) return;
        if (join.Member == 0 && joinRequests.TryGetValue((join.Hub, join.Request), out var made)) join = join with { Member = made };
        if (join.Member != 0 && members.TryGetValue(join.Member, out var known) && known.Node.Hub.Equals(join.Hub))
        {
            ReplyJoined(known, join, Sender);
            return;
        }
        var id = NewMemberId();
        bool first = members.Count == 0;
        if (control.Join(id, join.User, join.ClaimsHost, join.DevMode, join.Stage, Now()) is { } refused)
        {
            Sender.Tell(new JoinRefused(room, join.Request, refused.Code, refused.Message));
            return;
        }
        ContinueSequence(join.LastSeq);
        var member = Add(id, join.User, join.Hub, join.Relay, out bool newNode);
        joinRequests[(join.Hub, join.Request)] = id;
        member.Request = join.Request;
        if (first) Raise(new RoomEvents.Started(room, Now()));
        Raise(new RoomEvents.MemberJoined(room, Now(), id, join.User, control.RoleOf(id)));
        var sender = Sender;
        Commit(control.TakeChanges(), null, () =>
        {
            ReplyJoined(member, join, sender);
            if (newNode) SendRoutes();
        });
    }

    private Member Add(uint id, string user, IActorRef hub, IActorRef relay, out bool newNode)
    {
        newNode = !nodes.TryGetValue(hub, out var node);
        if (node is null)
        {
            node = new NodeMembers(hub, relay);
            nodes.Add(hub, node);
            Context.WatchWith(hub, new HubGone(hub));
        }
        node.Count++;
        var member = new Member(id, user, node);
        members.Add(id, member);
        Timers.Cancel(IdleTimeout.Instance);
        return member;
    }

    private void ReplyJoined(Member member, JoinRoom join, IActorRef hub)
    {
        byte[][] replay = [];
        bool? recovered = null;
        if (join.Since is { } since)
        {
            replay = history.Where(h => h.Seq > since).Select(h => h.Json).ToArray();
            recovered = since >= seq
                ? since == seq
                : history.Count > 0 && history.Peek().Seq <= since + 1;
        }
        hub.Tell(new RoomJoined(room, join.Request, member.Id, seq, control.VisibleMembers(), replay, recovered, View(member.Id), VoiceRules()));
    }

    private void OnSay(Say say)
    {
        if (!members.TryGetValue(say.Member, out var speaker)) return;
        if (!sayTokens.TryTake(System.Diagnostics.Stopwatch.GetTimestamp()))
        {
            Sender.Tell(Answer(say.Member, ServerMessages.Error(ErrorCodes.RateLimited,
                $"room {room} takes at most {settings.Limits.SaysPerRoomPerSecond} say a second from all its members; this one was not said", say.Ref)));
            return;
        }
        Said(speaker.Id, speaker.User, say.Text, say.Ref, speaker.Node);
    }

    /// <summary>Numbers a <c>said</c>, keeps it in the history and sends it once to every node with members.</summary>
    private long Said(uint member, string user, string text, string? reference, NodeMembers? speakerNode)
    {
        seq++;
        saidHere = true;
        stats.Said.Increment();
        var json = ServerMessages.Said(room, member, user, text, seq, null);
        history.Enqueue((seq, json));
        while (history.Count > settings.HistorySize) history.Dequeue();

        byte[]? speakerJson = reference is null ? null : ServerMessages.Said(room, member, user, text, seq, reference);
        var said = new RoomText(room, seq, json, member, null);
        foreach (var node in nodes.Values)
        {
            bool speakers = ReferenceEquals(node, speakerNode);
            Emit(node, speakers && speakerJson is not null ? said with { SpeakerJson = speakerJson } : said);
        }
        return seq;
    }

    /// <summary>Sends one message to every node with members: one per node, never one per member.</summary>
    private void Emit(object message)
    {
        foreach (var node in nodes.Values) Emit(node, message);
    }

    private void Emit(NodeMembers node, object message)
    {
        if (node.Remote) stats.NodeTextMessagesSent.Increment();
        node.Hub.Tell(message);
    }

    /// <summary>Memberships that end (<paramref name="reason"/> as in <c>member-left</c>); the others are told.</summary>
    private void RemoveMembers(IReadOnlyCollection<uint> ids, string reason)
    {
        bool any = false;
        foreach (var id in ids)
        {
            if (!members.ContainsKey(id)) continue;
            control.Leave(id, reason, Now(), HistoryMillis);
            any = true;
        }
        if (!any) return;
        // The emptied nodes hear it too: their hub has other members' memberships to clean up, or none at all.
        Commit(control.TakeChanges(), null, () => Forget(ids, reason));
    }

    private void EndJoin((IActorRef Hub, long Request) join)
    {
        joinRequests.Remove(join);
        if (!endedJoins.Add(join)) return;
        endedJoinsOrder.Enqueue(join);
        if (endedJoinsOrder.Count > EndedJoinsKept) endedJoins.Remove(endedJoinsOrder.Dequeue());
    }

    /// <summary>Takes memberships the room control let go out of the node grouping: the room's last word on them.</summary>
    private void Forget(IEnumerable<uint> ids, string reason)
    {
        var emptied = new List<NodeMembers>();
        int removed = 0;
        foreach (var id in ids)
        {
            if (!members.Remove(id, out var gone)) continue;
            removed++;
            if (gone.Request != 0) EndJoin((gone.Node.Hub, gone.Request));
            Raise(new RoomEvents.MemberLeft(room, Now(), gone.Id, gone.User, reason));
            if (--gone.Node.Count == 0) emptied.Add(gone.Node);
        }
        foreach (var node in emptied)
        {
            nodes.Remove(node.Hub);
            Context.Unwatch(node.Hub);
        }
        if (emptied.Count > 0) SendRoutes();
        if (members.Count == 0 && removed > 0)
        {
            Raise(new RoomEvents.Finished(room, Now(), reason switch { "room-closed" => closeReason, _ => "empty" }));
            Timers.StartSingleTimer(IdleTimeout.Instance, IdleTimeout.Instance, IdleTime());
        }
    }

    /// <summary>Tells each node with members where the room is and which other nodes' relays its speakers feed.</summary>
    private void SendRoutes()
    {
        var next = new Dictionary<IActorRef, Targets>(nodes.Count);
        foreach (var node in nodes.Values)
        {
            var others = nodes.Values.Where(n => !ReferenceEquals(n, node)).Select(n => n.Relay).ToArray();
            next.Add(node.Hub, Targets.Of(others));
            node.Hub.Tell(new RoomRoute(room, others));
        }
        othersOf = next;
    }

    private void OnInfo()
    {
        var list = members.Values.Select(m => new RoomMemberInfo(m.Id, m.User, NodeOf(m.Node.Hub).ToString())).ToArray();
        Sender.Tell(new RoomInfo(room, cluster.SelfAddress.ToString(), seq, list));
        // A room that only exists because it was asked about has nothing to keep.
        if (members.Count == 0 && seq == 0) Context.Parent.Tell(new Passivate(PoisonPill.Instance));
    }

    private Address NodeOf(IActorRef actor) => actor.Path.Address.HasLocalScope ? cluster.SelfAddress : actor.Path.Address;

    private uint NewMemberId()
    {
        // Random ids, not a counter: a room that restarts empty must not hand out an id that a member
        // still holds and is about to bring back when it rejoins.
        while (true)
        {
            var id = (uint)random.NextInt64(1, uint.MaxValue);
            if (!members.ContainsKey(id) && !awaited.ContainsKey(id)) return id;
        }
    }

    private void RebuildBroadcast()
    {
        var provider = ((ExtendedActorSystem)Context.System).Provider;
        everyNode = Targets.Of(clusterNodes
            .Select(a => provider.ResolveActorRef(new RootActorPath(a.Equals(cluster.SelfAddress) ? provider.DefaultAddress : a) / "user" / NodeRelay.Name)));
    }
}
