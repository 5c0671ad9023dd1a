using System.Text;
using AkkaVoice.Protocol;
using Xunit;

namespace AkkaVoice.Tests.Protocol;

public sealed class ClientMessagesTests
{
    private static readonly string Ref64 = new('r', 64);
    private static readonly string Ref65 = new('r', 65);

    private static ClientCommand Parsed(string json)
    {
        var command = ClientMessages.Parse(Encoding.UTF8.GetBytes(json), out var error);
        Assert.True(error is null, $"expected {json} to parse, but: {error}");
        Assert.NotNull(command);
        return command;
    }

    private static T Parsed<T>(string json) where T : ClientCommand => Assert.IsType<T>(Parsed(json));

    private static ParseError Refused(string json, string code, string? echoedRef = null)
    {
        var command = ClientMessages.Parse(Encoding.UTF8.GetBytes(json), out var error);
        Assert.Null(command);
        Assert.NotNull(error);
        Assert.Equal(code, error.Code);
        Assert.Equal(echoedRef, error.Ref);
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
        return error;
    }

    private static string Json(string text) => System.Text.Json.JsonSerializer.Serialize(text);

    // ---- every command, with all its fields ----

    [Fact]
    public void A_join_carries_its_room_since_and_ref()
    {
        var join = Parsed<JoinCommand>("""{"type":"join","room":"lobby","since":42,"ref":"j1"}""");
        Assert.Equal(new JoinCommand("lobby", 42, "j1"), join);
    }

    [Fact]
    public void A_join_without_since_has_no_since()
    {
        Assert.Equal(new JoinCommand("lobby", null, null), Parsed<JoinCommand>("""{"type":"join","room":"lobby"}"""));
    }

    [Theory]
    [InlineData("0", 0L)]
    [InlineData("1", 1L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    public void A_join_accepts_any_non_negative_64_bit_since(string since, long expected)
    {
        Assert.Equal(expected, Parsed<JoinCommand>($$"""{"type":"join","room":"r","since":{{since}}}""").Since);
    }

    [Fact]
    public void A_leave_carries_its_room_and_ref()
    {
        Assert.Equal(new LeaveCommand("team.red:general", "l1"), Parsed<LeaveCommand>("""{"type":"leave","room":"team.red:general","ref":"l1"}"""));
    }

    [Fact]
    public void A_say_carries_its_room_text_and_ref()
    {
        Assert.Equal(new SayCommand("lobby", "hello, world", "s1"), Parsed<SayCommand>("""{"type":"say","room":"lobby","text":"hello, world","ref":"s1"}"""));
    }

    [Fact]
    public void A_direct_carries_its_recipient_text_and_ref()
    {
        Assert.Equal(new DirectCommand("bob", "psst", "d1"), Parsed<DirectCommand>("""{"type":"direct","to":"bob","text":"psst","ref":"d1"}"""));
    }

    [Fact]
    public void A_ping_carries_its_ref()
    {
        Assert.Equal(new PingCommand("p1"), Parsed<PingCommand>("""{"type":"ping","ref":"p1"}"""));
    }

    [Fact]
    public void A_command_without_ref_has_a_null_ref()
    {
        Assert.Null(Parsed("""{"type":"ping"}""").Ref);
        Assert.Null(Parsed("""{"type":"say","room":"r","text":"t"}""").Ref);
    }

    [Fact]
    public void Fields_may_come_in_any_order_with_whitespace_around_them()
    {
        var say = Parsed<SayCommand>(" \r\n\t{ \"ref\" : \"x\" ,\n \"text\" : \"hi\" , \"room\":\"r\", \"type\" : \"say\" }\n ");
        Assert.Equal(new SayCommand("r", "hi", "x"), say);
    }

    [Fact]
    public void Text_may_be_empty_and_is_kept_exactly_as_sent()
    {
        Assert.Equal("", Parsed<SayCommand>("""{"type":"say","room":"r","text":""}""").Text);
        const string text = "  tabs\tand\nnew lines, \"quotes\", back\\slash, caf\u00e9, \U0001F600  ";
        Assert.Equal(text, Parsed<SayCommand>($$"""{"type":"say","room":"r","text":{{Json(text)}}}""").Text);
        Assert.Equal(text, Parsed<DirectCommand>($$"""{"type":"direct","to":"u","text":{{Json(text)}}}""").Text);
    }

    [Fact]
    public void Ids_of_64_characters_of_every_allowed_kind_are_accepted()
    {
        var id = ("Az09_.-:" + new string('x', 64))[..64];
        Assert.Equal(id, Parsed<JoinCommand>($$"""{"type":"join","room":"{{id}}"}""").Room);
        Assert.Equal(id, Parsed<DirectCommand>($$"""{"type":"direct","to":"{{id}}","text":"t"}""").To);
    }

    // ---- not one JSON object: bad-json ----

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("hello")]
    [InlineData("{")]
    [InlineData("}")]
    [InlineData("""{"type":"ping" """)]
    [InlineData("""{"type":"ping",}""")]
    [InlineData("""{"type":'ping'}""")]
    [InlineData("""{type:"ping"}""")]
    [InlineData("""{"type":"ping" /* comment */}""")]
    [InlineData("[]")]
    [InlineData("""[{"type":"ping"}]""")]
    [InlineData("42")]
    [InlineData("-1.5e3")]
    [InlineData("\"ping\"")]
    [InlineData("null")]
    [InlineData("true")]
    [InlineData("""{"type":"ping"} x""")]
    [InlineData("""{"type":"ping"},""")]
    [InlineData("""{"type":"ping"}}""")]
    [InlineData("""{"type":"ping"}{"type":"ping"}""")]
    [InlineData("""{"type":"ping"} {"type":"ping"}""")]
    [InlineData("""{"type":"ping"}[]""")]
    [InlineData("""{"type":"ping"}0""")]
    public void Anything_but_exactly_one_JSON_object_is_bad_json(string input)
    {
        Refused(input, ErrorCodes.BadJson);
    }

    [Fact]
    public void Whitespace_after_the_object_is_not_garbage()
    {
        Parsed<PingCommand>("{\"type\":\"ping\"} \r\n\t ");
    }

    [Fact]
    public void A_bad_json_error_echoes_no_ref_even_when_one_was_read()
    {
        Refused("""{"ref":"x","type":"ping"} garbage""", ErrorCodes.BadJson);
    }

    // ---- type ----

    [Theory]
    [InlineData("""{"ref":"x"}""")]
    [InlineData("""{"ref":"x","room":"lobby","text":"hi"}""")]
    [InlineData("""{"ref":"x","Type":"ping"}""")]
    [InlineData("""{"ref":"x","TYPE":"ping"}""")]
    [InlineData("""{"ref":"x"," type":"ping"}""")]
    public void A_message_without_type_is_bad_field_with_its_ref(string json)
    {
        Refused(json, ErrorCodes.BadField, "x");
    }

    [Fact]
    public void An_empty_object_is_bad_field()
    {
        Refused("{}", ErrorCodes.BadField);
    }

    [Theory]
    [InlineData("5")]
    [InlineData("null")]
    [InlineData("true")]
    [InlineData("""{"type":"ping"}""")]
    [InlineData("""["ping"]""")]
    public void A_type_that_is_not_a_string_is_bad_field_with_its_ref(string type)
    {
        Refused($$"""{"type":{{type}},"ref":"x"}""", ErrorCodes.BadField, "x");
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("")]
    [InlineData("JOIN")]
    [InlineData("Ping")]
    [InlineData(" ping")]
    [InlineData("joined")]
    [InlineData("pong")]
    [InlineData("welcome")]
    public void A_type_not_in_the_contract_is_unknown_type_with_its_ref(string type)
    {
        Refused($$"""{"type":{{Json(type)}},"ref":"u1"}""", ErrorCodes.UnknownType, "u1");
    }

    [Fact]
    public void An_unknown_type_is_reported_even_when_its_other_fields_are_malformed()
    {
        Refused("""{"type":"nope","room":5,"since":-1,"ref":"u2"}""", ErrorCodes.UnknownType, "u2");
    }

    // ---- room and to ----

    [Theory]
    [InlineData("join")]
    [InlineData("leave")]
    [InlineData("say")]
    public void A_room_command_without_room_is_bad_field(string type)
    {
        Refused($$"""{"type":"{{type}}","text":"t","ref":"x"}""", ErrorCodes.BadField, "x");
    }

    public static TheoryData<string, string> RoomCommandsWithBadRooms()
    {
        var data = new TheoryData<string, string>();
        string[] badRooms =
        [
            "5", "null", "true", "[\"lobby\"]", "{\"id\":\"lobby\"}",
            "\"\"", "\"bad room\"", "\"a/b\"", "\"a*\"", "\"caf\u00e9\"", "\"tab\\there\"", "\"\\u0000\"",
            Json(new string('a', 65)),
        ];
        foreach (var type in new[] { "join", "leave", "say" })
        foreach (var room in badRooms)
            data.Add(type, room);
        return data;
    }

    [Theory]
    [MemberData(nameof(RoomCommandsWithBadRooms))]
    public void A_room_that_is_not_a_valid_id_string_is_bad_field(string type, string room)
    {
        Refused($$"""{"type":"{{type}}","room":{{room}},"text":"t","ref":"x"}""", ErrorCodes.BadField, "x");
    }

    [Fact]
    public void A_direct_without_to_is_bad_field()
    {
        Refused("""{"type":"direct","text":"t","ref":"x"}""", ErrorCodes.BadField, "x");
    }

    public static TheoryData<string> BadTos() =>
    [
        "5", "null", "[\"bob\"]", "\"\"", "\"bob smith\"", "\"bob@example.com\"", "\"b\u00f6b\"", Json(new string('a', 65)),
    ];

    [Theory]
    [MemberData(nameof(BadTos))]
    public void A_to_that_is_not_a_valid_id_string_is_bad_field(string to)
    {
        Refused($$"""{"type":"direct","to":{{to}},"text":"t","ref":"x"}""", ErrorCodes.BadField, "x");
    }

    // ---- since ----

    [Theory]
    [InlineData("1.5")]
    [InlineData("\"3\"")]
    [InlineData("-1")]
    [InlineData("1e3")]
    [InlineData("1E3")]
    [InlineData("9223372036854775808")]
    [InlineData("99999999999999999999999999")]
    [InlineData("-9223372036854775809")]
    [InlineData("null")]
    [InlineData("true")]
    [InlineData("[1]")]
    [InlineData("{}")]
    public void A_since_that_is_not_a_non_negative_64_bit_integer_is_bad_field(string since)
    {
        Refused($$"""{"type":"join","room":"r","since":{{since}},"ref":"x"}""", ErrorCodes.BadField, "x");
    }

    // ---- text ----

    [Theory]
    [InlineData("say")]
    [InlineData("direct")]
    public void A_text_command_without_text_is_bad_field(string type)
    {
        Refused($$"""{"type":"{{type}}","room":"r","to":"u","ref":"x"}""", ErrorCodes.BadField, "x");
    }

    [Theory]
    [InlineData("say", "5")]
    [InlineData("say", "null")]
    [InlineData("say", "[\"hi\"]")]
    [InlineData("direct", "false")]
    [InlineData("direct", "{\"text\":\"hi\"}")]
    public void A_text_that_is_not_a_string_is_bad_field(string type, string text)
    {
        Refused($$"""{"type":"{{type}}","room":"r","to":"u","text":{{text}},"ref":"x"}""", ErrorCodes.BadField, "x");
    }

    [Theory]
    [InlineData("say")]
    [InlineData("direct")]
    public void Text_of_4096_characters_is_accepted_and_4097_is_bad_field(string type)
    {
        Assert.Equal(4096, ClientMessages.MaxTextLength);
        var ok = Parsed($$"""{"type":"{{type}}","room":"r","to":"u","text":"{{new string('a', 4096)}}"}""");
        Assert.Equal(4096, ok switch { SayCommand s => s.Text.Length, DirectCommand d => d.Text.Length, _ => -1 });
        Refused($$"""{"type":"{{type}}","room":"r","to":"u","text":"{{new string('a', 4097)}}","ref":"x"}""", ErrorCodes.BadField, "x");
    }

    [Fact]
    public void Text_length_counts_UTF16_code_units_so_2048_emoji_fit_and_one_more_unit_does_not()
    {
        var emoji = string.Concat(Enumerable.Repeat("\U0001F600", 2048));
        Assert.Equal(4096, emoji.Length);
        // Sent as raw UTF-8: 8192 bytes, but 4096 UTF-16 code units.
        Assert.Equal(emoji, Parsed<SayCommand>($$"""{"type":"say","room":"r","text":"{{emoji}}"}""").Text);
        Refused($$"""{"type":"say","room":"r","text":"{{emoji}}a","ref":"x"}""", ErrorCodes.BadField, "x");
    }

    [Fact]
    public void Escaped_characters_count_once_each_toward_the_text_limit()
    {
        // 4096 characters written as 6-byte escapes: the limit is on the text, not on the JSON.
        var escaped = string.Concat(Enumerable.Repeat("\\u00e9", 4096));
        Assert.Equal(new string('\u00e9', 4096), Parsed<SayCommand>($$"""{"type":"say","room":"r","text":"{{escaped}}"}""").Text);
        Refused($$"""{"type":"say","room":"r","text":"{{escaped}}\n","ref":"x"}""", ErrorCodes.BadField, "x");
    }

    [Fact]
    public void An_escaped_surrogate_pair_is_one_well_formed_character()
    {
        Assert.Equal("\U0001F600", Parsed<SayCommand>("""{"type":"say","room":"r","text":"\ud83d\ude00"}""").Text);
        Assert.Equal("\U0001F600", Parsed<SayCommand>("""{"type":"say","room":"r","text":"\uD83D\uDE00"}""").Text);
    }

    // ---- lone surrogates ----

    [Theory]
    [InlineData("""\ud800""")]
    [InlineData("""\udc00""")]
    [InlineData("""\udbff""")]
    [InlineData("""\udfff""")]
    [InlineData("""\udc00\ud800""")]
    [InlineData("""\ude00\ud83d""")]
    [InlineData("""\ud800\ud800""")]
    [InlineData("""a\ud800b""")]
    [InlineData("""hello \ud83d""")]
    [InlineData("""\ude00 world""")]
    public void A_lone_surrogate_in_text_is_bad_field_and_the_ref_is_still_echoed(string escaped)
    {
        Refused($$"""{"type":"say","room":"r","text":"{{escaped}}","ref":"x"}""", ErrorCodes.BadField, "x");
        Refused($$"""{"ref":"x","type":"direct","to":"u","text":"{{escaped}}"}""", ErrorCodes.BadField, "x");
    }

    [Theory]
    [InlineData("""\ud800""")]
    [InlineData("""\udc00""")]
    [InlineData("""\udc00\ud800""")]
    public void A_lone_surrogate_in_room_or_to_is_bad_field(string escaped)
    {
        Refused($$"""{"type":"join","room":"{{escaped}}","ref":"x"}""", ErrorCodes.BadField, "x");
        Refused($$"""{"type":"direct","to":"{{escaped}}","text":"t","ref":"x"}""", ErrorCodes.BadField, "x");
    }

    [Theory]
    [InlineData("""\ud800""")]
    [InlineData("""\udc00""")]
    [InlineData("""\udc00\ud800""")]
    [InlineData("""ok\ud800""")]
    public void A_lone_surrogate_in_ref_is_bad_field_and_that_ref_is_not_echoed(string escaped)
    {
        Refused($$"""{"type":"ping","ref":"{{escaped}}"}""", ErrorCodes.BadField);
    }

    [Fact]
    public void A_lone_surrogate_in_type_is_bad_field()
    {
        Refused("""{"type":"\ud800","ref":"x"}""", ErrorCodes.BadField, "x");
    }

    [Fact]
    public void A_lone_surrogate_in_a_property_name_is_bad_field()
    {
        Refused("""{"type":"ping","\ud800":1}""", ErrorCodes.BadField);
    }

    // ---- ref ----

    [Fact]
    public void A_ref_of_64_characters_is_echoed_and_one_of_65_is_bad_field_and_not_echoed()
    {
        Assert.Equal(64, ClientMessages.MaxRefLength);
        Assert.Equal(Ref64, Parsed("""{"type":"ping","ref":"REF"}""".Replace("REF", Ref64)).Ref);
        Refused("""{"type":"ping","ref":"REF"}""".Replace("REF", Ref65), ErrorCodes.BadField);
    }

    [Fact]
    public void A_ref_too_long_for_an_unknown_type_is_not_echoed_either()
    {
        Refused("""{"type":"nope","ref":"REF"}""".Replace("REF", Ref65), ErrorCodes.UnknownType);
    }

    [Fact]
    public void A_ref_may_hold_any_well_formed_characters()
    {
        const string reference = "\u00e9\U0001F600 \"quoted\" \\ / <tag> \u2028";
        Assert.Equal(reference, Parsed($$"""{"type":"ping","ref":{{Json(reference)}}}""").Ref);
        Assert.Equal("", Parsed("""{"type":"ping","ref":""}""").Ref);
    }

    [Theory]
    [InlineData("5")]
    [InlineData("null")]
    [InlineData("true")]
    [InlineData("""["x"]""")]
    [InlineData("""{"id":"x"}""")]
    public void A_ref_that_is_not_a_string_is_bad_field_with_no_ref(string reference)
    {
        Refused($$"""{"type":"ping","ref":{{reference}}}""", ErrorCodes.BadField);
    }

    [Fact]
    public void The_ref_is_echoed_in_errors_wherever_it_appears_in_the_object()
    {
        Refused("""{"ref":"first","type":"join"}""", ErrorCodes.BadField, "first");
        Refused("""{"type":"join","ref":"last"}""", ErrorCodes.BadField, "last");
        Refused("""{"type":"join","room":"bad room","ref":"last"}""", ErrorCodes.BadField, "last");
    }

    // ---- escapes, extra fields, nesting, duplicates ----

    [Fact]
    public void Escaped_property_names_mean_the_same_as_plain_ones()
    {
        Assert.Equal(new PingCommand(null), Parsed("""{"\u0074ype":"ping"}"""));
        Assert.Equal(
            new SayCommand("lobby", "hi", "x"),
            Parsed("""{"\u0074\u0079\u0070\u0065":"say","r\u006fom":"lobby","t\u0065xt":"hi","\u0072ef":"x"}"""));
        Assert.Equal(new DirectCommand("bob", "t", null), Parsed("""{"type":"direct","\u0074o":"bob","text":"t"}"""));
        Assert.Equal(new JoinCommand("r", 7, null), Parsed("""{"type":"join","room":"r","sinc\u0065":7}"""));
    }

    [Fact]
    public void Escaped_values_mean_the_same_as_plain_ones()
    {
        Assert.Equal(new JoinCommand("lobby", null, "x"), Parsed("""{"type":"\u006aoin","room":"\u006cobby","ref":"\u0078"}"""));
    }

    [Fact]
    public void Unknown_extra_fields_of_any_kind_are_ignored()
    {
        var say = Parsed<SayCommand>("""
            {"type":"say","room":"r","text":"t",
             "n":1.5e300,"s":"str","b":false,"z":null,"a":[1,"2",{"3":[]}],"o":{"type":"join","room":"x"},
             "Room":"ignored","TEXT":"ignored","":"empty name"}
            """);
        Assert.Equal(new SayCommand("r", "t", null), say);
    }

    [Fact]
    public void Fields_that_other_commands_use_are_ignored()
    {
        Assert.Equal(new PingCommand("x"), Parsed("""{"type":"ping","room":"r","text":"t","to":"u","since":3,"ref":"x"}"""));
        Assert.Equal(new LeaveCommand("r", null), Parsed("""{"type":"leave","room":"r","since":3,"text":"t"}"""));
    }

    [Fact]
    public void Nesting_in_an_ignored_field_up_to_the_depth_limit_is_ignored()
    {
        // The reader's limit is 16 levels, the message object included.
        var nested = new string('[', 15) + new string(']', 15);
        Assert.Equal(new PingCommand("x"), Parsed($$"""{"type":"ping","deep":{{nested}},"ref":"x"}"""));
        var objects = string.Concat(Enumerable.Repeat("{\"a\":", 14)) + "1" + new string('}', 14);
        Assert.Equal(new PingCommand("x"), Parsed($$"""{"type":"ping","deep":{{objects}},"ref":"x"}"""));
    }

    [Fact]
    public void Nesting_past_the_depth_limit_is_bad_json_however_deep_it_goes()
    {
        Refused($$"""{"type":"ping","deep":{{new string('[', 16) + new string(']', 16)}}}""", ErrorCodes.BadJson);
        Refused($$"""{"type":"ping","deep":{{new string('[', 100_000) + new string(']', 100_000)}}}""", ErrorCodes.BadJson);
        Refused($$"""{"type":"ping","deep":{{new string('[', 100_000)}}""", ErrorCodes.BadJson);
        Refused($$"""{"type":"ping","deep":{{string.Concat(Enumerable.Repeat("{\"a\":", 50_000))}}""", ErrorCodes.BadJson);
    }

    // Duplicate keys: the parser does not reject them. The last value of a field is the one used, but a
    // malformed earlier value still makes the message bad-field (the first problem found is reported).

    [Fact]
    public void With_duplicate_keys_the_last_value_wins()
    {
        Assert.Equal(new PingCommand(null), Parsed("""{"type":"say","type":"ping"}"""));
        Assert.Equal(new PingCommand("b"), Parsed("""{"type":"ping","ref":"a","ref":"b"}"""));
        Assert.Equal(new JoinCommand("second", 2, null), Parsed("""{"type":"join","room":"first","since":1,"room":"second","since":2}"""));
        Assert.Equal(new SayCommand("r", "two", null), Parsed("""{"type":"say","room":"r","text":"one","text":"two"}"""));
    }

    [Fact]
    public void With_duplicate_keys_a_malformed_earlier_value_still_fails_the_message()
    {
        Refused("""{"type":5,"type":"ping","ref":"x"}""", ErrorCodes.BadField, "x");
        Refused("""{"type":"join","room":"r","since":-1,"since":1,"ref":"x"}""", ErrorCodes.BadField, "x");
        Refused("""{"type":"say","room":"r","text":"\ud800","text":"fine","ref":"x"}""", ErrorCodes.BadField, "x");
    }

    [Fact]
    public void With_duplicate_keys_an_invalid_id_is_replaced_by_a_later_valid_one()
    {
        // Ids are checked once every field is read, so only the last room counts.
        Assert.Equal(new LeaveCommand("ok", null), Parsed("""{"type":"leave","room":"bad room","room":"ok"}"""));
    }
}
