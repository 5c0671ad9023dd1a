using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using AkkaVoice.Cluster.Connections;
using AkkaVoice.Cluster.Rooms;
using AkkaVoice.Cluster.Users;
using AkkaVoice.Protocol;

namespace AkkaVoice.Cluster.Hub;

/// <summary>
/// One per node, at <c>/user/hub</c>: the node's side of every room and of the user directory, for all of
/// the node's connections at once. It answers the connections' text requests, joins and leaves rooms for
/// them, fans out what rooms send once per node (<c>said</c>, member events) to the local members, and
/// heals: when a room moves or restarts it joins it again with one message for all of the node's members
/// of it. It registers each user with the directory once per node, not once per connection.
/// Connections are plain <see cref="Session"/>s; no actor per connection.
/// </summary>
public sealed class NodeHub : ReceiveActor, IWithTimers
{
    /// <summary>The hub's name under <c>/user</c>; rooms address hubs on other nodes by it.</summary>
    public const string Name = "hub";

    /// <summary>A connection opened on this node.</summary>
    public sealed record Opened(Session Session);

    /// <summary>A connection's text request, already parsed and rate-limited by its reader.</summary>
    public sealed record Command(Session Session, ClientCommand Request);

    /// <summary>A connection closed: it leaves all its rooms.</summary>
    public sealed record Closed(Session Session);

    /// <summary>
    /// A join on its way to the room. The connection's later requests for the same room wait in
    /// <see cref="Queued"/> until it is answered, so every request is answered, in the order it was sent.
    /// </summary>
    private sealed record PendingJoin(Session Session, string? Ref, JoinRoom Message)
    {
        public List<ClientCommand> Queued { get; } = [];
    }

    private sealed record PendingDirect(Session Session, SendDirect Message);

    private sealed record RoomGone(string Room, IActorRef RoomActor);

    private sealed record EntryGone(string Shard, IActorRef Entry);

    private sealed class Retry
    {
        public static readonly Retry Instance = new();
    }

    private readonly VoiceNode node;
    private readonly LocalRooms rooms;
    private readonly ILoggingAdapter log = Context.GetLogger();
    private readonly Akka.Cluster.Cluster cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly HashSet<Session> sessions = [];
    private readonly Dictionary<string, List<Session>> sessionsOf = new(StringComparer.Ordinal);
    private readonly Dictionary<long, PendingJoin> pendingJoins = [];
    private readonly Dictionary<long, PendingDirect> pendingDirects = [];
    private readonly Dictionary<LocalRoom, uint[]> rejoining = [];
    private readonly Dictionary<string, IActorRef> entries = new(StringComparer.Ordinal);
    private readonly HashSet<string> unregistered = new(StringComparer.Ordinal);
    private long nextRequest;

    public NodeHub(VoiceNode node)
    {
        this.node = node;
        rooms = node.LocalRooms;

        Receive<Opened>(o => OnOpened(o.Session));
        Receive<Closed>(c => OnClosed(c.Session));
        Receive<Command>(OnCommand);
        Receive<RoomJoined>(OnJoined);
        Receive<JoinRefused>(r =>
        {
            if (!pendingJoins.Remove(r.Request, out var p)) return;
            Answer(p.Session, ServerMessages.Error(r.Code, r.Reason, p.Ref));
            Replay(p);
        });
        Receive<RoomRejoined>(OnRejoined);
        Receive<RosterChanged>(OnRosterChanged);
        Receive<RoomText>(OnRoomText);
        Receive<NodeText>(OnNodeText);
        Receive<RoomVoice>(v =>
        {
            if (rooms.Find(v.Room) is { } local) local.Gate = new VoiceGate(v);
        });
        Receive<RoomRoute>(route =>
        {
            if (rooms.Find(route.Room) is not { } local) return;
            local.Relays = route.Relays;
            SetRoomActor(local, Sender);
        });
        Receive<ProbeRoom>(probe =>
        {
            // A room that just started asks: a node with members of it joins it again at once. The answer goes
            // to the room itself, with any join of this node's connections still waiting for it: for a few
            // seconds after a node dies the shard region may still send the room's messages to the dead node.
            if (rooms.Find(probe.Room) is not { Members.Length: > 0 } local)
            {
                Sender.Tell(new NoMembers(probe.Room));
                return;
            }
            if (!rejoining.ContainsKey(local)) node.Stats.Rejoins.Increment();
            SetRoomActor(local, Sender);
            Sender.Tell(Rejoin(local));
            foreach (var p in pendingJoins.Values)
            {
                if (p.Message.Room == probe.Room) Sender.Tell(p.Message);
            }
            KeepRetrying();
        });
        Receive<RoomGone>(OnRoomGone);
        // Another node's join for a room whose directory home this node is (see SendJoin).
        Receive<JoinRoom>(join => node.Rooms.Forward(join));
        Receive<RoomMoving>(moving =>
        {
            // The room stops once it has this answer, and whatever this hub sent it before arrives first. From
            // now on the room's messages go through the shard region, which holds them until its new home runs.
            Sender.Tell(new RoomMovingSeen(moving.Room));
            if (rooms.Find(moving.Room) is not { } local || !Sender.Equals(local.RoomActor)) return;
            Context.Unwatch(Sender);
            RoomAway(local, "is moving");
        });
        Receive<DirectResult>(r =>
        {
            if (!pendingDirects.Remove(r.Request, out var p)) return;
            Answer(p.Session, r.Delivered
                ? ServerMessages.Delivered(r.To, r.Ref)
                : ServerMessages.Error(ErrorCodes.UserOffline, $"user {r.To} has no open connection", r.Ref));
        });
        Receive<DirectText>(d =>
        {
            if (!sessionsOf.TryGetValue(d.To, out var list)) return;
            foreach (var s in list) Tell(s, d.Json);
        });
        Receive<DirectToUser>(d =>
        {
            var json = ServerMessages.Direct("system", d.Text);
            Sender.Tell(new ConnectionsReached(d.User, ForEachSession(d.User, s => Tell(s, json))));
        });
        Receive<DisconnectUser>(d => Sender.Tell(new ConnectionsReached(d.User, ForEachSession(d.User, s =>
        {
            s.Outbound.RequestClose(ServerApiCloseCode, d.Reason);
            log.Info("Connection {Session} of {User} closed by the server API", s.Id, s.User);
        }))));
        Receive<UsersRegistered>(r =>
        {
            var shard = node.Directory.ShardOf(r.Users[0]);
            foreach (var user in r.Users) unregistered.Remove(user);
            if (entries.TryGetValue(shard, out var known) && known.Equals(Sender)) return;
            entries[shard] = Sender;
            Context.WatchWith(Sender, new EntryGone(shard, Sender));
        });
        Receive<EntryGone>(g =>
        {
            // The directory entry moved or restarted empty: register this node's users of it again.
            if (!entries.TryGetValue(g.Shard, out var known) || !known.Equals(g.Entry)) return;
            entries.Remove(g.Shard);
            var users = sessionsOf.Keys.Where(u => node.Directory.ShardOf(u) == g.Shard).ToArray();
            if (users.Length == 0) return;
            unregistered.UnionWith(users);
            node.Users.Tell(new RegisterUsers(Self, users));
            KeepRetrying();
        });
        Receive<Retry>(_ => RetryAll());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>The close code of a connection the server API disconnected (PROTOCOL section 9): clients do not reconnect.</summary>
    public const int ServerApiCloseCode = 4001;

    /// <summary>Applies <paramref name="action"/> to each open connection of <paramref name="user"/> on this node; returns how many.</summary>
    private int ForEachSession(string user, Action<Session> action)
    {
        if (!sessionsOf.TryGetValue(user, out var list)) return 0;
        foreach (var s in list) action(s);
        return list.Count;
    }

    public static Props Props(VoiceNode node) => Akka.Actor.Props.Create(() => new NodeHub(node));

    private void OnOpened(Session session)
    {
        sessions.Add(session);
        if (!sessionsOf.TryGetValue(session.User, out var list)) sessionsOf.Add(session.User, list = new List<Session>(1));
        list.Add(session);
        if (list.Count > 1) return;
        unregistered.Add(session.User);
        node.Users.Tell(new RegisterUsers(Self, [session.User]));
        KeepRetrying();
    }

    private void OnClosed(Session session)
    {
        if (!sessions.Remove(session)) return;
        foreach (var (id, _) in pendingJoins.Where(p => p.Value.Session == session).ToList()) pendingJoins.Remove(id);
        foreach (var (id, _) in pendingDirects.Where(p => p.Value.Session == session).ToList()) pendingDirects.Remove(id);
        foreach (var membership in session.Slots)
        {
            if (membership is not null) Leave(membership, "closed");
        }
        var list = sessionsOf[session.User];
        list.Remove(session);
        if (list.Count > 0) return;
        sessionsOf.Remove(session.User);
        unregistered.Remove(session.User);
        node.Users.Tell(new UnregisterUser(session.User, Self));
    }

    private void OnCommand(Command c)
    {
        // A request that was queued before its connection closed has nobody to answer.
        if (!sessions.Contains(c.Session)) return;
        var room = (c.Request as IRoomCommand)?.Room;
        if (room is not null && PendingJoinOf(c.Session, room) is { } inFlight)
        {
            inFlight.Queued.Add(c.Request);
            return;
        }
        switch (c.Request)
        {
            case JoinCommand join:
                OnJoin(c.Session, join);
                break;
            case LeaveCommand leave:
                OnLeave(c.Session, leave);
                break;
            case SayCommand say:
                if (MembershipOf(c.Session, say.Room) is { } m)
                    (m.Room.RoomActor ?? node.Rooms).Tell(new Say(say.Room, m.Member, say.Text, say.Ref));
                else Answer(c.Session, NotJoined(say.Room, say.Ref));
                break;
            case ControlCommand control:
                if (MembershipOf(c.Session, control.Room) is { } member)
                    (member.Room.RoomActor ?? node.Rooms).Tell(new ControlRequest(control.Room, member.Member, control));
                else Answer(c.Session, NotJoined(control.Room, control.Ref));
                break;
            case PingCommand ping:
                Answer(c.Session, ServerMessages.Pong(ping.Ref));
                break;
            case DirectCommand direct:
                var message = new SendDirect(direct.To, c.Session.User, direct.Text, direct.Ref, ++nextRequest);
                pendingDirects.Add(message.Request, new PendingDirect(c.Session, message));
                node.Users.Tell(message);
                KeepRetrying();
                break;
        }
    }

    private void OnJoin(Session session, JoinCommand join)
    {
        if (session.Identity is { } identity && !identity.MayJoin(join.Room))
        {
            Answer(session, ServerMessages.Error(ErrorCodes.Forbidden, $"your token does not allow room {join.Room}", join.Ref));
            return;
        }
        var existing = MembershipOf(session, join.Room);
        if (existing is null)
        {
            int joined = session.Slots.Count(s => s is not null);
            int asked = pendingJoins.Values.Where(p => p.Session == session && p.Message.Room != join.Room).Select(p => p.Message.Room).Distinct().Count();
            if (joined + asked >= node.Settings.Limits.RoomsPerConnection)
            {
                Answer(session, ServerMessages.Error(ErrorCodes.RoomLimit, $"a connection may join at most {node.Settings.Limits.RoomsPerConnection} rooms", join.Ref));
                return;
            }
        }
        var message = new JoinRoom(join.Room, ++nextRequest, session.User, Self, node.Relay, existing?.Member ?? 0, join.Since,
            rooms.Find(join.Room)?.LastSeq ?? 0, session.Identity?.IsHostOf(join.Room) ?? false, session.Identity is null, join.Stage);
        pendingJoins.Add(message.Request, new PendingJoin(session, join.Ref, message));
        SendJoin(message);
        KeepRetrying();
    }

    /// <summary>
    /// A join goes through this node's shard region and, when the room's directory home is another node, through
    /// that node's hub too, whose region holds the room when it runs there: no region has to ask the shard
    /// coordinator where it is, and a coordinator that has just moved (its node, the oldest, left) answers nothing
    /// for the better part of a second. The room answers a join it already has (same hub, same request) as before.
    /// </summary>
    private void SendJoin(JoinRoom join)
    {
        node.Rooms.Tell(join);
        var state = cluster.State;
        var home = node.Directory.HomeOfRoomAmong(join.Room, state.Members.Where(m => m.Status == MemberStatus.Up && !state.Unreachable.Contains(m)));
        if (home is not null && !home.Equals(cluster.SelfAddress)) Context.ActorSelection(new RootActorPath(home) / "user" / Name).Tell(join);
    }

    private void OnJoined(RoomJoined joined)
    {
        if (!pendingJoins.Remove(joined.Request, out var request) || !sessions.Contains(request.Session))
        {
            // A repeat answer, or a connection that closed meanwhile.
            if (rooms.Find(joined.Room) is not { } known || known.Members.All(m => m.Member != joined.Member))
                Sender.Tell(new LeaveRoom(joined.Room, joined.Member));
            return;
        }
        var session = request.Session;
        var local = rooms.GetOrAdd(joined.Room);
        SetRoomActor(local, Sender);
        if (joined.Seq > local.LastSeq) local.LastSeq = joined.Seq;
        // Before the membership is published, so its first frame already meets the room's rules.
        local.Gate = new VoiceGate(joined.Voice);
        MergeRoster(local, joined.Members);
        var existing = MembershipOf(session, joined.Room);
        var slot = existing?.Slot ?? session.FreeSlot();
        if (slot < 0)
        {
            // Cannot happen while joins are counted against rooms-per-connection; refuse rather than overwrite a slot.
            Sender.Tell(new LeaveRoom(joined.Room, joined.Member));
            Answer(session, ServerMessages.Error(ErrorCodes.RoomLimit, $"a connection may join at most {node.Settings.Limits.RoomsPerConnection} rooms", request.Ref));
            Replay(request);
            return;
        }
        var members = local.Roster.Values.ToList();
        // A stage listener is on no one's roster, its own included; joined still lists the joiner.
        if (!local.Roster.ContainsKey(joined.Member)) members.Add(new MemberInfo(joined.Member, session.User, joined.View.Role));
        // joined is queued before the membership is published, so no frame of the room precedes it.
        Answer(session, ServerMessages.Joined(joined.Room, slot, joined.Member, joined.Seq, members, joined.Recovered, request.Ref, joined.View));
        foreach (var said in joined.Replay) Answer(session, said);
        if (existing is null)
        {
            var membership = new Membership(local, session, session.Outbound, (byte)slot, joined.Member);
            session.Slots[slot] = membership;
            local.Add(membership);
        }
        Replay(request);
    }

    /// <summary>The requests for the room that waited for this join's answer, in the order they came.</summary>
    private void Replay(PendingJoin answered)
    {
        foreach (var command in answered.Queued) OnCommand(new Command(answered.Session, command));
    }

    private PendingJoin? PendingJoinOf(Session session, string room)
    {
        foreach (var p in pendingJoins.Values)
        {
            if (p.Session == session && p.Message.Room == room) return p;
        }
        return null;
    }

    private void OnLeave(Session session, LeaveCommand leave)
    {
        if (MembershipOf(session, leave.Room) is not { } membership)
        {
            Answer(session, NotJoined(leave.Room, leave.Ref));
            return;
        }
        Leave(membership, "left");
        Answer(session, ServerMessages.Left(leave.Room, leave.Ref));
    }

    private void Leave(Membership membership, string reason)
    {
        End(membership);
        (membership.Room.RoomActor ?? node.Rooms).Tell(new LeaveRoom(membership.Room.Room, membership.Member, reason));
    }

    /// <summary>A membership ends on this node (a leave, a closed connection, or the room's kick or close).</summary>
    private void End(Membership membership)
    {
        // Deactivate first: the writer drops any frame of this membership still queued.
        membership.Deactivate();
        membership.Session.Slots[membership.Slot] = null;
        var local = membership.Room;
        local.Remove(membership);
        if (local.Members.Length > 0) return;
        rooms.Remove(local);
        rejoining.Remove(local);
        if (local.RoomActor is { } actor) Context.Unwatch(actor);
    }

    private void OnRosterChanged(RosterChanged change)
    {
        if (rooms.Find(change.Room) is not { } local) return;
        MergeRoster(local, change.Joined);
        foreach (var gone in change.Left)
        {
            if (!local.Roster.Remove(gone.Member, out var known)) continue;
            var json = ServerMessages.MemberLeft(change.Room, known with { Seat = gone.Seat }, change.Reason);
            foreach (var m in local.Members)
            {
                if (m.Member != gone.Member) Tell(m.Session, json);
            }
        }
        foreach (var changed in change.Changed ?? [])
        {
            if (!local.Roster.ContainsKey(changed.Member)) continue;
            local.Roster[changed.Member] = changed;
            var json = ServerMessages.Role(change.Room, changed);
            foreach (var m in local.Members) Tell(m.Session, json);
        }
    }

    /// <summary>Adds members this node's members were not told of, and tells them: each member hears of each other member once.</summary>
    private void MergeRoster(LocalRoom local, MemberInfo[] joined)
    {
        foreach (var member in joined)
        {
            if (!local.Roster.TryAdd(member.Member, member)) continue;
            var json = ServerMessages.MemberJoined(local.Room, member);
            foreach (var m in local.Members)
            {
                if (m.Member != member.Member) Tell(m.Session, json);
            }
        }
    }

    /// <summary>Text of the room for some or all of this node's members; with <see cref="NodeText.End"/> their memberships end.</summary>
    private void OnNodeText(NodeText text)
    {
        if (rooms.Find(text.Room) is not { } local) return;
        foreach (var m in local.Members)
        {
            if (text.To.Length > 0 && Array.IndexOf(text.To, m.Member) < 0) continue;
            if (m.Member == text.Requester && text.RequesterJson is { } answer) Answer(m.Session, answer);
            else Tell(m.Session, text.Json);
            if (text.End) End(m);
        }
    }

    private void OnRoomText(RoomText text)
    {
        if (rooms.Find(text.Room) is not { } local) return;
        if (text.Seq > local.LastSeq) local.LastSeq = text.Seq;
        foreach (var m in local.Members)
        {
            // The speaker's own said is the answer to its say.
            if (m.Member == text.Speaker) Answer(m.Session, text.SpeakerJson ?? text.Json);
            else Tell(m.Session, text.Json);
        }
    }

    private void SetRoomActor(LocalRoom local, IActorRef actor)
    {
        if (actor.Equals(local.RoomActor)) return;
        if (local.RoomActor is { } old) Context.Unwatch(old);
        local.RoomActor = actor;
        Context.WatchWith(actor, new RoomGone(local.Room, actor));
    }

    private void OnRoomGone(RoomGone gone)
    {
        if (rooms.Find(gone.Room) is not { } local || !gone.RoomActor.Equals(local.RoomActor)) return;
        RoomAway(local, "went away");
    }

    /// <summary>The room's incarnation this hub knew stopped or is stopping: this node's members join the next one.</summary>
    private void RoomAway(LocalRoom local, string what)
    {
        local.RoomActor = null;
        // The room's new incarnation may have asked already (its start probe), and the rejoin is on its way.
        if (rejoining.ContainsKey(local)) return;
        // Voice between this node and the others goes on meanwhile: the speakers' nodes send it themselves.
        log.Debug("Room {Room} {What}; {Members} members on this node join it again", local.Room, what, local.Members.Length);
        node.Stats.Rejoins.Increment();
        node.Rooms.Tell(Rejoin(local));
        KeepRetrying();
    }

    /// <summary>One rejoin for all of this node's members of the room; remembered until the room answers.</summary>
    private RejoinRoom Rejoin(LocalRoom local)
    {
        var members = local.Members;
        var rules = local.Gate.Rules;
        var mine = members.Select(m => local.Roster.TryGetValue(m.Member, out var known)
            ? known with { Seat = local.Gate.SeatOf(m.Member) }
            : new MemberInfo(m.Member, m.Session.User, rules.Stage ? Roles.Listener : Roles.Member, local.Gate.SeatOf(m.Member))).ToArray();
        var peers = local.Roster.Values.Where(p => members.All(m => m.Member != p.Member)).ToArray();
        rejoining[local] = mine.Select(m => m.Member).ToArray();
        return new RejoinRoom(local.Room, Self, node.Relay, mine, local.LastSeq, peers, rules.SeatsVersion);
    }

    private void OnRejoined(RoomRejoined rejoined)
    {
        var local = rooms.Find(rejoined.Room);
        uint[] sent = [];
        if (local is not null && rejoining.Remove(local, out var s)) sent = s;
        if (local is null)
        {
            // Every member of this node left while the rejoin was on its way.
            foreach (var id in sent) Sender.Tell(new LeaveRoom(rejoined.Room, id));
            return;
        }
        foreach (var (old, fresh) in rejoined.Renamed)
        {
            foreach (var m in local.Members.Where(m => m.Member == old)) m.Member = fresh;
        }
        // Members that left while the rejoin was on its way were put back by it: take them out again.
        foreach (var id in sent)
        {
            var now = rejoined.Renamed.FirstOrDefault(r => r.Old == id) is { New: not 0 } r ? r.New : id;
            if (local.Members.All(m => m.Member != now)) Sender.Tell(new LeaveRoom(rejoined.Room, now));
        }
        SetRoomActor(local, Sender);
        if (rejoined.Seq > local.LastSeq) local.LastSeq = rejoined.Seq;
        MergeRoster(local, rejoined.Members);
    }

    private void KeepRetrying()
    {
        if (!Timers.IsTimerActive(Retry.Instance)) Timers.StartPeriodicTimer(Retry.Instance, Retry.Instance, node.Settings.Healing.RetryInterval);
    }

    /// <summary>
    /// Sends again every request still unanswered; stops the timer when there are none. Sharding drops
    /// messages buffered for a shard while it hands off, and a region may still point at a node that just
    /// died; rooms and directory entries take repeats idempotently.
    /// </summary>
    private void RetryAll()
    {
        // Straight to a room that is known to be alive (it probed this hub), else through the region.
        foreach (var p in pendingJoins.Values) (rooms.Find(p.Message.Room)?.RoomActor ?? node.Rooms).Tell(p.Message);
        foreach (var local in rejoining.Keys.ToList()) (local.RoomActor ?? node.Rooms).Tell(Rejoin(local));
        foreach (var d in pendingDirects.Values) node.Users.Tell(d.Message);
        foreach (var group in unregistered.GroupBy(node.Directory.ShardOf)) node.Users.Tell(new RegisterUsers(Self, [.. group]));
        if (pendingJoins.Count == 0 && rejoining.Count == 0 && pendingDirects.Count == 0 && unregistered.Count == 0)
            Timers.Cancel(Retry.Instance);
    }

    private static Membership? MembershipOf(Session session, string room)
    {
        foreach (var m in session.Slots)
        {
            if (m is not null && m.Room.Room == room) return m;
        }
        return null;
    }

    private static byte[] NotJoined(string room, string? reference) =>
        ServerMessages.Error(ErrorCodes.NotJoined, $"not a member of room {room}", reference);

    /// <summary>An answer to the connection's own request: never closes it (its reader is paused instead).</summary>
    private static void Answer(Session session, byte[] json) => session.Outbound.EnqueueText(json, answer: true);

    /// <summary>Text the connection did not ask for; counts toward the limit that closes it with 1013.</summary>
    private void Tell(Session session, byte[] json)
    {
        bool open = session.Outbound.CloseRequest is null;
        if (!session.Outbound.EnqueueText(json) && open)
            log.Warning("Connection {Session} of {User} closed: its outbound text queue is full", session.Id, session.User);
    }
}
