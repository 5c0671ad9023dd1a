using AkkaVoice.Cluster.Serialization;
using AkkaVoice.Protocol;

namespace AkkaVoice.Cluster.Rooms;

// For the server API (PROTOCOL section 9): send each request below to the room shard region
// (IRequiredActor<RoomActor>) with Ask; the room answers the sender with the record named on each. Every request
// is routed by its Room like a client's join, from any node, to the room's home. A room that has neither members
// nor a configuration answers RoomNotFound (and does not stay started). Refusals carry section 9's codes
// (ErrorCodes.Conflict, OutOfRange, BadField, NotFound) for the HTTP status. `By` is "system" for the API.
// The configured rooms of the whole cluster, for GET /api/v1/rooms, come from RoomConfigReader (one
// replicated map per shard id), the live figures of each from GetRoomState.

/// <summary>Asks a room for its state: answered with <see cref="RoomState"/> or <see cref="RoomNotFound"/>.</summary>
public sealed record GetRoomState(string Room) : IRoomMessage, IWireMessage;


/// <summary>
/// A room as the server API shows it. <paramref name="Members"/> counts every membership, <paramref name="Audience"/>
/// the listeners of a stage room, <paramref name="Speakers"/> the members on a seat; <paramref name="Home"/> is the
/// Akka address of the node the room lives on. An open room has no seats (empty, version 0).
/// </summary>
public sealed record RoomState(
    string Room, string Kind, string SeatMode, SeatInfo[] Seats, long SeatsVersion, string[] Hosts, int MaxMembers,
    int Members, int Audience, int Speakers, string Home) : IWireMessage;

/// <summary>The room has neither members nor a configuration (or, for a seat, the user named is not in it).</summary>
public sealed record RoomNotFound(string Room, string Message) : IWireMessage;

/// <summary>A request refused with one of section 9's codes; nothing changed.</summary>
public sealed record RoomRefused(string Room, string Code, string Message) : IWireMessage;

/// <summary>
/// Creates or changes a room's configuration (PUT): each field given replaces that setting. Answered with
/// <see cref="RoomState"/> once the configuration is replicated to a majority, or <see cref="RoomRefused"/>
/// (<c>conflict</c>: kind changed while the room has members, or seats at or below a taken seat's number;
/// <c>out-of-range</c>: seats or seat mode on an open room, maxMembers outside 1-200 / 1-10,000, seats outside 1-32;
/// <c>bad-field</c>: an unknown kind or seat mode, an invalid host id).
/// </summary>
public sealed record ConfigureRoom(string Room, string? Kind, int? Seats, string? SeatMode, string[]? Hosts, int? MaxMembers)
    : IRoomMessage, IWireMessage;

/// <summary>Closes the room as a host's <c>close</c> with reason <c>deleted</c>; its configuration and history end. Answered with <see cref="RoomDeleted"/>.</summary>
public sealed record DeleteRoom(string Room) : IRoomMessage, IWireMessage;

/// <summary><paramref name="Existed"/> is false when the room had neither members nor configuration (404).</summary>
public sealed record RoomDeleted(string Room, bool Existed) : IWireMessage;

/// <summary>A page of members in member-id order after <paramref name="After"/> (0: from the start); answered with <see cref="MemberPage"/> or <see cref="RoomNotFound"/>.</summary>
public sealed record ListMembers(string Room, uint After, int Limit) : IRoomMessage, IWireMessage;

/// <summary>One membership as the server API lists it.</summary>
public sealed record MemberEntry(uint Member, string User, string Role, int? Seat, bool Muted, string Node);

/// <summary><paramref name="Next"/> is the <c>after</c> of the next page, null on the last.</summary>
public sealed record MemberPage(string Room, MemberEntry[] Members, uint? Next) : IWireMessage;

/// <summary>
/// Ends every membership of <paramref name="User"/> in the room (a kick by <paramref name="By"/>; a system kick may
/// kick hosts), banning the user for <paramref name="Ban"/> seconds (1-86,400) when given. Answered with <see cref="UsersAffected"/>.
/// </summary>
public sealed record KickUser(string Room, string User, int? Ban, string? Reason, string By) : IRoomMessage, IWireMessage;

/// <summary>Mutes or unmutes <paramref name="User"/> in the room (every membership, rejoins included). Answered with <see cref="UsersAffected"/>.</summary>
public sealed record MuteUser(string Room, string User, bool Muted, string By) : IRoomMessage, IWireMessage;

/// <summary>How many memberships a kick ended or a mute reached.</summary>
public sealed record UsersAffected(string Room, int Count) : IWireMessage;

/// <summary>
/// A host's <c>set-seat</c> naming a user: puts <paramref name="User"/> (one of its memberships) on the seat, or
/// with <paramref name="Clear"/> empties the seat; <paramref name="Locked"/> locks or unlocks it. Answered with
/// <see cref="RoomState"/>, <see cref="RoomNotFound"/> (the user is not in the room) or <see cref="RoomRefused"/>
/// (<c>out-of-range</c>: no such seat, or an open room).
/// </summary>
public sealed record SetSeat(string Room, int Seat, string? User, bool Clear, bool? Locked, string By) : IRoomMessage, IWireMessage;

/// <summary>
/// A <c>said</c> from <c>system</c> (member 0) to every member; not counted toward the room's say limit. A repeated
/// <paramref name="Id"/> within 10 minutes is not said again and answers the first seq. Answered with <see cref="SaidSeq"/>.
/// </summary>
public sealed record SystemSay(string Room, string Text, string? Id) : IRoomMessage, IWireMessage;

/// <summary>The seq of a <see cref="SystemSay"/>.</summary>
public sealed record SaidSeq(string Room, long Seq) : IWireMessage;
