using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using AkkaVoice.Cluster.Relay;
using AkkaVoice.Protocol;
using static Akka.Cluster.ClusterEvent;

namespace AkkaVoice.Cluster.Rooms;

/// <summary>
/// One room, a sharded entity on its home node. Holds the members (grouped by the node relay that
/// serves them), the <c>said</c> sequence and its recent history. Each voice frame goes once to each
/// node relay that serves a member other than the speaker (or to every node with broadcast routing).
/// A room is soft state: when it moves or restarts its members' connections join it again.
/// </summary>
public sealed class RoomActor : ReceiveActor, IWithTimers
{
    private sealed class Member(uint id, string user, IActorRef connection, IActorRef relay)
    {
        public uint Id { get; } = id;
        public string User { get; } = user;
        public IActorRef Connection { get; } = connection;
        public IActorRef Relay { get; } = relay;
        public int RelayIndex { get; set; }
    }

    private sealed record MemberGone(IActorRef Connection);

    private sealed class IdleTimeout
    {
        public static readonly IdleTimeout Instance = new();
    }

    private sealed class RejoinGraceOver
    {
        public static readonly RejoinGraceOver Instance = new();
    }

    /// <summary>How long a restarted room waits for the members its rejoiners knew before it calls them gone.</summary>
    private static readonly TimeSpan RejoinGrace = TimeSpan.FromSeconds(5);

    private readonly string room;
    private readonly VoiceSettings settings;
    private readonly NodeStats stats;
    private readonly IActorRef outbox;
    private readonly ILoggingAdapter log = Context.GetLogger();
    private readonly Address selfAddress = Akka.Cluster.Cluster.Get(Context.System).SelfAddress;
    private readonly Dictionary<uint, Member> members = [];
    private readonly Dictionary<IActorRef, uint> byConnection = [];
    private readonly Queue<(long Seq, byte[] Json)> history = new();
    private readonly Dictionary<uint, string> awaited = [];
    private readonly HashSet<uint> announcedGone = [];
    private readonly Random random = new();

    // Routing tables, rebuilt when membership changes so that a frame only walks arrays.
    private IActorRef[] relays = [];
    private int[] relayCounts = [];
    private bool[] relayIsRemote = [];
    private IActorRef[] allRelays = [];
    private readonly HashSet<Address> clusterNodes = [];

    private long seq;
    private bool rehomeLogged;

    /// <param name="outbox">The node's <see cref="RelayOutbox"/>; frames for other nodes' relays go through it.</param>
    public RoomActor(string room, VoiceSettings settings, NodeStats stats, IActorRef outbox)
    {
        this.room = room;
        this.settings = settings;
        this.stats = stats;
        this.outbox = outbox;

        Receive<VoiceIn>(OnVoice);
        Receive<JoinRoom>(OnJoin);
        Receive<LeaveRoom>(l => RemoveMember(l.Member));
        Receive<MemberGone>(g =>
        {
            if (byConnection.TryGetValue(g.Connection, out var id)) RemoveMember(id);
        });
        Receive<Say>(OnSay);
        Receive<GetRoomInfo>(_ => OnInfo());
        Receive<RejoinGraceOver>(_ => AnnounceMissing());
        Receive<IdleTimeout>(_ =>
        {
            if (members.Count == 0) Context.Parent.Tell(new Passivate(PoisonPill.Instance));
        });
        Receive<MemberUp>(up => { clusterNodes.Add(up.Member.Address); RebuildBroadcast(); });
        Receive<MemberRemoved>(gone => { clusterNodes.Remove(gone.Member.Address); RebuildBroadcast(); });
        Receive<IMemberEvent>(_ => { });
        Receive<CurrentClusterState>(_ => { });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string room, VoiceSettings settings, NodeStats stats, IActorRef outbox) =>
        Akka.Actor.Props.Create(() => new RoomActor(room, settings, stats, outbox));

    protected override void PreStart()
    {
        stats.RoomsHosted.Increment();
        log.Info("Room {Room} started on {Node}", room, selfAddress);
        if (settings.Routing == Routing.Broadcast)
            Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, InitialStateAsEvents, typeof(MemberUp), typeof(MemberRemoved));
        Timers.StartSingleTimer(IdleTimeout.Instance, IdleTimeout.Instance, settings.RoomIdleTimeout);
    }

    protected override void PostStop()
    {
        stats.RoomsHosted.Decrement();
        if (settings.Routing == Routing.Broadcast) Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
        log.Info("Room {Room} stopped on {Node} with {Members} members", room, selfAddress, members.Count);
    }

    private void OnVoice(VoiceIn frame)
    {
        if (!members.TryGetValue(frame.Speaker, out var speaker)) return;
        var message = new VoiceOut(room, frame.Speaker, frame.Payload, frame.ReceivedAt);
        if (settings.Routing == Routing.Broadcast)
        {
            foreach (var relay in allRelays) Send(relay, message, !relay.Path.Address.HasLocalScope);
            return;
        }
        for (int i = 0; i < relays.Length; i++)
        {
            int others = i == speaker.RelayIndex ? relayCounts[i] - 1 : relayCounts[i];
            if (others > 0) Send(relays[i], message, relayIsRemote[i]);
        }
    }

    private void Send(IActorRef relay, VoiceOut message, bool remote)
    {
        if (!remote)
        {
            relay.Tell(message, ActorRefs.NoSender);
            return;
        }
        // Counted per frame and node, whether or not the outbox then carries it together with others.
        stats.NodeMessagesSent.Increment();
        outbox.Tell(new RelayFrame(relay, message), ActorRefs.NoSender);
    }

    private void OnJoin(JoinRoom join)
    {
        if (join.Member != 0 && members.TryGetValue(join.Member, out var known) && known.Connection.Equals(join.Connection))
        {
            ReplyJoined(known, join);
            return;
        }
        if (byConnection.TryGetValue(join.Connection, out var existingId))
        {
            ReplyJoined(members[existingId], join);
            return;
        }
        if (members.Count >= settings.Limits.MembersPerRoom)
        {
            Sender.Tell(new JoinRefused(room, join.Request, ErrorCodes.RoomFull, $"room {room} has {members.Count} members, the most it takes"));
            return;
        }

        if (join.LastSeq > seq)
        {
            // A restarted room continues the sequence its members saw; the history before it is gone.
            seq = join.LastSeq;
            history.Clear();
        }
        if (join.Rejoin && !rehomeLogged)
        {
            rehomeLogged = true;
            log.Info("Room {Room} re-homed to {Node}", room, selfAddress);
        }

        var id = join.Member != 0 && !members.ContainsKey(join.Member) ? join.Member : NewMemberId();
        awaited.Remove(id);
        if (join.Rejoin)
        {
            foreach (var peer in join.Peers)
            {
                if (!members.ContainsKey(peer.Member) && peer.Member != id) awaited.TryAdd(peer.Member, peer.User);
            }
            if (awaited.Count > 0 && !Timers.IsTimerActive(RejoinGraceOver.Instance))
                Timers.StartSingleTimer(RejoinGraceOver.Instance, RejoinGraceOver.Instance, RejoinGrace);
        }
        var member = new Member(id, join.User, join.Connection, join.Relay);
        members.Add(id, member);
        byConnection.Add(join.Connection, id);
        Context.WatchWith(join.Connection, new MemberGone(join.Connection));
        Timers.Cancel(IdleTimeout.Instance);
        RebuildRouting();

        // A member announced as gone that rejoins after all is announced again, so rosters stay true.
        if (!join.Rejoin || announcedGone.Remove(id))
        {
            var joined = new RosterChanged(room, id, join.User, true, ServerMessages.MemberJoined(room, id, join.User));
            foreach (var other in members.Values)
            {
                if (other.Id != id) other.Connection.Tell(joined);
            }
        }
        ReplyJoined(member, join);
    }

    private void ReplyJoined(Member member, JoinRoom join)
    {
        var list = new MemberInfo[members.Count];
        int i = 0;
        foreach (var m in members.Values) list[i++] = new MemberInfo(m.Id, m.User);

        byte[][] replay = [];
        bool? recovered = null;
        if (join.Since is { } since)
        {
            replay = history.Where(h => h.Seq > since).Select(h => h.Json).ToArray();
            recovered = since >= seq
                ? since == seq
                : history.Count > 0 && history.Peek().Seq <= since + 1;
        }
        Sender.Tell(new RoomJoined(room, join.Request, member.Id, seq, list, replay, recovered));
    }

    private void OnSay(Say say)
    {
        if (!members.TryGetValue(say.Member, out var speaker)) return;
        seq++;
        var json = ServerMessages.Said(room, speaker.Id, speaker.User, say.Text, seq, null);
        history.Enqueue((seq, json));
        while (history.Count > settings.HistorySize) history.Dequeue();

        var text = new RoomText(room, seq, json);
        foreach (var m in members.Values)
        {
            if (m.Id == speaker.Id && say.Ref is not null)
                m.Connection.Tell(new RoomText(room, seq, ServerMessages.Said(room, speaker.Id, speaker.User, say.Text, seq, say.Ref)));
            else
                m.Connection.Tell(text);
        }
    }

    private void RemoveMember(uint id)
    {
        if (!members.Remove(id, out var gone)) return;
        byConnection.Remove(gone.Connection);
        Context.Unwatch(gone.Connection);
        RebuildRouting();

        AnnounceLeft(gone.Id, gone.User);
        if (members.Count == 0) Timers.StartSingleTimer(IdleTimeout.Instance, IdleTimeout.Instance, settings.RoomIdleTimeout);
    }

    private void AnnounceLeft(uint id, string user)
    {
        var left = new RosterChanged(room, id, user, false, ServerMessages.MemberLeft(room, id, user));
        foreach (var m in members.Values) m.Connection.Tell(left);
    }

    /// <summary>Members the rejoiners knew that did not come back (their node crashed with the room) have left.</summary>
    private void AnnounceMissing()
    {
        foreach (var (id, user) in awaited)
        {
            if (members.ContainsKey(id)) continue;
            AnnounceLeft(id, user);
            announcedGone.Add(id);
        }
        if (awaited.Count > 0) log.Info("Room {Room} re-homed without {Missing} members; announced them as left", room, awaited.Count);
        awaited.Clear();
    }

    private void OnInfo()
    {
        var list = members.Values.Select(m => new RoomMemberInfo(m.Id, m.User, NodeOf(m.Relay).ToString())).ToArray();
        Sender.Tell(new RoomInfo(room, selfAddress.ToString(), seq, list));
        // A room that only exists because it was asked about has nothing to keep.
        if (members.Count == 0 && seq == 0) Context.Parent.Tell(new Passivate(PoisonPill.Instance));
    }

    private Address NodeOf(IActorRef actor) => actor.Path.Address.HasLocalScope ? selfAddress : actor.Path.Address;

    private uint NewMemberId()
    {
        // Random ids, not a counter: a room that restarts empty must not hand out an id that a member
        // still holds and is about to bring back when it rejoins.
        while (true)
        {
            var id = (uint)random.NextInt64(1, uint.MaxValue);
            if (!members.ContainsKey(id)) return id;
        }
    }

    private void RebuildRouting()
    {
        var index = new Dictionary<IActorRef, int>();
        var counts = new List<int>();
        foreach (var m in members.Values)
        {
            if (!index.TryGetValue(m.Relay, out var i))
            {
                i = index.Count;
                index.Add(m.Relay, i);
                counts.Add(0);
            }
            counts[i]++;
            m.RelayIndex = i;
        }
        relays = new IActorRef[index.Count];
        relayIsRemote = new bool[index.Count];
        foreach (var (relay, i) in index)
        {
            relays[i] = relay;
            relayIsRemote[i] = !relay.Path.Address.HasLocalScope;
        }
        relayCounts = counts.ToArray();
    }

    private void RebuildBroadcast()
    {
        var provider = ((ExtendedActorSystem)Context.System).Provider;
        allRelays = clusterNodes
            .Select(a => a.Equals(selfAddress)
                ? provider.ResolveActorRef(new RootActorPath(provider.DefaultAddress) / "user" / NodeRelay.Name)
                : provider.ResolveActorRef(new RootActorPath(a) / "user" / NodeRelay.Name))
            .ToArray();
    }
}
