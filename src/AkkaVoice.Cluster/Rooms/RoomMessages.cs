using Akka.Actor;
using AkkaVoice.Cluster.Serialization;
using AkkaVoice.Protocol;

namespace AkkaVoice.Cluster.Rooms;

/// <summary>A message for the room entity named <see cref="Room"/>; the shard extractor routes on it.</summary>
public interface IRoomMessage
{
    string Room { get; }
}

/// <summary>
/// A membership, asked for by the hub of the node the client is on. <paramref name="Request"/> is the
/// hub's id for the request, echoed in the answer. <paramref name="Member"/> is 0 for a new membership, or
/// the member id the connection holds (a repeated join, answered with the same member and a replay). <paramref name="LastSeq"/> is the last <c>said</c> seq the
/// node saw of this room (0 when it knew none), so a room rebuilt after a move continues its sequence.
/// </summary>
/// <paramref name="ClaimsHost"/>: the user's token names it a host of the room (its <c>hosts</c> claim).
/// <paramref name="DevMode"/>: the node takes no tokens, so the user who creates a room becomes its host.
/// <paramref name="Stage"/>: the <c>stage</c> of the client's join, for a join that creates the room.
public sealed record JoinRoom(string Room, long Request, string User, IActorRef Hub, IActorRef Relay, uint Member, long? Since, long LastSeq,
    bool ClaimsHost = false, bool DevMode = false, StageRequest? Stage = null)
    : IRoomMessage, IWireMessage;

/// <summary>
/// One node's members of a room, joining it again after the room moved or restarted: one message per node,
/// not per member. <paramref name="Peers"/> are the other members the node knew, so a rebuilt room can
/// announce <c>member-left</c> for those that do not come back (their node crashed with the room). Each member
/// carries the role and seat the node last saw (<paramref name="SeatsVersion"/> the version of that seat row), so a
/// rebuilt stage gives speakers their seats back.
/// </summary>
public sealed record RejoinRoom(string Room, IActorRef Hub, IActorRef Relay, MemberInfo[] Members, long LastSeq, MemberInfo[] Peers, long SeatsVersion = 0)
    : IRoomMessage, IWireMessage;

/// <summary>The room accepted a join. <paramref name="Replay"/> holds the <c>said</c> messages after <c>since</c>, already encoded.</summary>
/// <paramref name="View"/> is what <c>joined</c> adds in v1.2, <paramref name="Voice"/> who may be heard in the room.
public sealed record RoomJoined(string Room, long Request, uint Member, long Seq, MemberInfo[] Members, byte[][] Replay, bool? Recovered,
    RoomView View, RoomVoice Voice) : IWireMessage;

/// <summary>
/// The room took a node's rejoin. <paramref name="Renamed"/> pairs an old member id with the new one the room
/// had to give (only when a member that joined the rebuilt room meanwhile drew the same random id).
/// </summary>
public sealed record RoomRejoined(string Room, long Seq, MemberInfo[] Members, (uint Old, uint New)[] Renamed) : IWireMessage;

/// <summary>The room refused a join (<c>room-full</c>).</summary>
public sealed record JoinRefused(string Room, long Request, string Code, string Reason) : IWireMessage;

/// <summary>A member leaves; the others get <c>member-left</c> with <paramref name="Reason"/> (<c>left</c>, or <c>closed</c> when its connection closed).</summary>
public sealed record LeaveRoom(string Room, uint Member, string Reason = "left") : IRoomMessage, IWireMessage;

/// <summary>Chat text from a member; the room numbers it and sends <c>said</c> to every node with members.</summary>
public sealed record Say(string Room, uint Member, string Text, string? Ref) : IRoomMessage, IWireMessage;

/// <summary>
/// One voice frame from a speaker's node to its room (broadcast and via-room routing only; with interest
/// routing the speaker's node sends frames to the other nodes itself). The payload is never written again.
/// <paramref name="ReceivedAt"/> is when the speaker's node read it (UTC ticks), for the relay latency metric.
/// </summary>
public sealed record VoiceIn(string Room, uint Speaker, byte[] Payload, long ReceivedAt = 0) : IRoomMessage, IWireMessage;

/// <summary>One voice frame for one node's relay, which fans it out to that node's members of the room.</summary>
public sealed record VoiceOut(string Room, uint Speaker, byte[] Payload, long ReceivedAt = 0) : IWireMessage;

/// <summary>Several frames for one node's relay, sent as one message between nodes (see <c>RelayOutbox</c>).</summary>
public sealed record VoiceBatch(VoiceOut[] Frames) : IWireMessage;

/// <summary>
/// An encoded <c>said</c> for one node's members of the room. The speaker's node also gets
/// <paramref name="SpeakerJson"/>, the same message with the speaker's <c>ref</c>, for the speaker alone.
/// </summary>
public sealed record RoomText(string Room, long Seq, byte[] Json, uint Speaker, byte[]? SpeakerJson) : IWireMessage;

/// <summary>
/// Members that joined or left a room (with the <c>member-left</c> <paramref name="Reason"/>), or whose role or seat
/// changed (<paramref name="Changed"/>), for one node; its hub tells each local member what it did not know. In a stage
/// room only hosts and speakers are announced: a listener is "joined" when it takes a seat and "left" (<c>left-seat</c>) when it leaves it.
/// </summary>
public sealed record RosterChanged(string Room, MemberInfo[] Joined, MemberInfo[] Left, string Reason = "left", MemberInfo[]? Changed = null) : IWireMessage;

/// <summary>
/// Who may be heard in a room, for every node with members: the speaker's node checks each frame against it before
/// sending it anywhere. <paramref name="Seats"/> holds each seat's occupant (0: empty) of a stage room, whose members
/// on no seat are not relayed; <paramref name="Muted"/> the memberships of muted users, in any room.
/// </summary>
public sealed record RoomVoice(string Room, bool Stage, uint[] Seats, long SeatsVersion, uint[] Muted) : IWireMessage
{
    public static RoomVoice Open(string room) => new(room, false, [], 0, []);
}

/// <summary>A section-8 request of a member (<paramref name="Member"/>), forwarded by its node's hub to the room.</summary>
public sealed record ControlRequest(string Room, uint Member, ControlCommand Command) : IRoomMessage, IWireMessage;

/// <summary>
/// Text from the room for some of one node's members: <paramref name="To"/> (every local member of the room when
/// empty). The requester (<paramref name="Requester"/>, 0 for none) gets <paramref name="RequesterJson"/> instead,
/// as the answer to its request, when given. With <paramref name="End"/> the memberships reached end here (kicked,
/// room closed): the room has already let them go.
/// </summary>
public sealed record NodeText(string Room, byte[] Json, uint[] To, uint Requester = 0, byte[]? RequesterJson = null, bool End = false) : IWireMessage;

/// <summary>
/// What a node needs to send its speakers' frames itself: the room's actor and the relays of the
/// <em>other</em> nodes with members of the room (empty when the node's members are the only ones). The room
/// sends it to each node with members whenever that set of nodes changes.
/// </summary>
public sealed record RoomRoute(string Room, IActorRef[] Relays) : IWireMessage;

/// <summary>
/// What sharding tells a room whose shard hands off, instead of a PoisonPill: the room tells each node with
/// members that it is moving (<see cref="RoomMoving"/>) and stops once each has answered
/// (<see cref="RoomMovingSeen"/>), so a say or control request a hub sent before it knew is still answered here.
/// Local to the room's node.
/// </summary>
public sealed class HandOffRoom
{
    public static readonly HandOffRoom Instance = new();

    private HandOffRoom()
    {
    }
}

/// <summary>A room about to stop on a handoff tells the hubs of its members: send the room nothing more directly, rejoin it through sharding.</summary>
public sealed record RoomMoving(string Room) : IWireMessage;

/// <summary>A hub's answer to <see cref="RoomMoving"/>; whatever it sent the room before arrives before it.</summary>
public sealed record RoomMovingSeen(string Room) : IWireMessage;

/// <summary>A room that has just started asks every node's hub whether it has members of it (see <see cref="RoomActor"/>).</summary>
public sealed record ProbeRoom(string Room) : IWireMessage;

/// <summary>A hub's answer to <see cref="ProbeRoom"/>: it has no members of the room (a hub that has answers with <see cref="RejoinRoom"/>).</summary>
public sealed record NoMembers(string Room) : IWireMessage;

/// <summary>Asks a room who is in it (the admin API).</summary>
public sealed record GetRoomInfo(string Room) : IRoomMessage, IWireMessage;

/// <summary>One member as the admin API shows it.</summary>
public sealed record RoomMemberInfo(uint Member, string User, string Node);

/// <summary>The answer to <see cref="GetRoomInfo"/>: where the room lives and its members.</summary>
public sealed record RoomInfo(string Room, string Home, long Seq, RoomMemberInfo[] Members) : IWireMessage;
