using AkkaVoice.Cluster.Rooms;
using AkkaVoice.Protocol;
using AkkaVoice.Cluster.Serialization;
using Xunit;

namespace AkkaVoice.Tests.Serialization;

/// <summary>The server API's room messages, and the room-control messages between nodes, round-trip through <see cref="WireSerializer"/>.</summary>
public sealed class RoomApiWireTests(WireSerializerFixture fixture) : IClassFixture<WireSerializerFixture>
{
    private const string Unicode = "caf\u00e9 \u4f60\u597d \U0001F600 \"quoted\" \n \0";

    private T RoundTrip<T>(T message) where T : notnull => fixture.RoundTripEqual(message);

    private static readonly SeatInfo[] Seats =
    [
        new(0, "alice", 7, false, false),
        new(1, null, 0, true, false),
        new(31, Unicode, uint.MaxValue, true, true),
    ];

    [Fact]
    public void A_room_state_question_and_its_answers_round_trip()
    {
        RoundTrip(new GetRoomState("lobby"));
        RoundTrip(new RoomState("lobby", "stage", "request", Seats, long.MaxValue, ["alice", "bob"], 10_000, 1000, 990, 3, "akka.tcp://akkavoice@10.0.0.1:4053"));
        RoundTrip(new RoomState("lobby", "open", "free", [], 0, [], 200, 0, 0, 0, ""));
        RoundTrip(new RoomNotFound("lobby", Unicode));
        RoundTrip(new RoomRefused("lobby", "conflict", Unicode));
    }

    [Fact]
    public void A_configuration_round_trips_with_every_field_given_or_none()
    {
        RoundTrip(new ConfigureRoom("lobby", "stage", 32, "free", ["alice", new string('h', 64)], 10_000));
        RoundTrip(new ConfigureRoom("lobby", null, null, null, null, null));
        RoundTrip(new ConfigureRoom("lobby", null, -1, null, [], int.MinValue));
    }

    [Fact]
    public void Deleting_a_room_round_trips()
    {
        RoundTrip(new DeleteRoom("lobby"));
        RoundTrip(new RoomDeleted("lobby", true));
        RoundTrip(new RoomDeleted("lobby", false));
    }

    [Fact]
    public void A_member_page_round_trips_with_and_without_next()
    {
        RoundTrip(new ListMembers("lobby", uint.MaxValue, 1000));
        MemberEntry[] members =
        [
            new(1, "alice", "host", 0, false, "akka.tcp://akkavoice@10.0.0.1:4053"),
            new(uint.MaxValue, Unicode, "listener", null, true, "akka.tcp://akkavoice@10.0.0.2:4053"),
        ];
        RoundTrip(new MemberPage("lobby", members, 77));
        RoundTrip(new MemberPage("lobby", [], null));
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData(86_400, "spam")]
    public void A_kick_round_trips_with_or_without_ban_and_reason(int? ban, string? reason)
    {
        RoundTrip(new KickUser("lobby", "bob", ban, reason, "system"));
        RoundTrip(new UsersAffected("lobby", int.MaxValue));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_mute_round_trips(bool muted) => RoundTrip(new MuteUser("lobby", "bob", muted, "system"));

    [Theory]
    [InlineData("bob", false, null)]
    [InlineData(null, true, true)]
    [InlineData(null, false, false)]
    public void A_seat_change_round_trips(string? user, bool clear, bool? locked) =>
        RoundTrip(new SetSeat("lobby", 31, user, clear, locked, "system"));

    [Theory]
    [InlineData(null)]
    [InlineData("announcement-1")]
    public void A_system_say_round_trips_with_or_without_id(string? id)
    {
        RoundTrip(new SystemSay("lobby", Unicode, id));
        RoundTrip(new SaidSeq("lobby", long.MaxValue));
    }
}
