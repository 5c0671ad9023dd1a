using AkkaVoice.Cluster.Serialization;
using AkkaVoice.Protocol;

namespace AkkaVoice.Cluster.Rooms;

/// <summary>A ban: the user may not join until <paramref name="Until"/> (Unix milliseconds).</summary>
public readonly record struct Ban(string User, long Until);

/// <summary>
/// A room's configuration, the part of its state that outlives its home node (PROTOCOL section 8): kind, seats,
/// seat mode, hosts, member limit, bans, host mutes and seat locks. Replicated through Akka.DistributedData
/// (<see cref="RoomConfigStore"/>). <paramref name="FromApi"/>: set through the server API, kept until DELETE.
/// <paramref name="Expires"/>: 0 while it lasts on its own (set by the API, or the room has members); otherwise the
/// Unix milliseconds after which it is gone (a client-made configuration of an empty room).
/// </summary>
public sealed record RoomConfig(
    string Kind, int Seats, string SeatMode, string[] Hosts, int? MaxMembers, Ban[] Bans, string[] Mutes, int[] Locks,
    bool FromApi, long Expires) : IWireMessage
{
    public const int DefaultSeats = 8;

    /// <summary>An open room's configuration, as a ban or a mute in an unconfigured room makes one.</summary>
    public static RoomConfig Open(string[] hosts) => new(RoomKinds.Open, 0, SeatModes.Request, hosts, null, [], [], [], false, 0);

    public static RoomConfig Stage(int seats, string seatMode, string[] hosts) =>
        new(RoomKinds.Stage, seats, seatMode, hosts, null, [], [], [], false, 0);

    public bool IsStage => Kind == RoomKinds.Stage;

    /// <summary>Gone by itself at <paramref name="now"/> (Unix milliseconds).</summary>
    public bool ExpiredAt(long now) => Expires != 0 && Expires <= now;

    public bool IsBanned(string user, long now) => Array.Exists(Bans, b => b.User == user && b.Until > now);

    /// <summary>The latest end of a ban still running, or 0.</summary>
    public long LastBanEnd(long now) => Bans.Where(b => b.Until > now).Select(b => b.Until).DefaultIfEmpty(0).Max();
}
