using System.Text;
using AkkaVoice.Protocol;
using Xunit;

namespace AkkaVoice.Tests.Protocol;

/// <summary>The client messages of section 8: each parses with its fields, and each bad field is <c>bad-field</c> with the ref.</summary>
public sealed class ControlCommandsTests
{
    private static T Parsed<T>(string json) where T : ClientCommand
    {
        var command = ClientMessages.Parse(Encoding.UTF8.GetBytes(json), out var error);
        Assert.True(error is null, $"expected {json} to parse, but: {error}");
        return Assert.IsType<T>(command);
    }

    private static void BadField(string json)
    {
        var command = ClientMessages.Parse(Encoding.UTF8.GetBytes(json), out var error);
        Assert.Null(command);
        Assert.Equal(ErrorCodes.BadField, error?.Code);
        Assert.Equal("x", error?.Ref);
    }

    [Fact]
    public void A_join_may_ask_for_a_stage_with_defaults_for_what_it_leaves_out()
    {
        Assert.Equal(new StageRequest(32, "free"), Parsed<JoinCommand>("""{"type":"join","room":"r","stage":{"seats":32,"seatMode":"free"}}""").Stage);
        Assert.Equal(new StageRequest(8, "request"), Parsed<JoinCommand>("""{"type":"join","room":"r","stage":{}}""").Stage);
        Assert.Null(Parsed<JoinCommand>("""{"type":"join","room":"r"}""").Stage);
    }

    [Theory]
    [InlineData("""{"seats":0}""")]
    [InlineData("""{"seats":33}""")]
    [InlineData("""{"seats":1.5}""")]
    [InlineData("""{"seatMode":"open"}""")]
    [InlineData("""{"seatMode":1}""")]
    [InlineData("true")]
    [InlineData("[]")]
    public void A_malformed_stage_is_a_bad_field(string stage) => BadField($$"""{"type":"join","room":"r","ref":"x","stage":{{stage}}}""");

    [Fact]
    public void Seat_and_hand_requests_parse()
    {
        Assert.Equal(new TakeSeatCommand("r", 31, "a"), Parsed<TakeSeatCommand>("""{"type":"take-seat","room":"r","seat":31,"ref":"a"}"""));
        Assert.Null(Parsed<TakeSeatCommand>("""{"type":"take-seat","room":"r"}""").Seat);
        Assert.Equal(new LeaveSeatCommand("r", null), Parsed<LeaveSeatCommand>("""{"type":"leave-seat","room":"r"}"""));
        Assert.True(Parsed<HandCommand>("""{"type":"raise-hand","room":"r"}""").Raised);
        Assert.False(Parsed<HandCommand>("""{"type":"lower-hand","room":"r"}""").Raised);
        Assert.Equal(new InviteCommand("r", 4294967295, null, null), Parsed<InviteCommand>("""{"type":"invite","room":"r","member":4294967295}"""));
        Assert.Equal(new InviteCommand("r", 7, 2, null), Parsed<InviteCommand>("""{"type":"invite","room":"r","member":7,"seat":2}"""));
    }

    [Fact]
    public void Set_seat_tells_a_missing_member_from_a_null_one()
    {
        Assert.Equal(new SetSeatCommand("r", 1, 7, false, null, null), Parsed<SetSeatCommand>("""{"type":"set-seat","room":"r","seat":1,"member":7}"""));
        Assert.Equal(new SetSeatCommand("r", 1, null, true, null, null), Parsed<SetSeatCommand>("""{"type":"set-seat","room":"r","seat":1,"member":null}"""));
        Assert.Equal(new SetSeatCommand("r", 1, null, false, true, null), Parsed<SetSeatCommand>("""{"type":"set-seat","room":"r","seat":1,"locked":true}"""));
    }

    [Fact]
    public void Moderation_and_roster_requests_parse()
    {
        Assert.Equal(new MuteCommand("r", 7, true, null), Parsed<MuteCommand>("""{"type":"mute","room":"r","member":7,"muted":true}"""));
        Assert.Equal(new KickCommand("r", "bob", 86400, "spam", null), Parsed<KickCommand>("""{"type":"kick","room":"r","user":"bob","ban":86400,"reason":"spam"}"""));
        Assert.Equal(new KickCommand("r", "bob", null, null, null), Parsed<KickCommand>("""{"type":"kick","room":"r","user":"bob"}"""));
        Assert.Equal(new CloseCommand("r", "c"), Parsed<CloseCommand>("""{"type":"close","room":"r","ref":"c"}"""));
        Assert.Equal(new RosterCommand("r", 0, 100, null), Parsed<RosterCommand>("""{"type":"roster","room":"r"}"""));
        Assert.Equal(new RosterCommand("r", 4294967295, 200, null), Parsed<RosterCommand>("""{"type":"roster","room":"r","after":4294967295,"limit":200}"""));
        Assert.Equal(new RosterCommand("r", 0, 1, null), Parsed<RosterCommand>("""{"type":"roster","room":"r","limit":1}"""));
    }

    [Theory]
    [InlineData("""{"type":"take-seat","room":"r","seat":-1,"ref":"x"}""")]
    [InlineData("""{"type":"take-seat","room":"r","seat":32,"ref":"x"}""")]
    [InlineData("""{"type":"take-seat","room":"r","seat":"1","ref":"x"}""")]
    [InlineData("""{"type":"take-seat","ref":"x"}""")]
    [InlineData("""{"type":"invite","room":"r","ref":"x"}""")]
    [InlineData("""{"type":"invite","room":"r","member":-1,"ref":"x"}""")]
    [InlineData("""{"type":"invite","room":"r","member":4294967296,"ref":"x"}""")]
    [InlineData("""{"type":"set-seat","room":"r","ref":"x"}""")]
    [InlineData("""{"type":"set-seat","room":"r","seat":0,"locked":"yes","ref":"x"}""")]
    [InlineData("""{"type":"mute","room":"r","member":1,"ref":"x"}""")]
    [InlineData("""{"type":"mute","room":"r","muted":true,"ref":"x"}""")]
    [InlineData("""{"type":"kick","room":"r","ref":"x"}""")]
    [InlineData("""{"type":"kick","room":"r","user":"bad user","ref":"x"}""")]
    [InlineData("""{"type":"kick","room":"r","user":"bob","ban":-1,"ref":"x"}""")]
    [InlineData("""{"type":"kick","room":"r","user":"bob","ban":0,"ref":"x"}""")]
    [InlineData("""{"type":"kick","room":"r","user":"bob","ban":86401,"ref":"x"}""")]
    [InlineData("""{"type":"kick","room":"r","user":"bob","ban":1000000000,"ref":"x"}""")]
    [InlineData("""{"type":"roster","room":"r","limit":0,"ref":"x"}""")]
    [InlineData("""{"type":"roster","room":"r","limit":201,"ref":"x"}""")]
    [InlineData("""{"type":"roster","room":"r","limit":10000,"ref":"x"}""")]
    [InlineData("""{"type":"roster","room":"r","after":-1,"ref":"x"}""")]
    [InlineData("""{"type":"close","room":"bad room","ref":"x"}""")]
    public void A_bad_field_of_a_section_eight_request_is_refused_with_its_ref(string json) => BadField(json);

    [Fact]
    public void A_kick_reason_is_at_most_256_characters()
    {
        Parsed<KickCommand>($$"""{"type":"kick","room":"r","user":"bob","reason":"{{new string('a', 256)}}"}""");
        BadField($$"""{"type":"kick","room":"r","user":"bob","ref":"x","reason":"{{new string('a', 257)}}"}""");
    }
}
