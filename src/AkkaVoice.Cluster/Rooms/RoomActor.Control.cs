using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.DistributedData;
using Akka.Event;
using AkkaVoice.Protocol;

namespace AkkaVoice.Cluster.Rooms;

/// <summary>
/// The room's control layer (PROTOCOL section 8 and the server API's room calls): the configuration read from and
/// written to the replicas, members' section-8 requests and the API's, applied through <see cref="RoomControl"/>,
/// and what they change told once per node.
/// </summary>
public sealed partial class RoomActor
{
    private sealed class AudienceTick
    {
        public static readonly AudienceTick Instance = new();
    }

    /// <summary>What a write to the replicas holds back until a majority has it.</summary>
    private sealed record Written(Action Then);

    private static readonly TimeSpan AudienceInterval = TimeSpan.FromSeconds(1);
    private int audienceSent = -1;
    private string closeReason = "closed";

    private LWWDictionaryKey<string, RoomConfig> ConfigKey => RoomConfigStore.KeyOf(shard);

    private long HistoryMillis => (long)settings.RoomIdleTimeout.TotalMilliseconds;

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    // ---- the configuration ----

    private void LoadConfig() =>
        RoomConfigStore.Replicator(Context.System).Tell(Dsl.Get(ConfigKey, new ReadMajority(RoomConfigStore.Timeout)));

    /// <summary>Until the configuration is read, the room answers nothing: a new home must not hand out a seat a ban forbids.</summary>
    private void Loading()
    {
        Receive<GetSuccess>(g => Loaded(g.Get(ConfigKey).TryGetValue(room, out var c) ? c : null));
        Receive<NotFound>(_ => Loaded(null));
        Receive<GetFailure>(_ =>
        {
            log.Warning("Room {Room}: no majority answered the configuration read in {Timeout}; going on with this node's replica", room, RoomConfigStore.Timeout);
            RoomConfigStore.Replicator(Context.System).Tell(Dsl.Get(ConfigKey, ReadLocal.Instance));
        });
        ReceiveAny(_ => Stash.Stash());
    }

    private void Loaded(RoomConfig? config)
    {
        long now = Now();
        control.Load(config, now);
        Become(Ready);
        // An expired client-made configuration (its room's home crashed before it could delete it) is deleted now.
        if (config is not null && control.Config is null) WriteConfig(null);
        else if (config is not null) log.Info("Room {Room} has a {Kind} configuration ({Hosts} hosts, {Bans} bans, {Mutes} mutes)",
            room, config.Kind, config.Hosts.Length, config.Bans.Length, config.Mutes.Length);
        Stash.UnstashAll();
    }

    /// <summary>Writes the configuration to a majority (null deletes it); the room answers nothing else meanwhile.</summary>
    private void WriteConfig(RoomConfig? config, Action? then = null)
    {
        var roomId = room;
        var cluster = this.cluster;
        RoomConfigStore.Replicator(Context.System).Tell(Dsl.Update(ConfigKey, LWWDictionary<string, RoomConfig>.Empty,
            new WriteMajority(RoomConfigStore.Timeout), new Written(then ?? (() => { })),
            map => config is null ? map.Remove(cluster, roomId) : map.SetItem(cluster, roomId, config)));
        BecomeStacked(() =>
        {
            Receive<IUpdateResponse>(r =>
            {
                if (r is not UpdateSuccess)
                    log.Warning("Room {Room}: its configuration reached no majority in {Timeout} ({Response}); it goes on with the replicas that have it",
                        room, RoomConfigStore.Timeout, r.GetType().Name);
                UnbecomeStacked();
                ((Written)r.Request!).Then();
                Stash.UnstashAll();
            });
            ReceiveAny(_ => Stash.Stash());
        });
    }

    /// <summary>
    /// Applies what a request changed: the configuration to the replicas first when it changed, then every node is
    /// told, then <paramref name="then"/> (the answer). <paramref name="answer"/> names the requester whose copy of
    /// the <c>seats</c> it causes carries its ref.
    /// </summary>
    private void Commit(ControlChanges changes, Requester? answer, Action? then = null)
    {
        void Apply()
        {
            bool answered = Publish(changes, answer);
            if (answer is { } a && !answered) a.Hub.Tell(Answer(a.Member, ServerMessages.Done(room, a.Ref)));
            then?.Invoke();
        }
        if (changes.Config || changes.Deleted) WriteConfig(changes.Deleted ? null : control.Config, Apply);
        else Apply();
    }

    /// <summary>
    /// Who asked: its node's hub, its membership and its ref. A seat request (<paramref name="OnSeats"/>) is answered on
    /// the <c>seats</c> it causes; anything else, or a seat request that changed nothing, on <c>done</c>.
    /// </summary>
    private sealed record Requester(IActorRef Hub, uint Member, string? Ref, bool OnSeats);

    /// <summary>Tells every node what changed; true when the requester's answer went with it (its copy of <c>seats</c>).</summary>
    private bool Publish(ControlChanges changes, Requester? requester)
    {
        bool answered = false;
        var hidden = changes.Hidden.GroupBy(h => h.Reason).ToList();
        if (changes.Shown.Count > 0 || changes.Roles.Count > 0 || hidden.Count > 0)
        {
            var first = hidden.FirstOrDefault();
            Emit(new RosterChanged(room, [.. changes.Shown], first?.Select(h => h.Member).ToArray() ?? [], first?.Key ?? "left",
                changes.Roles.Count > 0 ? [.. changes.Roles] : null));
            foreach (var group in hidden.Skip(1)) Emit(new RosterChanged(room, [], group.Select(h => h.Member).ToArray(), group.Key));
        }
        foreach (var kicked in changes.Kicked.GroupBy(k => members[k.Member].Node))
        {
            var by = requester is { Member: not 0 } r && control.Has(r.Member) ? control.UserOf(r.Member) : RoomControl.SystemUser;
            Emit(kicked.Key, new NodeText(room, ServerMessages.Kicked(room, by, kickReason), kicked.Select(k => k.Member).ToArray(), End: true));
        }
        if (changes.Kicked.Count > 0) Forget(changes.Kicked.Select(k => k.Member).ToList(), "kicked");
        // The nodes learn who may be heard before anyone hears of the seat: a new speaker's first frame passes.
        if (changes.Voice || changes.Seats.Count > 0) Emit(VoiceRules());
        if (changes.Seats.Count > 0)
        {
            var seats = control.SeatView();
            var json = ServerMessages.Seats(room, control.SeatsVersion, seats, null);
            foreach (var node in nodes.Values)
            {
                if (requester is { OnSeats: true } r && node.Hub.Equals(r.Hub) && control.Has(r.Member))
                {
                    Emit(node, new NodeText(room, json, [], r.Member, ServerMessages.Seats(room, control.SeatsVersion, seats, r.Ref)));
                    answered = true;
                }
                else Emit(node, new NodeText(room, json, []));
            }
            long now = Now();
            foreach (var s in changes.Seats.Where(s => s < seats.Length))
                Raise(new RoomEvents.SeatChanged(room, now, s, seats[s].User, seats[s].Locked, seats[s].Muted));
        }
        if (changes.Hands.Count > 0)
        {
            var hosts = members.Values.Where(m => control.IsHostMember(m.Id)).GroupBy(m => m.Node);
            foreach (var node in hosts)
            {
                var to = node.Select(m => m.Id).ToArray();
                foreach (var (member, raised) in changes.Hands) Emit(node.Key, new NodeText(room, ServerMessages.Hand(room, member.Member, member.User, raised, null), to));
            }
        }
        foreach (var (member, seat) in changes.Invited)
        {
            var by = requester is { Member: not 0 } r && control.Has(r.Member) ? control.UserOf(r.Member) : RoomControl.SystemUser;
            Emit(members[member].Node, new NodeText(room, ServerMessages.Invited(room, seat, by), [member]));
        }
        if (changes.MutedMembers.Count > 0)
        {
            var by = requester is { Member: not 0 } r && control.Has(r.Member) ? control.UserOf(r.Member) : RoomControl.SystemUser;
            var muted = control.IsMuted(control.UserOf(changes.MutedMembers[0]));
            foreach (var node in changes.MutedMembers.GroupBy(m => members[m].Node))
                Emit(node.Key, new NodeText(room, ServerMessages.Muted(room, muted, by), node.ToArray()));
        }
        if (changes.Audience && control.IsStage && !Timers.IsTimerActive(AudienceTick.Instance)) SendAudience();
        return answered;
    }

    private string? kickReason;

    /// <summary>At most one <c>audience</c> a second: the first change goes out at once, later ones when the second is over.</summary>
    private void SendAudience()
    {
        if (control.Audience == audienceSent || members.Count == 0) return;
        audienceSent = control.Audience;
        Emit(new NodeText(room, ServerMessages.Audience(room, audienceSent), []));
        Timers.StartSingleTimer(AudienceTick.Instance, AudienceTick.Instance, AudienceInterval);
    }

    private RoomVoice VoiceRules()
    {
        var (stage, _, muted) = control.VoiceRules();
        return new RoomVoice(room, stage, stage ? control.SeatView().Select(s => s.Member).ToArray() : [], control.SeatsVersion, muted);
    }

    private RoomView View(uint member) => new(control.Kind, control.RoleOf(member), control.Config?.SeatMode ?? SeatModes.Request,
        control.SeatView(), control.SeatsVersion, control.Audience, control.IsHostMember(member) && control.IsStage ? control.Hands() : null);

    /// <summary>An answer for one member of the node that asked.</summary>
    private NodeText Answer(uint member, byte[] json) => new(room, json, [member], member, json);

    private void Raise(IRoomEvent e) => events.Tell(e, ActorRefs.NoSender);

    /// <summary>How long an empty room stays: its history's time, or until its client-made configuration ends (a ban's end).</summary>
    private TimeSpan IdleTime()
    {
        var expires = control.Config is { FromApi: false, Expires: not 0 } c ? TimeSpan.FromMilliseconds(Math.Max(0, c.Expires - Now())) : TimeSpan.Zero;
        return expires > settings.RoomIdleTimeout ? expires : settings.RoomIdleTimeout;
    }

    private void Passivate()
    {
        // A client-made configuration ends with the room (its expiry has passed by now); the API's stays until DELETE.
        if (control.Config is { FromApi: false } c && c.ExpiredAt(Now() + 1000))
        {
            control.Load(null, Now());
            WriteConfig(null, () => Context.Parent.Tell(new Passivate(PoisonPill.Instance)));
            return;
        }
        Context.Parent.Tell(new Passivate(PoisonPill.Instance));
    }

    // ---- requests ----

    private void ControlReceives()
    {
        Receive<ControlRequest>(OnControl);
        Receive<AudienceTick>(_ => SendAudience());
        ApiReceives();
    }

    private void OnControl(ControlRequest request)
    {
        var c = request.Command;
        if (!control.Has(request.Member))
        {
            Sender.Tell(Answer(request.Member, ServerMessages.Error(ErrorCodes.NotJoined, $"not a member of room {room}", c.Ref)));
            return;
        }
        var requester = new Requester(Sender, request.Member, c.Ref, c is TakeSeatCommand or LeaveSeatCommand or SetSeatCommand);
        long now = Now();
        Refusal? refused;
        switch (c)
        {
            case TakeSeatCommand t: refused = control.TakeSeat(request.Member, t.Seat, now); break;
            case LeaveSeatCommand: refused = control.LeaveSeat(request.Member); break;
            case HandCommand h: refused = control.Hand(request.Member, h.Raised); break;
            case InviteCommand i: refused = control.Invite(request.Member, i.Member, i.Seat, now); break;
            case SetSeatCommand s: refused = control.SetSeat(request.Member, s.Seat, s.Member, s.Clear, s.Locked); break;
            case MuteCommand m:
                refused = control.Has(m.Member) ? control.Mute(request.Member, control.UserOf(m.Member), m.Muted) : new Refusal(ErrorCodes.BadField, $"no member {m.Member} in the room");
                break;
            case KickCommand k:
                kickReason = k.Reason;
                refused = control.Kick(request.Member, k.User, k.Ban, now, HistoryMillis);
                break;
            case CloseCommand:
                refused = control.MayClose(request.Member);
                if (refused is null)
                {
                    CloseRoom("closed", requester, null);
                    return;
                }
                break;
            case RosterCommand r:
                var (page, next) = control.Roster(r.After, r.Limit);
                Sender.Tell(Answer(request.Member, ServerMessages.Roster(room, page, next, r.Ref)));
                return;
            default:
                return;
        }
        if (refused is not null)
        {
            control.TakeChanges();
            Sender.Tell(Answer(request.Member, ServerMessages.Error(refused.Code, refused.Message, c.Ref)));
            return;
        }
        Commit(control.TakeChanges(), requester);
    }

    /// <summary>Every member gets <c>room-closed</c> and is out; the configuration and the history end.</summary>
    private void CloseRoom(string reason, Requester? requester, Action? then)
    {
        closeReason = reason;
        var json = ServerMessages.RoomClosed(room, reason, null);
        foreach (var node in nodes.Values)
        {
            if (requester is { } r && node.Hub.Equals(r.Hub)) Emit(node, new NodeText(room, json, [], r.Member, ServerMessages.RoomClosed(room, reason, r.Ref), End: true));
            else Emit(node, new NodeText(room, json, [], End: true));
        }
        control.Close();
        history.Clear();
        log.Info("Room {Room} {Reason} with {Members} members", room, reason, members.Count);
        var ids = members.Keys.ToList();
        Commit(control.TakeChanges(), null, () =>
        {
            Forget(ids, "room-closed");
            then?.Invoke();
        });
    }
}
