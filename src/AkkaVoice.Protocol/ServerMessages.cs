using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace AkkaVoice.Protocol;

/// <summary>One member of a room as the contract shows it.</summary>
public readonly record struct MemberInfo(uint Member, string User);

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

    public static byte[] Joined(string room, int slot, uint member, long seq, IReadOnlyList<MemberInfo> members, bool? recovered, string? reference)
    {
        var w = Start("joined");
        w.WriteString("room"u8, room);
        w.WriteNumber("slot"u8, slot);
        w.WriteNumber("member"u8, member);
        w.WriteNumber("seq"u8, seq);
        w.WriteStartArray("members"u8);
        foreach (var m in members)
        {
            w.WriteStartObject();
            w.WriteNumber("member"u8, m.Member);
            w.WriteString("user"u8, m.User);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (recovered is { } r) w.WriteBoolean("recovered"u8, r);
        return Finish(w, reference);
    }

    public static byte[] MemberJoined(string room, uint member, string user) => MemberEvent("member-joined", room, member, user);

    public static byte[] MemberLeft(string room, uint member, string user) => MemberEvent("member-left", room, member, user);

    private static byte[] MemberEvent(string type, string room, uint member, string user)
    {
        var w = Start(type);
        w.WriteString("room"u8, room);
        w.WriteNumber("member"u8, member);
        w.WriteString("user"u8, user);
        return Finish(w, null);
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
