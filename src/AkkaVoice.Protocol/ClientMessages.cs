using System.Text.Json;

namespace AkkaVoice.Protocol;

/// <summary>A parsed client text message (PROTOCOL.md section 2).</summary>
public abstract record ClientCommand(string? Ref);

/// <summary><c>join</c>: <paramref name="Since"/> asks for a replay of <c>said</c> messages after that seq.</summary>
public sealed record JoinCommand(string Room, long? Since, string? Ref) : ClientCommand(Ref);

/// <summary><c>leave</c>.</summary>
public sealed record LeaveCommand(string Room, string? Ref) : ClientCommand(Ref);

/// <summary><c>say</c>: chat text to every member of a room.</summary>
public sealed record SayCommand(string Room, string Text, string? Ref) : ClientCommand(Ref);

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

    private static readonly HashSet<string> KnownTypes = ["join", "leave", "say", "direct", "ping"];

    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 16 };

    /// <summary>Parses one UTF-8 JSON message (already checked to be valid UTF-8).</summary>
    public static ClientCommand Parse(ReadOnlySpan<byte> utf8, out ParseError? error)
    {
        error = null;
        string? type = null, room = null, text = null, to = null, reference = null;
        long? since = null;
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
                else if (Is(name, key, "since"u8, "since"))
                {
                    if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var n) && n >= 0) since = n;
                    else { reader.Skip(); Keep(ref badField, "since must be a non-negative integer"); }
                }
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
            case "join":
                if (!ValidId(room, "room", ref badField)) break;
                return new JoinCommand(room!, since, reference);
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

        error = new ParseError(ErrorCodes.BadField, badField!, reference);
        return null!;
    }

    private static void Keep(ref string? first, string? problem) => first ??= problem;

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
