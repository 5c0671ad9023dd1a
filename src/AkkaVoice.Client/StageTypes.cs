using System.Text.Json;

namespace AkkaVoice.Client;

/// <summary>A member's role in a room (PROTOCOL.md section 8).</summary>
public enum Role { Member, Host, Speaker, Listener }

/// <summary>How a stage's listeners get on a seat: by a host's invitation (<c>request</c>) or by themselves (<c>free</c>).</summary>
public enum SeatMode { Request, Free }

/// <summary>What <c>join</c> asks for to create a stage room: <paramref name="Seats"/> (1-32) mic seats.</summary>
public sealed record StageOptions(int Seats = 8, SeatMode Mode = SeatMode.Request);

/// <summary>One mic seat; <paramref name="Member"/> and <paramref name="User"/> are null when it is free.</summary>
public sealed record Seat(int Number, string? User, uint? Member, bool Locked, bool Muted);

/// <summary>A member as <c>joined</c>, member events and <c>roster</c> describe it.</summary>
public sealed record RoomMember(uint Member, string User, Role Role, int? Seat);

/// <summary>What a client knows of a joined room: its kind, this membership's role and seat, the seats, the audience and (for hosts) the raised hands.</summary>
public sealed record RoomView(string Room, uint Member, string Kind, Role Role, SeatMode? Mode, IReadOnlyList<Seat> Seats,
    long SeatsVersion, int? Seat, int Audience, IReadOnlyList<RoomMember> Hands, bool Muted);

/// <summary>A page of <c>roster</c>; <paramref name="Next"/> is the <c>after</c> of the next page, null after the last.</summary>
public sealed record RosterPage(string Room, IReadOnlyList<RoomMember> Members, uint? Next);

/// <summary>Why the client stopped for good: the server's close code (4001: the server API disconnected the user) and reason.</summary>
public sealed record Closed(int? Code, string Reason);

/// <summary>An <c>error</c> answer to a request: <see cref="Code"/> is the protocol's error code (<c>forbidden</c>, <c>seat-taken</c>, ...).</summary>
public sealed class VoiceErrorException(string code, string message) : Exception($"{code}: {message}")
{
    public string Code { get; } = code;
}

/// <summary>The stage messages of PROTOCOL.md section 8, as typed events of a <see cref="HealingVoiceClient"/>.</summary>
public abstract record StageEvent(string Room)
{
    /// <summary>A newer seat list (older versions never reach the application).</summary>
    public sealed record SeatsChanged(string Room, long Version, IReadOnlyList<Seat> Seats) : StageEvent(Room);
    public sealed record Hand(string Room, uint Member, string User, bool Raised) : StageEvent(Room);
    public sealed record Invited(string Room, int? Seat, string By) : StageEvent(Room);
    public sealed record Muted(string Room, bool IsMuted, string By) : StageEvent(Room);
    /// <summary>Out of the room for good; it is not rejoined.</summary>
    public sealed record Kicked(string Room, string By, string? Reason) : StageEvent(Room);
    /// <summary>The room was closed (<c>closed</c> by a host, <c>deleted</c> by the API); it is not rejoined.</summary>
    public sealed record RoomClosed(string Room, string Reason) : StageEvent(Room);
    public sealed record RoleChanged(string Room, uint Member, string User, Role Role) : StageEvent(Room);
    public sealed record Audience(string Room, int Count) : StageEvent(Room);
    public sealed record MemberJoined(string Room, RoomMember Member) : StageEvent(Room);
    /// <summary><paramref name="Reason"/>: <c>left</c>, <c>closed</c>, <c>kicked</c>, <c>node-lost</c>, <c>room-closed</c> or <c>left-seat</c>.</summary>
    public sealed record MemberLeft(string Room, uint Member, string User, string Reason) : StageEvent(Room);
}

/// <summary>Reading and writing the section 8 fields.</summary>
public static class StageJson
{
    public static Role ParseRole(string? role) => role switch
    {
        "host" => Role.Host,
        "speaker" => Role.Speaker,
        "listener" => Role.Listener,
        _ => Role.Member,
    };

    public static string Name(this SeatMode mode) => mode == SeatMode.Free ? "free" : "request";

    public static SeatMode? ParseMode(string? mode) => mode switch { "free" => SeatMode.Free, "request" => SeatMode.Request, _ => null };

    public static IReadOnlyList<Seat> Seats(JsonElement seats) =>
        seats.ValueKind != JsonValueKind.Array ? [] :
        [.. seats.EnumerateArray().Select(s => new Seat(
            s.GetProperty("seat").GetInt32(),
            s.TryGetProperty("user", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null,
            s.TryGetProperty("member", out var m) && m.ValueKind == JsonValueKind.Number ? m.GetUInt32() : null,
            s.TryGetProperty("locked", out var l) && l.ValueKind == JsonValueKind.True,
            s.TryGetProperty("muted", out var mu) && mu.ValueKind == JsonValueKind.True))];

    public static RoomMember Member(JsonElement m) => new(
        m.GetProperty("member").GetUInt32(),
        m.GetProperty("user").GetString() ?? "",
        ParseRole(m.TryGetProperty("role", out var r) ? r.GetString() : null),
        m.TryGetProperty("seat", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt32() : null);

    public static IReadOnlyList<RoomMember> Members(JsonElement json, string name) =>
        json.TryGetProperty(name, out var list) && list.ValueKind == JsonValueKind.Array ? [.. list.EnumerateArray().Select(Member)] : [];
}
