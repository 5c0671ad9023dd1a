using System.Text;
using System.Text.Json;
using AkkaVoice.Protocol;
using Xunit;

namespace AkkaVoice.Tests.Protocol;

public sealed class ServerMessagesTests
{
    private const string Tricky = "quote \" backslash \\ slash / newline \n tab \t nul \0 bell \u0007 del \u007f " +
        "<script>alert('x')</script> & amp; caf\u00e9 \u4f60\u597d \U0001F600 line-sep \u2028 para-sep \u2029 bom \ufeff";

    /// <summary>Parses a written message strictly and checks it has exactly <paramref name="fields"/>, type first.</summary>
    private static JsonElement Read(byte[] bytes, string type, params string[] fields)
    {
        // Strict UTF-8: a writer that produced invalid UTF-8 fails here rather than on a client.
        _ = new UTF8Encoding(false, true).GetString(bytes);
        using var document = JsonDocument.Parse(bytes);
        var root = document.RootElement.Clone();
        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        var names = root.EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal("type", names[0]);
        Assert.Equal(type, root.GetProperty("type").GetString());
        Assert.Equal(new[] { "type" }.Concat(fields).Order(StringComparer.Ordinal), names.Order(StringComparer.Ordinal));
        return root;
    }

    private static string Str(JsonElement e, string name)
    {
        var p = e.GetProperty(name);
        Assert.Equal(JsonValueKind.String, p.ValueKind);
        return p.GetString()!;
    }

    private static uint U32(JsonElement e, string name) => e.GetProperty(name).GetUInt32();

    private static long I64(JsonElement e, string name) => e.GetProperty(name).GetInt64();

    [Fact]
    public void Welcome_has_user_session_and_node()
    {
        var e = Read(ServerMessages.Welcome("alice", "s-123", "akka.tcp://akkavoice@10.0.0.1:4053"), "welcome", "user", "session", "node");
        Assert.Equal("alice", Str(e, "user"));
        Assert.Equal("s-123", Str(e, "session"));
        Assert.Equal("akka.tcp://akkavoice@10.0.0.1:4053", Str(e, "node"));
    }

    [Fact]
    public void Joined_has_room_slot_member_seq_and_every_member()
    {
        MemberInfo[] members = [new(7, "alice"), new(uint.MaxValue, "bob")];
        var e = Read(ServerMessages.Joined("lobby", 255, uint.MaxValue, long.MaxValue, members, null, null),
            "joined", "room", "slot", "member", "seq", "members");
        Assert.Equal("lobby", Str(e, "room"));
        Assert.Equal(255, e.GetProperty("slot").GetInt32());
        Assert.Equal(uint.MaxValue, U32(e, "member"));
        Assert.Equal(long.MaxValue, I64(e, "seq"));
        var list = e.GetProperty("members").EnumerateArray().ToList();
        Assert.Equal(2, list.Count);
        for (int i = 0; i < members.Length; i++)
        {
            Assert.Equal(new[] { "member", "user", "role" }, list[i].EnumerateObject().Select(p => p.Name));
            Assert.Equal(members[i].Member, U32(list[i], "member"));
            Assert.Equal(members[i].User, Str(list[i], "user"));
        }
    }

    [Fact]
    public void Joined_with_no_members_has_an_empty_array()
    {
        var e = Read(ServerMessages.Joined("r", 0, 1, 0, [], null, null), "joined", "room", "slot", "member", "seq", "members");
        Assert.Equal(JsonValueKind.Array, e.GetProperty("members").ValueKind);
        Assert.Equal(0, e.GetProperty("members").GetArrayLength());
        Assert.Equal(0, I64(e, "seq"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Joined_carries_recovered_only_when_there_was_a_since(bool recovered)
    {
        var e = Read(ServerMessages.Joined("r", 0, 1, 5, [new(1, "a")], recovered, "j"),
            "joined", "room", "slot", "member", "seq", "members", "recovered", "ref");
        Assert.Equal(recovered, e.GetProperty("recovered").GetBoolean());
        Assert.Equal("j", Str(e, "ref"));
    }

    [Fact]
    public void Member_joined_and_member_left_have_room_member_and_user()
    {
        var joined = Read(ServerMessages.MemberJoined("lobby", new MemberInfo(12, "bob")), "member-joined", "room", "member", "user", "role");
        Assert.Equal(("lobby", 12u, "bob", "member"), (Str(joined, "room"), U32(joined, "member"), Str(joined, "user"), Str(joined, "role")));
        var left = Read(ServerMessages.MemberLeft("lobby", new MemberInfo(uint.MaxValue, "bob", Roles.Speaker, 3), "left-seat"),
            "member-left", "room", "member", "user", "role", "seat", "reason");
        Assert.Equal(("lobby", uint.MaxValue, "bob", "left-seat"), (Str(left, "room"), U32(left, "member"), Str(left, "user"), Str(left, "reason")));
    }

    [Fact]
    public void Left_has_its_room()
    {
        Assert.Equal("lobby", Str(Read(ServerMessages.Left("lobby", null), "left", "room"), "room"));
    }

    [Fact]
    public void Said_has_room_member_user_text_and_seq()
    {
        var e = Read(ServerMessages.Said("lobby", 3, "alice", "hello", 99, null), "said", "room", "member", "user", "text", "seq");
        Assert.Equal("lobby", Str(e, "room"));
        Assert.Equal(3u, U32(e, "member"));
        Assert.Equal("alice", Str(e, "user"));
        Assert.Equal("hello", Str(e, "text"));
        Assert.Equal(99, I64(e, "seq"));
    }

    [Fact]
    public void Direct_has_from_and_text_and_never_a_ref()
    {
        var e = Read(ServerMessages.Direct("alice", "psst"), "direct", "from", "text");
        Assert.Equal(("alice", "psst"), (Str(e, "from"), Str(e, "text")));
    }

    [Fact]
    public void Delivered_has_to()
    {
        Assert.Equal("bob", Str(Read(ServerMessages.Delivered("bob", null), "delivered", "to"), "to"));
    }

    [Fact]
    public void Pong_has_nothing_but_its_type()
    {
        Read(ServerMessages.Pong(null), "pong");
    }

    [Fact]
    public void Error_has_code_and_message()
    {
        var e = Read(ServerMessages.Error(ErrorCodes.NotJoined, "you are not in that room", null), "error", "code", "message");
        Assert.Equal(("not-joined", "you are not in that room"), (Str(e, "code"), Str(e, "message")));
    }

    public static TheoryData<string, Func<string?, byte[]>, string[]> WritersWithRef() => new()
    {
        { "joined", r => ServerMessages.Joined("r", 1, 2, 3, [new(2, "u")], null, r), ["room", "slot", "member", "seq", "members"] },
        { "left", r => ServerMessages.Left("r", r), ["room"] },
        { "said", r => ServerMessages.Said("r", 1, "u", "t", 1, r), ["room", "member", "user", "text", "seq"] },
        { "delivered", r => ServerMessages.Delivered("u", r), ["to"] },
        { "pong", ServerMessages.Pong, [] },
        { "error", r => ServerMessages.Error("bad-field", "m", r), ["code", "message"] },
    };

    [Theory]
    [MemberData(nameof(WritersWithRef))]
    public void A_reply_carries_ref_only_when_one_is_given(string type, Func<string?, byte[]> write, string[] fields)
    {
        Read(write(null), type, fields);
        Assert.Equal("r-1", Str(Read(write("r-1"), type, [.. fields, "ref"]), "ref"));
        Assert.Equal("", Str(Read(write(""), type, [.. fields, "ref"]), "ref"));
        Assert.Equal(Tricky, Str(Read(write(Tricky), type, [.. fields, "ref"]), "ref"));
    }

    [Fact]
    public void Special_characters_in_text_are_escaped_and_read_back_unchanged()
    {
        var said = ServerMessages.Said("r", 1, "u", Tricky, 1, null);
        Assert.Equal(Tricky, Str(Read(said, "said", "room", "member", "user", "text", "seq"), "text"));
        Assert.Equal(Tricky, Str(Read(ServerMessages.Direct("u", Tricky), "direct", "from", "text"), "text"));
        Assert.Equal(Tricky, Str(Read(ServerMessages.Error("bad-field", Tricky, null), "error", "code", "message"), "message"));

        // No raw control character, quote or backslash may break out of the JSON string.
        foreach (var b in said) Assert.True(b >= 0x20, $"raw control byte 0x{b:x2} in the output");
        var json = Encoding.UTF8.GetString(said);
        Assert.Contains("""quote \" backslash \\ slash""", json);
        Assert.Contains(@"newline \n tab \t nul \u0000", json);
    }

    [Fact]
    public void Text_of_the_maximum_length_round_trips()
    {
        var text = string.Concat(Enumerable.Repeat("\U0001F600\"\n", 1024));
        Assert.Equal(4096, text.Length);
        Assert.Equal(text, Str(Read(ServerMessages.Said("r", 1, "u", text, 1, null), "said", "room", "member", "user", "text", "seq"), "text"));
    }

    [Fact]
    public void A_lone_surrogate_never_makes_the_output_invalid()
    {
        // The parser refuses lone surrogates, so none should get here; if one does, the JSON stays well formed.
        var e = Read(ServerMessages.Said("r", 1, "u", "a\ud800b", 1, "\udc00"), "said", "room", "member", "user", "text", "seq", "ref");
        Assert.Equal("a\ufffdb", Str(e, "text"));
        Assert.Equal("\ufffd", Str(e, "ref"));
    }

    [Fact]
    public void A_written_message_is_not_changed_by_writing_the_next_one()
    {
        var first = ServerMessages.Said("r", 1, "u", "first", 1, null);
        var copy = first.ToArray();
        _ = ServerMessages.Said("r", 2, "u", new string('x', 4000), 2, "ref");
        _ = ServerMessages.Pong(null);
        Assert.Equal(copy, first);
    }

    [Fact]
    public void Messages_written_on_many_threads_at_once_are_each_intact()
    {
        Parallel.For(0, 2000, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            var text = new string((char)('a' + i % 26), i % 300);
            var e = Read(ServerMessages.Said("room-" + i, (uint)i, "u" + i, text, i, null), "said", "room", "member", "user", "text", "seq");
            Assert.Equal("room-" + i, Str(e, "room"));
            Assert.Equal(text, Str(e, "text"));
            Assert.Equal(i, I64(e, "seq"));
        });
    }
}
