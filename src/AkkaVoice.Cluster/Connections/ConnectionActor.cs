using Akka.Actor;
using Akka.Event;
using AkkaVoice.Cluster.Rooms;
using AkkaVoice.Cluster.Users;
using AkkaVoice.Protocol;

namespace AkkaVoice.Cluster.Connections;

/// <summary>
/// One per client connection, on the node the client reached. Answers the client's text messages, joins
/// and leaves rooms, and heals membership: when a room actor stops or moves it joins the room again,
/// keeping slot and member id, without the client noticing. Voice frames do not pass through it: the
/// socket reader sends them straight to the room actor it recorded in the <see cref="RoomLink"/>.
/// </summary>
public sealed class ConnectionActor : ReceiveActor, IWithTimers
{
    private sealed record PendingJoin(JoinRoom Message, string? Ref);

    private sealed record RoomGone(string Room, IActorRef RoomActor);

    private sealed record UserEntryGone(IActorRef Entry);

    private sealed class RetryPending
    {
        public static readonly RetryPending Instance = new();
    }

    /// <summary>
    /// How often a request to a sharded entity (join, rejoin, registration, direct) is sent again until it
    /// is answered. Sharding drops messages buffered for a shard while it hands off, and a region may still
    /// point at a node that just died; rooms and user entries take repeats idempotently.
    /// </summary>
    private static readonly TimeSpan Retry = TimeSpan.FromSeconds(2);

    private readonly Session session;
    private readonly VoiceNode node;
    private readonly ILoggingAdapter log = Context.GetLogger();
    private readonly Dictionary<string, RoomLink> links = new(StringComparer.Ordinal);
    private readonly Dictionary<long, PendingJoin> pending = [];
    private readonly Dictionary<long, SendDirect> pendingDirects = [];
    private IActorRef? userEntry;
    private long nextRequest;
    private bool closing;

    public ConnectionActor(Session session)
    {
        this.session = session;
        node = session.Node;

        Receive<JoinCommand>(OnJoin);
        Receive<LeaveCommand>(OnLeave);
        Receive<SayCommand>(OnSay);
        Receive<DirectCommand>(d =>
        {
            var message = new SendDirect(d.To, session.User, d.Text, d.Ref, ++nextRequest);
            pendingDirects.Add(message.Request, message);
            node.Users.Tell(message);
            KeepRetrying();
        });
        Receive<PingCommand>(p => Send(ServerMessages.Pong(p.Ref)));
        Receive<ParseError>(e => Send(ServerMessages.Error(e.Code, e.Message, e.Ref)));
        Receive<RoomJoined>(OnJoined);
        Receive<JoinRefused>(r =>
        {
            if (pending.Remove(r.Request, out var p)) Send(ServerMessages.Error(r.Code, r.Reason, p.Ref));
        });
        Receive<RoomText>(t =>
        {
            if (!links.TryGetValue(t.Room, out var link)) return;
            if (t.Seq > link.LastSeq) link.LastSeq = t.Seq;
            Send(t.Json);
        });
        Receive<RosterChanged>(c =>
        {
            if (!links.TryGetValue(c.Room, out var link)) return;
            if (c.Joined) link.Roster[c.Member] = c.User;
            else link.Roster.Remove(c.Member);
            Send(c.Json);
        });
        Receive<ClientText>(t => Send(t.Json));
        Receive<DirectResult>(r =>
        {
            if (!pendingDirects.Remove(r.Request)) return;
            Send(r.Delivered
                ? ServerMessages.Delivered(r.To, r.Ref)
                : ServerMessages.Error(ErrorCodes.UserOffline, $"user {r.To} has no open connection", r.Ref));
        });
        Receive<UserRegistered>(_ =>
        {
            if (Sender.Equals(userEntry)) return;
            userEntry = Sender;
            Context.WatchWith(Sender, new UserEntryGone(Sender));
        });
        Receive<UserEntryGone>(g =>
        {
            // The user's directory entry moved or restarted empty: register again.
            if (!g.Entry.Equals(userEntry)) return;
            userEntry = null;
            node.Users.Tell(new RegisterConnection(session.User, Self));
            KeepRetrying();
        });
        Receive<RetryPending>(_ => RetryAll());
        Receive<RoomGone>(OnRoomGone);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(Session session) => Akka.Actor.Props.Create(() => new ConnectionActor(session));

    protected override void PreStart()
    {
        node.Users.Tell(new RegisterConnection(session.User, Self));
        KeepRetrying();
    }

    protected override void PostStop()
    {
        node.Users.Tell(new UnregisterConnection(session.User, Self));
        foreach (var link in links.Values)
        {
            Unlink(link);
            (link.RoomActor ?? node.Rooms).Tell(new LeaveRoom(link.Room, link.Membership.Member));
        }
    }

    private void OnJoin(JoinCommand join)
    {
        if (session.Identity is { } identity && !identity.MayJoin(join.Room))
        {
            Send(ServerMessages.Error(ErrorCodes.Forbidden, $"your token does not allow room {join.Room}", join.Ref));
            return;
        }
        links.TryGetValue(join.Room, out var link);
        if (link is null)
        {
            var rooms = links.Count + pending.Values.Select(p => p.Message.Room).Where(r => !links.ContainsKey(r)).Distinct().Count(r => r != join.Room);
            if (rooms >= node.Settings.Limits.RoomsPerConnection)
            {
                Send(ServerMessages.Error(ErrorCodes.RoomLimit, $"a connection may join at most {node.Settings.Limits.RoomsPerConnection} rooms", join.Ref));
                return;
            }
        }
        var message = new JoinRoom(join.Room, ++nextRequest, session.User, Self, node.Relay, link?.Membership.Member ?? 0, join.Since, link?.LastSeq ?? 0, []);
        pending[message.Request] = new PendingJoin(message, join.Ref);
        node.Rooms.Tell(message);
        KeepRetrying();
    }

    private void KeepRetrying()
    {
        if (!Timers.IsTimerActive(RetryPending.Instance)) Timers.StartPeriodicTimer(RetryPending.Instance, RetryPending.Instance, Retry);
    }

    /// <summary>Sends again every request still unanswered; stops the timer when there are none.</summary>
    private void RetryAll()
    {
        if (userEntry is null) node.Users.Tell(new RegisterConnection(session.User, Self));
        foreach (var p in pending.Values) node.Rooms.Tell(p.Message);
        foreach (var d in pendingDirects.Values) node.Users.Tell(d);
        foreach (var link in links.Values)
        {
            if (link.RoomActor is null) Rejoin(link);
        }
        if (userEntry is not null && pending.Count == 0 && pendingDirects.Count == 0 && links.Values.All(l => l.RoomActor is not null))
            Timers.Cancel(RetryPending.Instance);
    }

    private void OnJoined(RoomJoined joined)
    {
        bool asked = pending.Remove(joined.Request, out var request);
        if (links.TryGetValue(joined.Room, out var link))
        {
            if (!Sender.Equals(link.RoomActor))
            {
                Context.WatchWith(Sender, new RoomGone(joined.Room, Sender));
                link.RoomActor = Sender;
            }
            link.Membership.Member = joined.Member;
            if (joined.Seq > link.LastSeq) link.LastSeq = joined.Seq;
            if (asked) SetRoster(link, joined.Members);
            if (asked) SendJoined(link, joined, request!);
            return;
        }
        if (!asked)
        {
            // A rejoin that finished after the client left the room, or a join the client cancelled.
            Sender.Tell(new LeaveRoom(joined.Room, joined.Member));
            return;
        }

        var free = session.FreeSlot();
        if (free < 0)
        {
            // Cannot happen while joins are counted against rooms-per-connection; refuse rather than overwrite a slot.
            Sender.Tell(new LeaveRoom(joined.Room, joined.Member));
            Send(ServerMessages.Error(ErrorCodes.RoomLimit, $"a connection may join at most {node.Settings.Limits.RoomsPerConnection} rooms", request!.Ref));
            return;
        }
        var slot = (byte)free;
        var membership = new Membership(joined.Room, slot, joined.Member, session.Outbound);
        link = new RoomLink(joined.Room, membership) { RoomActor = Sender, LastSeq = joined.Seq };
        links.Add(joined.Room, link);
        SetRoster(link, joined.Members);
        Context.WatchWith(Sender, new RoomGone(joined.Room, Sender));
        // joined is queued before the relay can see the membership, so no frame of the room precedes it.
        SendJoined(link, joined, request!);
        session.Slots[slot] = link;
        node.LocalMembers.Add(membership);
    }

    private void SendJoined(RoomLink link, RoomJoined joined, PendingJoin request)
    {
        Send(ServerMessages.Joined(joined.Room, link.Membership.Slot, joined.Member, joined.Seq, joined.Members, joined.Recovered, request.Ref));
        foreach (var said in joined.Replay) Send(said);
    }

    private void OnLeave(LeaveCommand leave)
    {
        bool cancelled = false;
        foreach (var (id, p) in pending.Where(kv => kv.Value.Message.Room == leave.Room).ToList())
        {
            pending.Remove(id);
            cancelled = true;
        }
        if (!links.Remove(leave.Room, out var link))
        {
            Send(cancelled
                ? ServerMessages.Left(leave.Room, leave.Ref)
                : ServerMessages.Error(ErrorCodes.NotJoined, $"not a member of room {leave.Room}", leave.Ref));
            return;
        }
        Unlink(link);
        if (link.RoomActor is { } room) Context.Unwatch(room);
        (link.RoomActor ?? node.Rooms).Tell(new LeaveRoom(link.Room, link.Membership.Member));
        Send(ServerMessages.Left(leave.Room, leave.Ref));
    }

    private void OnSay(SayCommand say)
    {
        if (!links.TryGetValue(say.Room, out var link))
        {
            Send(ServerMessages.Error(ErrorCodes.NotJoined, $"not a member of room {say.Room}", say.Ref));
            return;
        }
        (link.RoomActor ?? node.Rooms).Tell(new Say(say.Room, link.Membership.Member, say.Text, say.Ref));
    }

    private void OnRoomGone(RoomGone gone)
    {
        if (!links.TryGetValue(gone.Room, out var link) || !gone.RoomActor.Equals(link.RoomActor)) return;
        link.RoomActor = null;
        log.Debug("Room {Room} went away; member {Member} of {User} rejoins it", gone.Room, link.Membership.Member, session.User);
        Rejoin(link);
        KeepRetrying();
    }

    private void Rejoin(RoomLink link) =>
        node.Rooms.Tell(new JoinRoom(link.Room, 0, session.User, Self, node.Relay, link.Membership.Member, null, link.LastSeq, link.Peers()));

    private static void SetRoster(RoomLink link, MemberInfo[] members)
    {
        link.Roster.Clear();
        foreach (var m in members) link.Roster[m.Member] = m.User;
    }

    private void Unlink(RoomLink link)
    {
        // Deactivate first: the writer drops any frame of this membership still queued.
        link.Membership.Deactivate();
        node.LocalMembers.Remove(link.Membership);
        session.Slots[link.Membership.Slot] = null;
    }

    private void Send(byte[] json)
    {
        if (!session.Outbound.EnqueueText(json) && !closing)
        {
            closing = true;
            log.Warning("Connection {Session} of {User} closed: its outbound text queue is full", session.Id, session.User);
        }
    }
}
