using AkkaVoice.Cluster.Rooms;
using AkkaVoice.Protocol;
using Xunit;

namespace AkkaVoice.Tests.Rooms;

/// <summary>The rules of section 8 (roles, seats, hands, invitations, moderation, configuration), without actors.</summary>
public sealed class RoomControlTests
{
    private const long T0 = 1_000_000;
    private const long History = 300_000;

    private readonly RoomControl room = new(200, 10_000);

    /// <summary>A stage of <paramref name="seats"/> created by host 1 ("host", development mode).</summary>
    private RoomControl Stage(int seats = 4, string mode = SeatModes.Request)
    {
        Assert.Null(room.Join(1, "host", false, true, new StageRequest(seats, mode), T0));
        room.TakeChanges();
        return room;
    }

    private void Join(uint id, string user)
    {
        Assert.Null(room.Join(id, user, false, true, null, T0));
    }

    private static void Refused(string code, Refusal? refusal) => Assert.Equal(code, Assert.IsType<Refusal>(refusal).Code);

    [Fact]
    public void The_creator_of_a_room_in_development_mode_is_its_host_and_makes_it_a_stage()
    {
        Assert.Null(room.Join(1, "alice", false, true, new StageRequest(8, SeatModes.Free), T0));
        Assert.True(room.IsStage);
        Assert.Equal(Roles.Host, room.RoleOf(1));
        Assert.Equal(["alice"], room.Config!.Hosts);
        Assert.True(room.TakeChanges().Config);
        Join(2, "bob");
        Assert.Equal(Roles.Listener, room.RoleOf(2));
    }

    [Fact]
    public void Stage_on_a_room_that_exists_is_ignored_and_the_joiner_gets_the_room_as_it_is()
    {
        Join(1, "alice");
        Assert.Null(room.Join(2, "bob", false, true, new StageRequest(8, SeatModes.Free), T0));
        Assert.False(room.IsStage);
        Assert.Equal(Roles.Member, room.RoleOf(2));
        Assert.Equal(Roles.Host, room.RoleOf(1));
    }

    [Fact]
    public void With_tokens_only_a_claimed_host_creates_a_stage()
    {
        Assert.Null(room.Join(1, "alice", false, false, new StageRequest(8, SeatModes.Free), T0));
        Assert.False(room.IsStage);
        Assert.Equal(Roles.Member, room.RoleOf(1));
        var other = new RoomControl(200, 10_000);
        Assert.Null(other.Join(1, "alice", true, false, new StageRequest(8, SeatModes.Free), T0));
        Assert.True(other.IsStage);
        Assert.Equal(Roles.Host, other.RoleOf(1));
    }

    [Fact]
    public void Listeners_are_counted_not_shown()
    {
        Stage();
        Join(2, "bob");
        Join(3, "carol");
        var changes = room.TakeChanges();
        Assert.Empty(changes.Shown);
        Assert.True(changes.Audience);
        Assert.Equal(2, room.Audience);
        Assert.Equal([1u], room.VisibleMembers().Select(m => m.Member));
        room.Leave(3, "left", T0, History);
        Assert.Empty(room.TakeChanges().Hidden);
        Assert.Equal(1, room.Audience);
    }

    [Fact]
    public void In_request_mode_a_listener_needs_an_invitation_good_for_sixty_seconds()
    {
        Stage();
        Join(2, "bob");
        Refused(ErrorCodes.Forbidden, room.TakeSeat(2, null, T0));
        Assert.Null(room.Invite(1, 2, 3, T0));
        Assert.Equal([(2u, (int?)3)], room.TakeChanges().Invited);
        Refused(ErrorCodes.Forbidden, room.TakeSeat(2, 1, T0 + 1000));
        Refused(ErrorCodes.Forbidden, room.TakeSeat(2, null, T0 + RoomControl.InvitationMillis));
        Assert.Null(room.Invite(1, 2, 3, T0));
        Assert.Null(room.TakeSeat(2, null, T0 + 59_000));
        Assert.Equal(Roles.Speaker, room.RoleOf(2));
        var changes = room.TakeChanges();
        Assert.Equal([3], changes.Seats);
        Assert.Equal(Roles.Speaker, Assert.Single(changes.Shown).Role);
        Assert.Equal(0, room.Audience);
    }

    [Fact]
    public void Only_a_host_invites_and_only_into_seats_that_exist()
    {
        Stage();
        Join(2, "bob");
        Join(3, "carol");
        Refused(ErrorCodes.Forbidden, room.Invite(2, 3, null, T0));
        Refused(ErrorCodes.BadField, room.Invite(1, 3, 4, T0));
        Refused(ErrorCodes.BadField, room.Invite(1, 99, null, T0));
    }

    [Fact]
    public void In_free_mode_take_seat_takes_the_lowest_free_unlocked_seat()
    {
        Stage(3, SeatModes.Free);
        Join(2, "bob");
        Join(3, "carol");
        Join(4, "dave");
        Join(5, "eve");
        Assert.Null(room.SetSeat(1, 0, null, false, true));
        Assert.Null(room.TakeSeat(2, null, T0));
        Assert.Equal(1, room.Describe(2).Seat);
        Refused(ErrorCodes.SeatTaken, room.TakeSeat(3, 1, T0));
        Refused(ErrorCodes.SeatLocked, room.TakeSeat(3, 0, T0));
        Refused(ErrorCodes.BadField, room.TakeSeat(3, 3, T0));
        Assert.Null(room.TakeSeat(3, null, T0));
        Refused(ErrorCodes.NoFreeSeat, room.TakeSeat(4, null, T0));
        Assert.Null(room.SetSeat(1, 0, 5, false, null));
        Assert.Equal(0, room.Describe(5).Seat);
    }

    [Fact]
    public void Two_members_racing_for_one_seat_get_it_once()
    {
        Stage(2, SeatModes.Free);
        Join(2, "bob");
        Join(3, "carol");
        Assert.Null(room.TakeSeat(2, 1, T0));
        Refused(ErrorCodes.SeatTaken, room.TakeSeat(3, 1, T0));
        Assert.Equal(2u, room.SeatView()[1].Member);
    }

    [Fact]
    public void The_seat_row_version_goes_up_once_per_change()
    {
        Stage(4, SeatModes.Free);
        Join(2, "bob");
        long before = room.SeatsVersion;
        Assert.Null(room.TakeSeat(2, 0, T0));
        Assert.Equal(before + 1, room.SeatsVersion);
        room.TakeChanges();
        Assert.Null(room.TakeSeat(2, 2, T0));
        Assert.Equal(before + 2, room.SeatsVersion);
        Assert.Equal([0, 2], room.TakeChanges().Seats);
    }

    [Fact]
    public void Leaving_a_seat_returns_to_the_audience_and_from_no_seat_is_forbidden()
    {
        Stage(4, SeatModes.Free);
        Join(2, "bob");
        Refused(ErrorCodes.Forbidden, room.LeaveSeat(2));
        Assert.Null(room.TakeSeat(2, null, T0));
        room.TakeChanges();
        Assert.Null(room.LeaveSeat(2));
        var changes = room.TakeChanges();
        Assert.Equal("left-seat", Assert.Single(changes.Hidden).Reason);
        Assert.Equal(Roles.Listener, room.RoleOf(2));
        Assert.Equal(1, room.Audience);
    }

    [Fact]
    public void Hands_are_for_listeners_and_go_down_on_a_seat()
    {
        Stage(4, SeatModes.Free);
        Join(2, "bob");
        Refused(ErrorCodes.Forbidden, room.Hand(1, true));
        Assert.Null(room.Hand(2, true));
        Assert.Equal([2u], room.Hands().Select(h => h.Member));
        room.TakeChanges();
        Assert.Null(room.TakeSeat(2, null, T0));
        Assert.Contains(room.TakeChanges().Hands, h => h.Member.Member == 2 && !h.Raised);
        Assert.Empty(room.Hands());
        Refused(ErrorCodes.Forbidden, room.Hand(2, true));
    }

    [Fact]
    public void Seat_and_hand_requests_in_an_open_room_are_bad_fields()
    {
        Join(1, "alice");
        Join(2, "bob");
        Refused(ErrorCodes.BadField, room.TakeSeat(2, 0, T0));
        Refused(ErrorCodes.BadField, room.LeaveSeat(2));
        Refused(ErrorCodes.BadField, room.Hand(2, true));
        Refused(ErrorCodes.BadField, room.SetSeat(1, 0, 2, false, null));
    }

    [Fact]
    public void Set_seat_onto_a_taken_seat_sends_its_occupant_back_to_the_audience()
    {
        Stage(2);
        Join(2, "bob");
        Join(3, "carol");
        Assert.Null(room.SetSeat(1, 0, 2, false, null));
        room.TakeChanges();
        Assert.Null(room.SetSeat(1, 0, 3, false, null));
        var changes = room.TakeChanges();
        Assert.Equal(Roles.Listener, room.RoleOf(2));
        Assert.Equal(Roles.Speaker, room.RoleOf(3));
        Assert.Equal(2u, Assert.Single(changes.Hidden).Member.Member);
        Assert.Equal(3u, Assert.Single(changes.Shown).Member);
        Assert.Null(room.SetSeat(1, 0, null, true, null));
        Assert.Equal(0u, room.SeatView()[0].Member);
        Refused(ErrorCodes.Forbidden, room.SetSeat(2, 1, 2, false, null));
    }

    [Fact]
    public void A_host_cannot_kick_a_host_but_the_system_can()
    {
        Join(1, "alice");
        Assert.Null(room.Configure(new ConfigureRoom("r", null, null, null, ["alice", "bob"], null)));
        Join(2, "bob");
        Join(3, "carol");
        Refused(ErrorCodes.Forbidden, room.Kick(1, "bob", null, T0, History));
        Refused(ErrorCodes.Forbidden, room.Kick(3, "dave", null, T0, History));
        Assert.Null(room.Kick(null, "bob", null, T0, History));
        Assert.False(room.Has(2));
    }

    [Fact]
    public void A_kick_ends_every_membership_of_the_user_and_a_ban_refuses_its_joins_until_it_ends()
    {
        Join(1, "alice");
        Join(2, "bob");
        Join(3, "bob");
        room.TakeChanges();
        Assert.Null(room.Kick(1, "bob", 60, T0, History));
        var changes = room.TakeChanges();
        Assert.Equal([2u, 3u], changes.Kicked.Select(k => k.Member).Order());
        Assert.All(changes.Hidden, h => Assert.Equal("kicked", h.Reason));
        Assert.True(changes.Config);
        Assert.Equal(["alice"], room.Config!.Hosts);
        Refused(ErrorCodes.Banned, room.Join(4, "bob", false, true, null, T0 + 59_999));
        Assert.Null(room.Join(4, "bob", false, true, null, T0 + 60_000));
    }

    [Fact]
    public void A_mute_reaches_every_membership_of_the_user_and_its_rejoins()
    {
        Stage(2, SeatModes.Free);
        Join(2, "bob");
        Assert.Null(room.TakeSeat(2, 0, T0));
        room.TakeChanges();
        Assert.Null(room.Mute(1, "bob", true));
        var changes = room.TakeChanges();
        Assert.True(changes.Voice);
        Assert.Equal([2u], changes.MutedMembers);
        Assert.Equal([0], changes.Seats);
        Assert.True(room.SeatView()[0].Muted);
        Join(3, "bob");
        Assert.True(room.TakeChanges().Voice);
        Assert.Equal([2u, 3u], room.VoiceRules().Muted.Order());
        Refused(ErrorCodes.Forbidden, room.Mute(2, "host", true));
        Assert.Null(room.Mute(null, "bob", false));
        Assert.Empty(room.VoiceRules().Muted);
    }

    [Fact]
    public void A_stage_hears_only_its_seats()
    {
        Stage(2, SeatModes.Free);
        Join(2, "bob");
        Assert.Null(room.TakeSeat(2, 1, T0));
        var (stage, speakers, muted) = room.VoiceRules();
        Assert.True(stage);
        Assert.Equal([2u], speakers);
        Assert.Empty(muted);
    }

    [Fact]
    public void The_api_configuration_follows_section_nine()
    {
        Join(1, "alice");
        Refused(ErrorCodes.Conflict, room.Configure(new ConfigureRoom("r", "stage", null, null, null, null)));
        Refused(ErrorCodes.OutOfRange, room.Configure(new ConfigureRoom("r", null, 4, null, null, null)));
        Refused(ErrorCodes.OutOfRange, room.Configure(new ConfigureRoom("r", null, null, null, null, 201)));
        Refused(ErrorCodes.OutOfRange, room.Configure(new ConfigureRoom("r", null, null, null, null, 0)));
        Refused(ErrorCodes.BadField, room.Configure(new ConfigureRoom("r", "arena", null, null, null, null)));
        Refused(ErrorCodes.BadField, room.Configure(new ConfigureRoom("r", null, null, "any", null, null)));
        Refused(ErrorCodes.BadField, room.Configure(new ConfigureRoom("r", null, null, null, ["bad id!"], null)));
        Assert.Null(room.Configure(new ConfigureRoom("r", null, null, null, ["carol"], 50)));
        Assert.Equal(50, room.MaxMembers);
        Assert.True(room.Config!.FromApi);
        Assert.Equal(Roles.Member, room.RoleOf(1));

        var empty = new RoomControl(200, 10_000);
        Assert.Null(empty.Configure(new ConfigureRoom("s", "stage", 4, "free", ["alice"], 10_000)));
        Assert.Null(empty.Join(1, "alice", false, false, null, T0));
        Assert.Null(empty.Join(2, "bob", false, false, null, T0));
        Assert.Null(empty.TakeSeat(2, 3, T0));
        Refused(ErrorCodes.Conflict, empty.Configure(new ConfigureRoom("s", null, 3, null, null, null)));
        Assert.Null(empty.Configure(new ConfigureRoom("s", null, 4, null, null, null)));
        Refused(ErrorCodes.OutOfRange, empty.Configure(new ConfigureRoom("s", null, 33, null, null, null)));
        Refused(ErrorCodes.OutOfRange, empty.Configure(new ConfigureRoom("s", null, null, null, null, 10_001)));
    }

    [Fact]
    public void Hosts_set_by_the_api_change_the_roles_of_present_members()
    {
        Stage();
        Join(2, "bob");
        Assert.Null(room.Configure(new ConfigureRoom("r", null, null, null, ["bob"], null)));
        var changes = room.TakeChanges();
        Assert.Equal(Roles.Host, room.RoleOf(2));
        Assert.Equal(Roles.Listener, room.RoleOf(1));
        Assert.Equal(2u, Assert.Single(changes.Shown).Member);
        Assert.Equal(1u, Assert.Single(changes.Hidden).Member.Member);
    }

    [Fact]
    public void A_full_room_refuses_a_join()
    {
        var small = new RoomControl(2, 3);
        Assert.Null(small.Join(1, "a", false, true, null, T0));
        Assert.Null(small.Join(2, "b", false, true, null, T0));
        Refused(ErrorCodes.RoomFull, small.Join(3, "c", false, true, null, T0));
    }

    [Fact]
    public void The_roster_pages_every_member_in_member_id_order()
    {
        Stage();
        for (uint id = 2; id <= 10; id++) Join(id, "u" + id);
        var (first, next) = room.Roster(0, 4);
        Assert.Equal([1u, 2, 3, 4], first.Select(m => m.Member));
        Assert.Equal(4u, next);
        var (second, end) = room.Roster(8, 4);
        Assert.Equal([9u, 10], second.Select(m => m.Member));
        Assert.Null(end);
    }

    [Fact]
    public void A_client_made_configuration_outlives_its_members_by_the_history_or_its_last_ban()
    {
        Join(1, "alice");
        Join(2, "bob");
        Assert.Null(room.Kick(1, "bob", 3600, T0, History));
        room.Leave(1, "left", T0 + 10, History);
        Assert.Equal(T0 + 3_600_000, room.Config!.Expires);
        Assert.False(room.Config.ExpiredAt(T0 + 3_599_999));
        Assert.True(room.Config.ExpiredAt(T0 + 3_600_000));

        var unbanned = new RoomControl(200, 10_000);
        Assert.Null(unbanned.Join(1, "alice", false, true, new StageRequest(4, SeatModes.Free), T0));
        unbanned.Leave(1, "left", T0, History);
        Assert.Equal(T0 + History, unbanned.Config!.Expires);
        Assert.Null(unbanned.Join(2, "bob", false, true, null, T0 + 1));
        Assert.Equal(0, unbanned.Config.Expires);
    }

    [Fact]
    public void A_rebuilt_stage_gives_speakers_their_seats_back()
    {
        var rebuilt = new RoomControl(200, 10_000);
        rebuilt.Load(RoomConfig.Stage(4, SeatModes.Request, ["host"]), T0);
        rebuilt.Rejoin(7, "bob", false, 2, 5);
        rebuilt.Rejoin(8, "carol", false, 2, 5);
        rebuilt.Rejoin(9, "host", true, null, 5);
        Assert.Equal(Roles.Speaker, rebuilt.RoleOf(7));
        Assert.Equal(Roles.Listener, rebuilt.RoleOf(8));
        Assert.Equal(Roles.Host, rebuilt.RoleOf(9));
        Assert.True(rebuilt.SeatsVersion > 5);
    }

    [Fact]
    public void A_speaker_whose_connection_closed_takes_its_seat_back_in_request_mode_within_the_invitation_time()
    {
        Stage();
        Join(2, "bob");
        Join(3, "carol");
        Assert.Null(room.SetSeat(1, 2, 2, false, null));
        room.Leave(2, "closed", T0 + 1_000, History);
        Join(4, "bob");
        Refused(ErrorCodes.Forbidden, room.TakeSeat(3, 2, T0 + 2_000));
        Refused(ErrorCodes.Forbidden, room.TakeSeat(4, 1, T0 + 2_000));
        Assert.Null(room.TakeSeat(4, null, T0 + 2_000));
        Assert.Equal(Roles.Speaker, room.RoleOf(4));
        Assert.Equal(4u, room.SeatView()[2].Member);

        // Once back on it, the seat is no longer held for the user; a kick or a later leave gives nothing back.
        room.Leave(4, "left", T0 + 3_000, History);
        Join(5, "bob");
        Refused(ErrorCodes.Forbidden, room.TakeSeat(5, 2, T0 + 4_000));
    }

    [Fact]
    public void A_closed_speaker_s_seat_is_not_held_past_the_invitation_time()
    {
        Stage();
        Join(2, "bob");
        Assert.Null(room.SetSeat(1, 2, 2, false, null));
        room.Leave(2, "node-lost", T0, History);
        Join(3, "bob");
        Refused(ErrorCodes.Forbidden, room.TakeSeat(3, 2, T0 + RoomControl.InvitationMillis + 1));
    }
}
