using Akka.Actor;
using AkkaVoice.Protocol;

namespace AkkaVoice.Cluster.Connections;

/// <summary>
/// A connection's joined room: its slot, membership and the room actor frames go to. Written by the
/// connection actor, read by the socket reader for every incoming frame.
/// </summary>
public sealed class RoomLink(string room, Membership membership)
{
    private volatile IActorRef? roomActor;

    public string Room { get; } = room;
    public Membership Membership { get; } = membership;

    /// <summary>The room actor while it is known; null while the room is moving and the connection rejoins it.</summary>
    public IActorRef? RoomActor { get => roomActor; set => roomActor = value; }

    /// <summary>The last <c>said</c> seq delivered for this room.</summary>
    public long LastSeq { get; set; }

    /// <summary>The room's members as this connection was told (joined, member-joined, member-left).</summary>
    public Dictionary<uint, string> Roster { get; } = [];

    public MemberInfo[] Peers() => Roster.Where(kv => kv.Key != Membership.Member).Select(kv => new MemberInfo(kv.Key, kv.Value)).ToArray();
}
