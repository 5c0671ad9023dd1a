using Akka.Actor;
using Akka.Event;
using AkkaVoice.Cluster.Hub;
using AkkaVoice.Protocol;

namespace AkkaVoice.Cluster.Rooms;

/// <summary>
/// How a room that starts on a node finds out whether it is a room that moved or crashed: it asks every node's hub,
/// and those with members join it again, each for all its members, with the seq, roles and seats they last saw.
/// </summary>
public sealed partial class RoomActor
{
    /// <summary>
    /// Asks every node's hub whether it holds members of this room. A room that starts may be one that moved
    /// or crashed: the hubs that knew it join it again at once with the seq they saw, and <c>say</c> waits
    /// for their answers (at most <c>room-probe-timeout</c>), so the sequence goes on without a gap.
    /// </summary>
    private void Probe()
    {
        var provider = ((ExtendedActorSystem)Context.System).Provider;
        foreach (var member in cluster.State.Members)
        {
            if (member.Status != Akka.Cluster.MemberStatus.Up && member.Status != Akka.Cluster.MemberStatus.WeaklyUp) continue;
            if (cluster.State.Unreachable.Contains(member)) continue;
            probing.Add(member.Address);
            HubAt(provider, member.Address).Tell(new ProbeRoom(room));
        }
        if (probing.Count > 0) Timers.StartSingleTimer(ProbeOver.Instance, ProbeOver.Instance, settings.Healing.RoomProbeTimeout);
    }

    private IActorRef HubAt(IActorRefProvider provider, Address address) =>
        provider.ResolveActorRef(new RootActorPath(address.Equals(cluster.SelfAddress) ? provider.DefaultAddress : address) / "user" / NodeHub.Name);

    private void ProbeAnswered()
    {
        if (probing.Count == 0) return;
        var address = Sender.Path.Address.HasLocalScope ? cluster.SelfAddress : Sender.Path.Address;
        if (probing.Remove(address) && probing.Count == 0)
        {
            Timers.Cancel(ProbeOver.Instance);
            ProbeSettled();
        }
    }

    /// <summary>Every node said what it knows of the room (or stopped being waited for): chat goes on, and a rebuilt room says so.</summary>
    private void ProbeSettled()
    {
        Stash.UnstashAll();
        if (!rebuilt || members.Count == 0) return;
        rebuilt = false;
        Raise(new RoomEvents.Rehomed(room, Now(), members.Keys.Select(id =>
        {
            var m = control.Describe(id);
            return new RoomEvents.RehomedMember(m.Member, m.User, m.Role, m.Seat);
        }).ToArray()));
    }

    private void OnRejoin(RejoinRoom rejoin)
    {
        if (members.Count == 0) rebuilt = true;
        ProbeAnswered();
        if (!rehomeLogged)
        {
            rehomeLogged = true;
            log.Info("Room {Room} re-homed to {Node}", room, cluster.SelfAddress);
        }
        ContinueSequence(rejoin.LastSeq);
        var renamed = new List<(uint, uint)>();
        var back = new List<uint>();
        bool newNode = false;
        foreach (var m in rejoin.Members)
        {
            awaited.Remove(m.Member);
            var id = m.Member;
            if (members.TryGetValue(m.Member, out var existing))
            {
                if (existing.Node.Hub.Equals(rejoin.Hub)) continue;
                // A member that joined the rebuilt room meanwhile drew this id: give the returning one another.
                id = NewMemberId();
                renamed.Add((m.Member, id));
            }
            Add(id, m.User, rejoin.Hub, rejoin.Relay, out var addedNode);
            control.Rejoin(id, m.User, m.Role == Roles.Host, m.Seat, rejoin.SeatsVersion);
            newNode |= addedNode;
            back.Add(id);
        }
        foreach (var peer in rejoin.Peers)
        {
            if (!members.ContainsKey(peer.Member)) awaited.TryAdd(peer.Member, peer.User);
        }
        // A listener that was on no one's roster is not awaited: nobody was told of it, nobody needs to hear it left.
        if (awaited.Count > 0 && !Timers.IsTimerActive(RejoinGraceOver.Instance))
            Timers.StartSingleTimer(RejoinGraceOver.Instance, RejoinGraceOver.Instance, settings.Healing.RejoinGrace);

        // Hubs tell each local member only what it did not know, so announcing every rejoiner is safe:
        // a member that joined during the rebuild learns of each one that comes back after it.
        Publish(control.TakeChanges(), null);
        Sender.Tell(new RoomRejoined(room, seq, control.VisibleMembers(), [.. renamed]));
        Sender.Tell(VoiceRules());
        if (newNode) SendRoutes();
        // A rejoin after the start probe settled (a hub that saw the old room go) still tells of the rehoming.
        if (rebuilt && probing.Count == 0) ProbeSettled();
        // A node whose rejoin comes after the room told the webhooks who it had brings members the application has
        // not heard of since the rebuild: it hears of them now.
        else if (probing.Count == 0)
        {
            foreach (var id in back) Raise(new RoomEvents.MemberJoined(room, Now(), id, members[id].User, control.RoleOf(id)));
        }
    }

    /// <summary>A rebuilt room continues the sequence its members saw; the history before it is gone.</summary>
    private void ContinueSequence(long lastSeq)
    {
        if (lastSeq <= seq) return;
        if (saidHere)
            log.Warning("Room {Room} said up to seq {Seq} before a node that saw seq {LastSeq} rejoined; the sequence jumps", room, seq, lastSeq);
        seq = lastSeq;
        history.Clear();
    }

    /// <summary>Members the rejoiners knew that did not come back (their node crashed with the room) have left.</summary>
    private void AnnounceMissing()
    {
        var missing = awaited.Where(a => !members.ContainsKey(a.Key)).Select(a => new MemberInfo(a.Key, a.Value)).ToArray();
        awaited.Clear();
        if (missing.Length == 0) return;
        Emit(new RosterChanged(room, [], missing, "node-lost"));
        log.Info("Room {Room} re-homed without {Missing} members; announced them as left", room, missing.Length);
    }
}
