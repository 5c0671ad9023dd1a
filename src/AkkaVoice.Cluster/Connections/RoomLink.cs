using Akka.Actor;

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
}
