using System.Text.Json;

namespace AkkaVoice.Protocol;

/// <summary>A parsed client text message (PROTOCOL.md section 2).</summary>
public abstract record ClientCommand(string? Ref);

/// <summary>A client message about one room: the hub answers it only for a room the connection has joined.</summary>
public interface IRoomCommand
{
    string Room { get; }
}

/// <summary>
/// <c>join</c>: <paramref name="Since"/> asks for a replay of <c>said</c> messages after that seq; <paramref name="Stage"/>
/// asks for a stage room when the join creates the room (section 8).
/// </summary>
public sealed record JoinCommand(string Room, long? Since, string? Ref, StageRequest? Stage = null) : ClientCommand(Ref), IRoomCommand;

/// <summary>The <c>stage</c> of a <c>join</c>: seats 1-32 and a seat mode (<see cref="SeatModes"/>).</summary>
public sealed record StageRequest(int Seats, string SeatMode);

/// <summary><c>leave</c>.</summary>
public sealed record LeaveCommand(string Room, string? Ref) : ClientCommand(Ref), IRoomCommand;

/// <summary><c>say</c>: chat text to every member of a room.</summary>
public sealed record SayCommand(string Room, string Text, string? Ref) : ClientCommand(Ref), IRoomCommand;

/// <summary>A request of section 8 (seats, hands, moderation, roster), decided by the room itself.</summary>
public abstract record ControlCommand(string Room, string? Ref) : ClientCommand(Ref), IRoomCommand;

/// <summary><c>take-seat</c>: that seat, or the lowest free unlocked one when <paramref name="Seat"/> is null.</summary>
public sealed record TakeSeatCommand(string Room, int? Seat, string? Ref) : ControlCommand(Room, Ref);

/// <summary><c>leave-seat</c>.</summary>
public sealed record LeaveSeatCommand(string Room, string? Ref) : ControlCommand(Room, Ref);

/// <summary><c>raise-hand</c> (<paramref name="Raised"/>) or <c>lower-hand</c>.</summary>
public sealed record HandCommand(string Room, bool Raised, string? Ref) : ControlCommand(Room, Ref);

/// <summary><c>invite</c>: a host invites a member onto a seat (any free one when <paramref name="Seat"/> is null).</summary>
public sealed record InviteCommand(string Room, uint Member, int? Seat, string? Ref) : ControlCommand(Room, Ref);

/// <summary>
/// <c>set-seat</c>: puts <paramref name="Member"/> on the seat, or empties it when <paramref name="Clear"/> (<c>member: null</c>);
/// neither when the message has no <c>member</c>. <paramref name="Locked"/> locks or unlocks it.
/// </summary>
public sealed record SetSeatCommand(string Room, int Seat, uint? Member, bool Clear, bool? Locked, string? Ref) : ControlCommand(Room, Ref);

/// <summary><c>mute</c>: a host mutes or unmutes a member's user in the room.</summary>
public sealed record MuteCommand(string Room, uint Member, bool Muted, string? Ref) : ControlCommand(Room, Ref);

/// <summary><c>kick</c>: ends every membership of a user, with a ban of <paramref name="Ban"/> seconds (1-86,400) when given.</summary>
public sealed record KickCommand(string Room, string User, int? Ban, string? Reason, string? Ref) : ControlCommand(Room, Ref);

/// <summary><c>close</c>.</summary>
public sealed record CloseCommand(string Room, string? Ref) : ControlCommand(Room, Ref);

/// <summary><c>roster</c>: a page of members after member id <paramref name="After"/> (0: from the start).</summary>
public sealed record RosterCommand(string Room, uint After, int Limit, string? Ref) : ControlCommand(Room, Ref);

/// <summary>The seat modes of a stage room.</summary>
public static class SeatModes
{
    public const string Request = "request";
    public const string Free = "free";

    public static bool IsValid(string? mode) => mode is Request or Free;
}

/// <summary>The room kinds.</summary>
public static class RoomKinds
{
    public const string Open = "open";
    public const string Stage = "stage";

    public static bool IsValid(string? kind) => kind is Open or Stage;
}

/// <summary><c>direct</c>: text to every connection of one user.</summary>
public sealed record DirectCommand(string To, string Text, string? Ref) : ClientCommand(Ref);

/// <summary><c>ping</c>.</summary>
public sealed record PingCommand(string? Ref) : ClientCommand(Ref);

/// <summary>Why a text message was refused: an error code of the contract, a reason, and the ref when one could be read.</summary>
public sealed record ParseError(string Code, string Message, string? Ref);

/// <summary>
/// Parses client text messages. Each field is checked for its type and its limits here, so the actors
/// downstream only ever see well-formed commands.
/// </summary>
public static class ClientMessages
{
    /// <summary>Longest <c>text</c> of <c>say</c> and <c>direct</c>, in UTF-16 code units.</summary>
    public const int MaxTextLength = 4096;

    /// <summary>Longest <c>ref</c>, in UTF-16 code units.</summary>
    public const int MaxRefLength = 64;

    /// <summary>Longest <c>reason</c> of a <c>kick</c>, in UTF-16 code units.</summary>
    public const int MaxReasonLength = 256;

    /// <summary>Seats of a stage room, at most; seat numbers run from 0 to one less.</summary>
    public const int MaxSeats = 32;

    /// <summary>Longest ban of a <c>kick</c>, in seconds (a day).</summary>
    public const int MaxBanSeconds = 86_400;

    /// <summary>Largest <c>limit</c> of a <c>roster</c>; the default is <see cref="DefaultRosterLimit"/>.</summary>
    public const int MaxRosterLimit = 200;

    public const int DefaultRosterLimit = 100;

    private static readonly HashSet<string> KnownTypes =
    [
        "join", "leave", "say", "direct", "ping",
        "take-seat", "leave-seat", "raise-hand", "lower-hand", "invite", "set-seat", "mute", "kick", "close", "roster",
    ];

    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 16 };

    /// <summary>Parses one UTF-8 JSON message (already checked to be valid UTF-8).</summary>
    public static ClientCommand Parse(ReadOnlySpan<byte> utf8, out ParseError? error)
    {
        error = null;
        string? type = null, room = null, text = null, to = null, reference = null, user = null, reason = null;
        long? since = null, seat = null, member = null, ban = null, after = null, limit = null;
        bool? locked = null, muted = null;
        bool memberNull = false;
        StageRequest? stage = null;
        string? badField = null;
        bool typeSeen = false;

        try
        {
            var reader = new Utf8JsonReader(utf8, ReaderOptions);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = new ParseError(ErrorCodes.BadJson, "a message must be one JSON object", null);
                return null!;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.ValueSpan;
                bool escaped = reader.ValueIsEscaped;
                string? key = escaped ? reader.GetString() : null;
                reader.Read();
                if (Is(name, key, "type"u8, "type")) { typeSeen = true; Keep(ref badField, ReadString(ref reader, "type", int.MaxValue, out type)); }
                else if (Is(name, key, "ref"u8, "ref")) { Keep(ref badField, ReadString(ref reader, "ref", MaxRefLength, out reference)); }
                else if (Is(name, key, "room"u8, "room")) { Keep(ref badField, ReadString(ref reader, "room", int.MaxValue, out room)); }
                else if (Is(name, key, "text"u8, "text")) { Keep(ref badField, ReadString(ref reader, "text", MaxTextLength, out text)); }
                else if (Is(name, key, "to"u8, "to")) { Keep(ref badField, ReadString(ref reader, "to", int.MaxValue, out to)); }
                else if (Is(name, key, "since"u8, "since")) Keep(ref badField, ReadCount(ref reader, "since", long.MaxValue, out since));
                else if (Is(name, key, "seat"u8, "seat")) Keep(ref badField, ReadCount(ref reader, "seat", MaxSeats - 1, out seat));
                else if (Is(name, key, "member"u8, "member"))
                {
                    if (reader.TokenType == JsonTokenType.Null) memberNull = true;
                    else Keep(ref badField, ReadCount(ref reader, "member", uint.MaxValue, out member));
                }
                else if (Is(name, key, "after"u8, "after")) Keep(ref badField, ReadCount(ref reader, "after", uint.MaxValue, out after));
                else if (Is(name, key, "limit"u8, "limit"))
                {
                    Keep(ref badField, ReadCount(ref reader, "limit", MaxRosterLimit, out limit));
                    if (limit == 0) Keep(ref badField, $"limit must be 1-{MaxRosterLimit}");
                }
                else if (Is(name, key, "ban"u8, "ban"))
                {
                    Keep(ref badField, ReadCount(ref reader, "ban", MaxBanSeconds, out ban));
                    if (ban == 0) Keep(ref badField, $"ban must be 1-{MaxBanSeconds} seconds");
                }
                else if (Is(name, key, "locked"u8, "locked")) Keep(ref badField, ReadBool(ref reader, "locked", out locked));
                else if (Is(name, key, "muted"u8, "muted")) Keep(ref badField, ReadBool(ref reader, "muted", out muted));
                else if (Is(name, key, "user"u8, "user")) Keep(ref badField, ReadString(ref reader, "user", int.MaxValue, out user));
                else if (Is(name, key, "reason"u8, "reason")) Keep(ref badField, ReadString(ref reader, "reason", MaxReasonLength, out reason));
                else if (Is(name, key, "stage"u8, "stage")) Keep(ref badField, ReadStage(ref reader, out stage));
                else reader.Skip();
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                error = new ParseError(ErrorCodes.BadJson, "a message must be exactly one JSON object", null);
                return null!;
            }
        }
        catch (JsonException)
        {
            error = new ParseError(ErrorCodes.BadJson, "the message is not valid JSON", null);
            return null!;
        }
        catch (InvalidOperationException)
        {
            // Utf8JsonReader throws this for strings it cannot transcode (escaped lone surrogates); values are
            // handled in ReadString, so this is left for property names.
            error = new ParseError(ErrorCodes.BadField, "a string holds a lone surrogate", null);
            return null!;
        }

        if (!typeSeen) badField ??= "type is missing";
        if (type is not null && !KnownTypes.Contains(type))
        {
            error = new ParseError(ErrorCodes.UnknownType, "unknown message type", reference);
            return null!;
        }
        if (badField is not null)
        {
            error = new ParseError(ErrorCodes.BadField, badField, reference);
            return null!;
        }

        switch (type)
        {
            case "leave":
                if (!ValidId(room, "room", ref badField)) break;
                return new LeaveCommand(room!, reference);
            case "say":
                if (!ValidId(room, "room", ref badField)) break;
                if (text is null) { badField = "text is missing"; break; }
                return new SayCommand(room!, text, reference);
            case "direct":
                if (!ValidId(to, "to", ref badField)) break;
                if (text is null) { badField = "text is missing"; break; }
                return new DirectCommand(to!, text, reference);
            case "ping":
                return new PingCommand(reference);
        }
        if (type is not null && badField is null && ValidId(room, "room", ref badField))
        {
            switch (type)
            {
                case "join":
                    return new JoinCommand(room!, since, reference, stage);
                case "take-seat":
                    return new TakeSeatCommand(room!, (int?)seat, reference);
                case "leave-seat":
                    return new LeaveSeatCommand(room!, reference);
                case "raise-hand":
                case "lower-hand":
                    return new HandCommand(room!, type == "raise-hand", reference);
                case "invite":
                    if (member is null) { badField = "member is missing"; break; }
                    return new InviteCommand(room!, (uint)member, (int?)seat, reference);
                case "set-seat":
                    if (seat is null) { badField = "seat is missing"; break; }
                    return new SetSeatCommand(room!, (int)seat, (uint?)member, memberNull, locked, reference);
                case "mute":
                    if (member is null) { badField = "member is missing"; break; }
                    if (muted is null) { badField = "muted is missing"; break; }
                    return new MuteCommand(room!, (uint)member, muted.Value, reference);
                case "kick":
                    if (!ValidId(user, "user", ref badField)) break;
                    return new KickCommand(room!, user!, (int?)ban, reason, reference);
                case "close":
                    return new CloseCommand(room!, reference);
                case "roster":
                    return new RosterCommand(room!, (uint)(after ?? 0), (int)(limit ?? DefaultRosterLimit), reference);
            }
        }

        error = new ParseError(ErrorCodes.BadField, badField!, reference);
        return null!;
    }

    private static void Keep(ref string? first, string? problem) => first ??= problem;

    /// <summary>A non-negative integer no larger than <paramref name="max"/>.</summary>
    private static string? ReadCount(ref Utf8JsonReader reader, string field, long max, out long? value)
    {
        value = null;
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var n) && n >= 0 && n <= max)
        {
            value = n;
            return null;
        }
        reader.Skip();
        return max == long.MaxValue ? $"{field} must be a non-negative integer" : $"{field} must be an integer from 0 to {max}";
    }

    private static string? ReadBool(ref Utf8JsonReader reader, string field, out bool? value)
    {
        value = reader.TokenType switch { JsonTokenType.True => true, JsonTokenType.False => false, _ => null };
        if (value is not null) return null;
        reader.Skip();
        return $"{field} must be true or false";
    }

    /// <summary><c>stage</c>: <c>{"seats": 1-32, "seatMode": "request"|"free"}</c>, both optional (8 seats, request mode).</summary>
    private static string? ReadStage(ref Utf8JsonReader reader, out StageRequest? stage)
    {
        stage = null;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return "stage must be an object";
        }
        long seats = 8;
        string mode = SeatModes.Request;
        string? problem = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            reader.Read();
            if (name == "seats")
            {
                if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var n) && n >= 1 && n <= MaxSeats) seats = n;
                else { reader.Skip(); problem ??= $"stage.seats must be an integer from 1 to {MaxSeats}"; }
            }
            else if (name == "seatMode")
            {
                if (reader.TokenType == JsonTokenType.String && SeatModes.IsValid(reader.GetString())) mode = reader.GetString()!;
                else { reader.Skip(); problem ??= "stage.seatMode must be \"request\" or \"free\""; }
            }
            else reader.Skip();
        }
        if (problem is null) stage = new StageRequest((int)seats, mode);
        return problem;
    }

    private static bool Is(ReadOnlySpan<byte> raw, string? unescaped, ReadOnlySpan<byte> utf8Name, string name) =>
        unescaped is null ? raw.SequenceEqual(utf8Name) : unescaped == name;

    private static string? ReadString(ref Utf8JsonReader reader, string field, int maxLength, out string? value)
    {
        value = null;
        if (reader.TokenType != JsonTokenType.String)
        {
            reader.Skip();
            return $"{field} must be a string";
        }
        string s;
        try
        {
            s = reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            // An escaped lone surrogate cannot be transcoded. Report it as this field's problem and keep
            // reading, so that a valid ref elsewhere in the message is still echoed.
            return $"{field} holds a lone surrogate";
        }
        if (s.Length > maxLength) return $"{field} is longer than {maxLength} characters";
        if (HasLoneSurrogate(s)) return $"{field} holds a lone surrogate";
        // Only a valid value is kept: an over-long ref must not be echoed back.
        value = s;
        return null;
    }

    private static bool ValidId(string? id, string field, ref string? badField)
    {
        if (id is null) { badField = $"{field} is missing"; return false; }
        if (!Ids.IsValid(id)) { badField = $"{field} must be 1-{Ids.MaxLength} characters of A-Z a-z 0-9 _ . - :"; return false; }
        return true;
    }

    private static bool HasLoneSurrogate(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 >= s.Length || !char.IsLowSurrogate(s[i + 1])) return true;
                i++;
            }
            else if (char.IsLowSurrogate(c)) return true;
        }
        return false;
    }
}

/// <summary>The error codes of PROTOCOL.md section 2.</summary>
public static class ErrorCodes
{
    public const string BadJson = "bad-json";
    public const string UnknownType = "unknown-type";
    public const string BadField = "bad-field";
    public const string NotJoined = "not-joined";
    public const string RoomLimit = "room-limit";
    public const string RoomFull = "room-full";
    public const string Forbidden = "forbidden";
    public const string UserOffline = "user-offline";
    public const string RateLimited = "rate-limited";

    // v1.2, section 8.
    public const string Banned = "banned";
    public const string SeatTaken = "seat-taken";
    public const string SeatLocked = "seat-locked";
    public const string NoFreeSeat = "no-free-seat";

    // v1.2, the server API's answers (section 9).
    public const string NotFound = "not-found";
    public const string Conflict = "conflict";
    public const string OutOfRange = "out-of-range";
}
