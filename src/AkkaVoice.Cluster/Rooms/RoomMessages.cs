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
/// A connection asks to be a member of a room. <paramref name="Member"/> is 0 for a new membership, or the
/// member id the connection already holds (a repeated join, or a rejoin after the room moved or restarted).
/// <paramref name="Request"/> is echoed in the answer; 0 marks a rejoin the client did not ask for, which
/// the room takes silently (no <c>member-joined</c>). <paramref name="LastSeq"/> is the last <c>said</c> seq
/// the connection saw, so a restarted room continues the sequence instead of starting again at 1.
/// <paramref name="Peers"/> (rejoins only) are the other members the connection knew: a restarted room
/// announces <c>member-left</c> for those that do not come back, such as the members of a crashed node.
/// </summary>
public sealed record JoinRoom(string Room, long Request, string User, IActorRef Connection, IActorRef Relay, uint Member, long? Since, long LastSeq, MemberInfo[] Peers) : IRoomMessage, IWireMessage
{
    public bool Rejoin => Request == 0;
}

/// <summary>The room accepted a join. <paramref name="Replay"/> holds the <c>said</c> messages after <c>since</c>, already encoded.</summary>
public sealed record RoomJoined(string Room, long Request, uint Member, long Seq, MemberInfo[] Members, byte[][] Replay, bool? Recovered) : IWireMessage;

/// <summary>The room refused a join (<c>room-full</c>).</summary>
public sealed record JoinRefused(string Room, long Request, string Code, string Reason) : IWireMessage;

/// <summary>A member leaves; the others get <c>member-left</c>.</summary>
public sealed record LeaveRoom(string Room, uint Member) : IRoomMessage, IWireMessage;

/// <summary>Chat text from a member; the room numbers it and sends <c>said</c> to every member.</summary>
public sealed record Say(string Room, uint Member, string Text, string? Ref) : IRoomMessage, IWireMessage;

/// <summary>
/// One voice frame from a speaker to its room. The payload array is never written again.
/// <paramref name="ReceivedAt"/> is when the speaker's node read it (UTC ticks), for the relay latency metric.
/// </summary>
public sealed record VoiceIn(string Room, uint Speaker, byte[] Payload, long ReceivedAt = 0) : IRoomMessage, IWireMessage;

/// <summary>One voice frame from a room to one node's relay, which fans it out to that node's members.</summary>
public sealed record VoiceOut(string Room, uint Speaker, byte[] Payload, long ReceivedAt = 0) : IWireMessage;

/// <summary>Several frames for one node's relay, sent as one message between nodes (see <c>RelayOutbox</c>).</summary>
public sealed record VoiceBatch(VoiceOut[] Frames) : IWireMessage;

/// <summary>An encoded <c>said</c> from a room to one member's connection.</summary>
public sealed record RoomText(string Room, long Seq, byte[] Json) : IWireMessage;

/// <summary>An encoded <c>member-joined</c> or <c>member-left</c>, with the change itself so the connection can keep the roster.</summary>
public sealed record RosterChanged(string Room, uint Member, string User, bool Joined, byte[] Json) : IWireMessage;

/// <summary>Asks a room who is in it (the admin API).</summary>
public sealed record GetRoomInfo(string Room) : IRoomMessage, IWireMessage;

/// <summary>One member as the admin API shows it.</summary>
public sealed record RoomMemberInfo(uint Member, string User, string Node);

/// <summary>The answer to <see cref="GetRoomInfo"/>: where the room lives and its members.</summary>
public sealed record RoomInfo(string Room, string Home, long Seq, RoomMemberInfo[] Members) : IWireMessage;
