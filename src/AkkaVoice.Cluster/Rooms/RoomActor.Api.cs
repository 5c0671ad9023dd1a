using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using AkkaVoice.Protocol;

namespace AkkaVoice.Cluster.Rooms;

/// <summary>The server API's calls on a room (RoomApiMessages.cs), each as a host would do it, with <c>by: "system"</c>.</summary>
public sealed partial class RoomActor
{
    private static readonly TimeSpan SystemSayMemory = TimeSpan.FromMinutes(10);
    private const int SystemSayIdsKept = 1000;

    // The ids of the API's recent says and their seqs: a repeated id within 10 minutes is not said again (at most 1,000 kept).
    private readonly Queue<(string Id, long Seq, long At)> systemSays = new();

    private void ApiReceives()
    {
        Receive<GetRoomState>(_ => AnswerState());
        Receive<ConfigureRoom>(c =>
        {
            if (control.Configure(c) is { } refused) Sender.Tell(new RoomRefused(room, refused.Code, refused.Message));
            else
            {
                var sender = Sender;
                log.Info("Room {Room} configured through the API: {Kind}, {Seats} seats, {Hosts} hosts", room, control.Kind, control.SeatView().Length, control.Hosts().Length);
                Commit(control.TakeChanges(), null, () => sender.Tell(State()));
            }
        });
        Receive<DeleteRoom>(_ =>
        {
            bool existed = members.Count > 0 || control.Config is not null;
            var sender = Sender;
            if (existed) CloseRoom("deleted", null, () => sender.Tell(new RoomDeleted(room, true)));
            else Sender.Tell(new RoomDeleted(room, false));
        });
        Receive<ListMembers>(l =>
        {
            if (NotFound()) return;
            var (page, next) = control.Roster(l.After, Math.Clamp(l.Limit, 1, 1000));
            Sender.Tell(new MemberPage(room, page.Select(m => new MemberEntry(m.Member, m.User, m.Role, m.Seat,
                control.IsMuted(m.User), NodeOf(members[m.Member].Node.Hub).ToString())).ToArray(), next));
        });
        Receive<KickUser>(k =>
        {
            int count = control.MembershipsOf(k.User).Count();
            kickReason = k.Reason;
            control.Kick(null, k.User, k.Ban, Now(), HistoryMillis);
            var sender = Sender;
            Commit(control.TakeChanges(), null, () => sender.Tell(new UsersAffected(room, count)));
        });
        Receive<MuteUser>(m =>
        {
            int count = control.MembershipsOf(m.User).Count();
            control.Mute(null, m.User, m.Muted);
            var sender = Sender;
            Commit(control.TakeChanges(), null, () => sender.Tell(new UsersAffected(room, count)));
        });
        Receive<SetSeat>(s =>
        {
            uint? target = null;
            if (s.User is { } user)
            {
                target = control.MembershipsOf(user).FirstOrDefault();
                if (target == 0)
                {
                    Sender.Tell(new RoomNotFound(room, $"user {user} is not in room {room}"));
                    return;
                }
            }
            if (control.SetSeat(null, s.Seat, target, s.Clear, s.Locked) is { } refused)
            {
                Sender.Tell(new RoomRefused(room, refused.Code == ErrorCodes.BadField ? ErrorCodes.OutOfRange : refused.Code, refused.Message));
                return;
            }
            var sender = Sender;
            Commit(control.TakeChanges(), null, () => sender.Tell(State()));
        });
        Receive<SystemSay>(OnSystemSay);
    }

    private void OnSystemSay(SystemSay say)
    {
        long now = Now();
        while (systemSays.Count > 0 && (systemSays.Count > SystemSayIdsKept || now - systemSays.Peek().At > SystemSayMemory.TotalMilliseconds)) systemSays.Dequeue();
        if (say.Id is { } id && systemSays.FirstOrDefault(s => s.Id == id) is { Id: not null } earlier)
        {
            Sender.Tell(new SaidSeq(room, earlier.Seq));
            return;
        }
        var said = Said(0, RoomControl.SystemUser, say.Text, null, null);
        if (say.Id is not null) systemSays.Enqueue((say.Id, said, now));
        Sender.Tell(new SaidSeq(room, said));
    }

    private bool NotFound()
    {
        if (members.Count > 0 || control.Config is not null) return false;
        Sender.Tell(new RoomNotFound(room, $"room {room} has neither members nor a configuration"));
        // A room that only exists because it was asked about has nothing to keep.
        if (seq == 0) Context.Parent.Tell(new Passivate(PoisonPill.Instance));
        return true;
    }

    private void AnswerState()
    {
        if (!NotFound()) Sender.Tell(State());
    }

    private RoomState State() => new(room, control.Kind, control.Config?.SeatMode ?? SeatModes.Request, control.SeatView(), control.SeatsVersion,
        control.Hosts(), control.MaxMembers, members.Count, control.IsStage ? control.Audience : 0, control.Speakers, cluster.SelfAddress.ToString());
}
