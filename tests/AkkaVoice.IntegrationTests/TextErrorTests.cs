using System.Net.WebSockets;
using System.Text;
using AkkaVoice.IntegrationTests.Support;
using Xunit;

namespace AkkaVoice.IntegrationTests;

/// <summary>PROTOCOL.md section 2, errors: each code for what causes it, the ref echoed, and the connection kept open.</summary>
public sealed class TextErrorTests(DefaultNode fixture) : IClassFixture<DefaultNode>
{
    private readonly TestNode node = fixture.Node;

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("nope")]
    [InlineData("[{\"type\":\"ping\"}]")]
    [InlineData("\"ping\"")]
    [InlineData("42")]
    [InlineData("null")]
    [InlineData("{\"type\":\"ping\",}")]
    [InlineData("{\"type\":\"ping\"} {\"type\":\"ping\"}")]
    [InlineData("{'type':'ping'}")]
    [InlineData("{\"type\":\"ping\",\"ref\":\"r\"")]
    public async Task Text_that_is_not_one_json_object_is_bad_json(string text)
    {
        await using var a = await node.ClientAsync(Names.User());
        await a.SendTextAsync(text);
        await a.ExpectErrorAsync("bad-json");
        await a.AssertAliveAsync();
    }

    [Fact]
    public async Task Deeply_nested_json_is_refused_without_harm()
    {
        await using var a = await node.ClientAsync(Names.User());
        await a.SendTextAsync("{\"type\":\"ping\",\"x\":" + new string('[', 5000) + new string(']', 5000) + "}");
        var error = await a.NextOfTypeAsync("error");
        Assert.Contains(error.Str("code"), new[] { "bad-json", "bad-field" });
        await a.AssertAliveAsync();
    }

    [Theory]
    [InlineData("dance")]
    [InlineData("JOIN")]
    [InlineData("")]
    [InlineData("pong")]
    public async Task A_type_not_listed_is_unknown_type_with_the_ref_echoed(string type)
    {
        await using var a = await node.ClientAsync(Names.User());
        await a.SendAsync(new { type, @ref = "u1" });
        await a.ExpectErrorAsync("unknown-type", "u1");
        await a.AssertAliveAsync();
    }

    public static TheoryData<string, string> BadFields() => new()
    {
        { "missing type", """{"ref":"r"}""" },
        { "type is a number", """{"type":5,"ref":"r"}""" },
        { "type is null", """{"type":null,"ref":"r"}""" },
        { "type is an object", """{"type":{"a":1},"ref":"r"}""" },
        { "join without room", """{"type":"join","ref":"r"}""" },
        { "join with room a number", """{"type":"join","room":7,"ref":"r"}""" },
        { "join with empty room", """{"type":"join","room":"","ref":"r"}""" },
        { "join with a space in room", """{"type":"join","room":"bad room","ref":"r"}""" },
        { "join with a slash in room", """{"type":"join","room":"a/b","ref":"r"}""" },
        { "join with a non-ascii room", """{"type":"join","room":"caf\u00e9","ref":"r"}""" },
        { "join with a 65 character room", $$"""{"type":"join","room":"{{new string('a', 65)}}","ref":"r"}""" },
        { "join with since 1.5", """{"type":"join","room":"ok","since":1.5,"ref":"r"}""" },
        { "join with since \"3\"", """{"type":"join","room":"ok","since":"3","ref":"r"}""" },
        { "join with since -1", """{"type":"join","room":"ok","since":-1,"ref":"r"}""" },
        { "join with since true", """{"type":"join","room":"ok","since":true,"ref":"r"}""" },
        { "join with since 1e400", """{"type":"join","room":"ok","since":1e400,"ref":"r"}""" },
        { "leave without room", """{"type":"leave","ref":"r"}""" },
        { "leave with a bad room", """{"type":"leave","room":"#x","ref":"r"}""" },
        { "say without room", """{"type":"say","text":"hi","ref":"r"}""" },
        { "say without text", """{"type":"say","room":"ok","ref":"r"}""" },
        { "say with text a number", """{"type":"say","room":"ok","text":1,"ref":"r"}""" },
        { "say with a lone high surrogate", """{"type":"say","room":"ok","text":"a\ud800b","ref":"r"}""" },
        { "say with a lone low surrogate", """{"type":"say","room":"ok","text":"\udc00","ref":"r"}""" },
        { "say with swapped surrogates", """{"type":"say","room":"ok","text":"\udc00\ud800","ref":"r"}""" },
        { "say with a lone surrogate, ref first", """{"type":"say","ref":"r","room":"ok","text":"\ud800"}""" },
        { "direct without to", """{"type":"direct","text":"hi","ref":"r"}""" },
        { "direct with a bad to", """{"type":"direct","to":"no body","text":"hi","ref":"r"}""" },
        { "direct without text", """{"type":"direct","to":"bob","ref":"r"}""" },
        { "direct with a lone surrogate", """{"type":"direct","to":"bob","text":"\ud83d","ref":"r"}""" },
    };

    [Theory]
    [MemberData(nameof(BadFields))]
    public async Task A_missing_or_malformed_field_is_bad_field_with_the_ref_echoed(string why, string json)
    {
        await using var a = await node.ClientAsync(Names.User());
        await a.SendTextAsync(json);
        var error = await a.NextTextAsync(ClientExtensions.Patience);
        Assert.True(error.Type == "error" && error.Str("code") == "bad-field", $"{why}: got {error.Raw}");
        Assert.True(error.Str("ref") == "r", $"{why}: the ref is echoed, got {error.Raw}");
        await a.AssertAliveAsync();
    }

    [Theory]
    [InlineData("""{"type":"ping","ref":5}""")]
    [InlineData("""{"type":"ping","ref":"\ud800"}""")]
    [InlineData("""{"type":"ping","ref":"12345678901234567890123456789012345678901234567890123456789012345"}""")]
    public async Task A_ref_that_is_not_a_string_of_at_most_64_characters_is_bad_field(string json)
    {
        await using var a = await node.ClientAsync(Names.User());
        await a.SendTextAsync(json);
        await a.ExpectErrorAsync("bad-field");
        await a.AssertAliveAsync();
    }

    [Fact]
    public async Task A_lone_surrogate_never_reaches_the_other_members()
    {
        var room = Names.Room();
        await using var a = await node.ClientAsync(Names.User());
        await using var b = await node.ClientAsync(Names.User());
        await a.JoinStrictAsync(room);
        await b.JoinStrictAsync(room);
        await a.SendTextAsync($$"""{"type":"say","room":"{{room}}","text":"\ud800"}""");
        await a.ExpectAsync("error");
        Assert.DoesNotContain(await b.TextsUntilPongAsync(), t => t.Type == "said");
    }

    [Fact]
    public async Task Errors_never_close_the_connection()
    {
        var room = Names.Room();
        await using var a = await node.ClientAsync(Names.User());
        await a.JoinStrictAsync(room);
        string[] bad =
        [
            "{", "[]", """{"type":"x"}""", """{"ref":"r"}""", """{"type":"join"}""", """{"type":"leave","room":"never-joined"}""",
            """{"type":"say","room":"never-joined","text":"x"}""", """{"type":"direct","to":"nobody-at-all","text":"x"}""",
            $$"""{"type":"say","room":"{{room}}","text":"{{new string('x', 4097)}}"}""",
        ];
        for (int round = 0; round < 3; round++)
        {
            foreach (var text in bad) await a.SendTextAsync(text);
            for (int i = 0; i < bad.Length; i++) await a.NextOfTypeAsync("error");
        }
        await a.AssertAliveAsync();
        await a.SendAsync(new { type = "say", room, text = "still here" });
        Assert.Equal("still here", (await a.NextOfTypeAsync("said")).Str("text"));
    }

    [Theory]
    [InlineData(new byte[] { 0x7b, 0xff, 0x7d })]
    [InlineData(new byte[] { 0x22, 0xe2, 0x82 })]
    [InlineData(new byte[] { 0xed, 0xa0, 0x80 })]
    [InlineData(new byte[] { 0xc0, 0xaf })]
    public async Task Invalid_utf8_in_a_text_message_closes_with_1007(byte[] bytes)
    {
        await using var a = await node.ClientAsync(Names.User());
        await a.SendAsync(bytes, WebSocketMessageType.Text);
        var closed = await a.WaitClosedAsync();
        Assert.True(closed.Status == WebSocketCloseStatus.InvalidPayloadData, $"closed with {closed.Status}: {closed.Reason}");
    }

    [Fact]
    public async Task Valid_utf8_beyond_the_basic_plane_is_not_an_encoding_error()
    {
        await using var a = await node.ClientAsync(Names.User());
        await a.SendAsync(Encoding.UTF8.GetBytes("{\"type\":\"ping\",\"ref\":\"\U0001F600\"}"), WebSocketMessageType.Text);
        Assert.Equal("\U0001F600", (await a.NextOfTypeAsync("pong")).Str("ref"));
    }
}
