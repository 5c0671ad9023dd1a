using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace AkkaVoice.Protocol;

/// <summary>
/// One member of a room as the contract shows it: its role (<see cref="Roles"/>) and, in a stage room, its seat.
/// </summary>
public readonly record struct MemberInfo(uint Member, string User, string Role = Roles.Member, int? Seat = null);

/// <summary>The roles of section 8.</summary>
public static class Roles
{
    public const string Host = "host";
    public const string Member = "member";
    public const string Speaker = "speaker";
    public const string Listener = "listener";
}

/// <summary>One mic seat: its occupant (user null and member 0 when empty), lock and the occupant's mute.</summary>
public sealed record SeatInfo(int Seat, string? User, uint Member, bool Locked, bool Muted);

/// <summary>
/// What <c>joined</c> adds in v1.2: the room's kind and the joiner's role, and in a stage room the seats, seat
/// mode, audience and, for a host, the raised hands.
/// </summary>
public sealed record RoomView(string Kind, string Role, string SeatMode, SeatInfo[] Seats, long SeatsVersion, int Audience, MemberInfo[]? Hands);

/// <summary>
/// Writes the server's text messages (PROTOCOL.md section 2) as UTF-8 JSON, ready to be sent as
/// they are. A message meant for many receivers is written once and the same bytes go to all.
/// </summary>
public static class ServerMessages
{
    private static readonly JsonWriterOptions Options = new()
    {
        // Keeps chat text readable on the wire; quotes, control characters and the like are still escaped.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    [ThreadStatic] private static ArrayBufferWriter<byte>? buffer;
    [ThreadStatic] private static Utf8JsonWriter? writer;

    private static Utf8JsonWriter Start(string type)
    {
        buffer ??= new ArrayBufferWriter<byte>(512);
        buffer.ResetWrittenCount();
        if (writer is null) writer = new Utf8JsonWriter(buffer, Options);
        else writer.Reset(buffer);
        writer.WriteStartObject();
        writer.WriteString("type"u8, type);
        return writer;
    }

    private static byte[] Finish(Utf8JsonWriter w, string? reference)
    {
        if (reference is not null) w.WriteString("ref"u8, reference);
        w.WriteEndObject();
        w.Flush();
        return buffer!.WrittenSpan.ToArray();
    }

    public static byte[] Welcome(string user, string session, string node)
    {
        var w = Start("welcome");
        w.WriteString("user"u8, user);
        w.WriteString("session"u8, session);
        w.WriteString("node"u8, node);
        return Finish(w, null);
    }

    public static byte[] Joined(string room, int slot, uint member, long seq, IReadOnlyList<MemberInfo> members, bool? recovered, string? reference,
        RoomView? view = null)
    {
        var w = Start("joined");
        w.WriteString("room"u8, room);
        w.WriteNumber("slot"u8, slot);
        w.WriteNumber("member"u8, member);
        w.WriteNumber("seq"u8, seq);
        WriteMembers(w, "members"u8, members);
        if (recovered is { } r) w.WriteBoolean("recovered"u8, r);
        if (view is not null)
        {
            w.WriteString("kind"u8, view.Kind);
            w.WriteString("role"u8, view.Role);
            if (view.Kind == RoomKinds.Stage)
            {
                WriteSeats(w, view.Seats);
                w.WriteNumber("seatsVersion"u8, view.SeatsVersion);
                w.WriteString("seatMode"u8, view.SeatMode);
                w.WriteNumber("audience"u8, view.Audience);
                if (view.Hands is { } hands) WriteMembers(w, "hands"u8, hands);
            }
        }
        return Finish(w, reference);
    }

    private static void WriteMembers(Utf8JsonWriter w, ReadOnlySpan<byte> name, IReadOnlyList<MemberInfo> members)
    {
        w.WriteStartArray(name);
        foreach (var m in members) WriteMember(w, m);
        w.WriteEndArray();
    }

    private static void WriteMember(Utf8JsonWriter w, MemberInfo m)
    {
        w.WriteStartObject();
        w.WriteNumber("member"u8, m.Member);
        w.WriteString("user"u8, m.User);
        w.WriteString("role"u8, m.Role);
        if (m.Seat is { } seat) w.WriteNumber("seat"u8, seat);
        w.WriteEndObject();
    }

    private static void WriteSeats(Utf8JsonWriter w, SeatInfo[] seats)
    {
        w.WriteStartArray("seats"u8);
        foreach (var s in seats)
        {
            w.WriteStartObject();
            w.WriteNumber("seat"u8, s.Seat);
            if (s.User is not null)
            {
                w.WriteString("user"u8, s.User);
                w.WriteNumber("member"u8, s.Member);
            }
            w.WriteBoolean("locked"u8, s.Locked);
            w.WriteBoolean("muted"u8, s.Muted);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    public static byte[] MemberJoined(string room, MemberInfo member) => MemberEvent("member-joined", room, member, null);

    /// <summary><paramref name="reason"/>: <c>left</c>, <c>closed</c>, <c>kicked</c>, <c>node-lost</c>, <c>room-closed</c>, <c>left-seat</c>.</summary>
    public static byte[] MemberLeft(string room, MemberInfo member, string reason) => MemberEvent("member-left", room, member, reason);

    /// <summary><c>role</c>: a member's role changed while it is in the room.</summary>
    public static byte[] Role(string room, MemberInfo member) => MemberEvent("role", room, member, null);

    private static byte[] MemberEvent(string type, string room, MemberInfo member, string? reason)
    {
        var w = Start(type);
        w.WriteString("room"u8, room);
        w.WriteNumber("member"u8, member.Member);
        w.WriteString("user"u8, member.User);
        w.WriteString("role"u8, member.Role);
        if (member.Seat is { } seat) w.WriteNumber("seat"u8, seat);
        if (reason is not null) w.WriteString("reason"u8, reason);
        return Finish(w, null);
    }

    public static byte[] Seats(string room, long version, SeatInfo[] seats, string? reference)
    {
        var w = Start("seats");
        w.WriteString("room"u8, room);
        w.WriteNumber("version"u8, version);
        WriteSeats(w, seats);
        return Finish(w, reference);
    }

    public static byte[] Hand(string room, uint member, string user, bool raised, string? reference)
    {
        var w = Start("hand");
        w.WriteString("room"u8, room);
        w.WriteNumber("member"u8, member);
        w.WriteString("user"u8, user);
        w.WriteBoolean("raised"u8, raised);
        return Finish(w, reference);
    }

    public static byte[] Invited(string room, int? seat, string by)
    {
        var w = Start("invited");
        w.WriteString("room"u8, room);
        if (seat is { } s) w.WriteNumber("seat"u8, s);
        w.WriteString("by"u8, by);
        return Finish(w, null);
    }

    public static byte[] Muted(string room, bool muted, string by)
    {
        var w = Start("muted");
        w.WriteString("room"u8, room);
        w.WriteBoolean("muted"u8, muted);
        w.WriteString("by"u8, by);
        return Finish(w, null);
    }

    public static byte[] Kicked(string room, string by, string? reason)
    {
        var w = Start("kicked");
        w.WriteString("room"u8, room);
        w.WriteString("by"u8, by);
        if (reason is not null) w.WriteString("reason"u8, reason);
        return Finish(w, null);
    }

    /// <summary><paramref name="reason"/>: <c>closed</c> (a host) or <c>deleted</c> (the server API).</summary>
    public static byte[] RoomClosed(string room, string reason, string? reference)
    {
        var w = Start("room-closed");
        w.WriteString("room"u8, room);
        w.WriteString("reason"u8, reason);
        return Finish(w, reference);
    }

    public static byte[] Audience(string room, int count)
    {
        var w = Start("audience");
        w.WriteString("room"u8, room);
        w.WriteNumber("count"u8, count);
        return Finish(w, null);
    }

    public static byte[] Done(string room, string? reference)
    {
        var w = Start("done");
        w.WriteString("room"u8, room);
        return Finish(w, reference);
    }

    public static byte[] Roster(string room, IReadOnlyList<MemberInfo> members, uint? next, string? reference)
    {
        var w = Start("roster");
        w.WriteString("room"u8, room);
        WriteMembers(w, "members"u8, members);
        if (next is { } n) w.WriteNumber("next"u8, n);
        return Finish(w, reference);
    }

    public static byte[] Left(string room, string? reference)
    {
        var w = Start("left");
        w.WriteString("room"u8, room);
        return Finish(w, reference);
    }

    public static byte[] Said(string room, uint member, string user, string text, long seq, string? reference)
    {
        var w = Start("said");
        w.WriteString("room"u8, room);
        w.WriteNumber("member"u8, member);
        w.WriteString("user"u8, user);
        w.WriteString("text"u8, text);
        w.WriteNumber("seq"u8, seq);
        return Finish(w, reference);
    }

    public static byte[] Direct(string from, string text)
    {
        var w = Start("direct");
        w.WriteString("from"u8, from);
        w.WriteString("text"u8, text);
        return Finish(w, null);
    }

    public static byte[] Delivered(string to, string? reference)
    {
        var w = Start("delivered");
        w.WriteString("to"u8, to);
        return Finish(w, reference);
    }

    public static byte[] Pong(string? reference) => Finish(Start("pong"), reference);

    public static byte[] Error(string code, string message, string? reference)
    {
        var w = Start("error");
        w.WriteString("code"u8, code);
        w.WriteString("message"u8, message);
        return Finish(w, reference);
    }
}
