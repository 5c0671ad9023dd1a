using System.Collections.Concurrent;
using Akka.Actor;
using AkkaVoice.Cluster.Rooms;
using AkkaVoice.Protocol;

namespace AkkaVoice.Cluster.Hub;

/// <summary>
/// What this node knows of one room it has members of: the local memberships (what a frame fans out to),
/// the room actor and the relays of the other nodes with members (where this node's speakers send their
/// frames), the roster as this node's members were told it, and the last <c>said</c> seq. Only the hub
/// writes it; socket readers and the relay read <see cref="Members"/>, <see cref="RoomActor"/> and
/// <see cref="Relays"/>, each an immutable value swapped whole, so a read never locks.
/// </summary>
public sealed class LocalRoom(string room)
{
    private volatile Membership[] members = [];
    private volatile IActorRef? roomActor;
    private volatile IActorRef[] relays = [];
    private volatile VoiceGate gate = VoiceGate.Open;

    public string Room { get; } = room;

    /// <summary>Who may be heard in the room, as the room last told this node; the socket reader checks every frame against it.</summary>
    public VoiceGate Gate { get => gate; set => gate = value; }

    public Membership[] Members => members;

    /// <summary>The room actor while it is known; null while the room moves and the hub joins it again.</summary>
    public IActorRef? RoomActor { get => roomActor; set => roomActor = value; }

    /// <summary>The relays of the other nodes with members of the room; empty when this node's members are all.</summary>
    public IActorRef[] Relays { get => relays; set => relays = value; }

    /// <summary>
    /// The room's members as this node's members were told (hub only): in a stage room its hosts and speakers
    /// (a listener is not announced to anyone, itself included).
    /// </summary>
    public Dictionary<uint, MemberInfo> Roster { get; } = [];

    /// <summary>The last <c>said</c> seq this node delivered for the room (hub only).</summary>
    public long LastSeq { get; set; }

    /// <summary>Puts a frame on the queue of every local member but the speaker; the payload is shared, never copied.</summary>
    public void FanOut(uint speaker, byte[] payload)
    {
        foreach (var m in members)
        {
            if (m.Member != speaker && m.Active) m.Outbound.EnqueueVoice(m, speaker, payload);
        }
    }

    internal void Add(Membership membership) => members = [.. members, membership];

    internal void Remove(Membership membership) => members = Array.FindAll(members, m => !ReferenceEquals(m, membership));
}

/// <summary>This node's <see cref="LocalRoom"/>s by room id, shared by the hub (which writes) and the fan-out paths (which read).</summary>
public sealed class LocalRooms
{
    private readonly ConcurrentDictionary<string, LocalRoom> rooms = new(StringComparer.Ordinal);

    // The same rooms' ids in order, for the server API's room listing (RoomIndex): only written when a room
    // gains its first local member or loses its last, never on the frame path.
    private readonly SortedSet<string> sorted = new(StringComparer.Ordinal);

    public LocalRoom? Find(string room) => rooms.TryGetValue(room, out var local) ? local : null;

    internal LocalRoom GetOrAdd(string room)
    {
        if (rooms.TryGetValue(room, out var local)) return local;
        local = rooms.GetOrAdd(room, r => new LocalRoom(r));
        lock (sorted) sorted.Add(room);
        return local;
    }

    internal void Remove(LocalRoom room)
    {
        if (!rooms.TryRemove(new KeyValuePair<string, LocalRoom>(room.Room, room))) return;
        lock (sorted) sorted.Remove(room.Room);
    }

    /// <summary>
    /// At most <paramref name="limit"/> of these rooms' ids in ordinal order, after <paramref name="after"/> and starting
    /// with <paramref name="prefix"/>: O(log rooms + limit).
    /// </summary>
    public string[] Page(string prefix, string after, int limit)
    {
        var from = string.CompareOrdinal(after, prefix) > 0 ? after : prefix;
        var page = new List<string>(Math.Min(limit, 1024));
        lock (sorted)
        {
            if (sorted.Count == 0 || string.CompareOrdinal(from, sorted.Max) > 0) return [];
            var upper = sorted.Max!;
            foreach (var room in sorted.GetViewBetween(from, upper))
            {
                if (!room.StartsWith(prefix, StringComparison.Ordinal)) break;
                if (room == after) continue;
                page.Add(room);
                if (page.Count == limit) break;
            }
        }
        return [.. page];
    }

    /// <summary>Rooms with at least one local member.</summary>
    public int Count => rooms.Count;
}

/// <summary>Why a member's frame is not relayed.</summary>
public enum VoiceVerdict : byte
{
    Allowed,
    NotSeated,
    Muted,
}

/// <summary>
/// Who may be heard in one room (PROTOCOL section 8), immutable and swapped whole when the room says so: a stage
/// room's seat occupants, and the memberships of muted users in any room. Checking a frame scans at most 32 seats
/// and the muted ids, without allocating.
/// </summary>
public sealed class VoiceGate
{
    /// <summary>An open room without mutes: everyone is heard.</summary>
    public static readonly VoiceGate Open = new(RoomVoice.Open(""));

    private readonly bool stage;
    private readonly uint[] seats;
    private readonly uint[] muted;

    public VoiceGate(RoomVoice rules)
    {
        Rules = rules;
        stage = rules.Stage;
        seats = rules.Seats;
        muted = rules.Muted;
    }

    /// <summary>The room's message this gate was made from (the seats a rejoin reports).</summary>
    public RoomVoice Rules { get; }

    public VoiceVerdict Check(uint member)
    {
        if (muted.Length > 0 && Array.IndexOf(muted, member) >= 0) return VoiceVerdict.Muted;
        if (stage && Array.IndexOf(seats, member) < 0) return VoiceVerdict.NotSeated;
        return VoiceVerdict.Allowed;
    }

    /// <summary>The seat a member is on, or null.</summary>
    public int? SeatOf(uint member)
    {
        int seat = Array.IndexOf(seats, member);
        return seat < 0 ? null : seat;
    }
}
