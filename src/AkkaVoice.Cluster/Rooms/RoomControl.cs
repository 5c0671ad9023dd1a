using AkkaVoice.Protocol;

namespace AkkaVoice.Cluster.Rooms;

/// <summary>Why a request was refused: an error code of the contract and a message. Nothing changed.</summary>
public sealed record Refusal(string Code, string Message);

/// <summary>
/// What a room may decide without actors (PROTOCOL section 8): roles, seats, hands, invitations, mutes, kicks,
/// bans and the room's configuration. The room actor applies a client's or the API's request here, then emits
/// what <see cref="Changes"/> collected, and replicates <see cref="Config"/> when it changed. Plain state, one
/// writer, unit-tested without a cluster. Times are Unix milliseconds, given by the caller.
/// </summary>
public sealed class RoomControl(int openMaxMembers, int stageMaxMembers)
{
    /// <summary>How long an invitation is good for.</summary>
    public const long InvitationMillis = 60_000;

    public const string SystemUser = "system";

    private sealed class Member(uint id, string user, bool claimsHost)
    {
        public uint Id { get; } = id;
        public string User { get; } = user;
        public bool ClaimsHost { get; } = claimsHost;
        public int Seat { get; set; } = -1;
        public bool Hand { get; set; }
    }

    private readonly SortedDictionary<uint, Member> members = [];
    private readonly Dictionary<uint, (int? Seat, long Until)> invitations = [];

    // Seats whose speaker's connection closed or whose node was lost, by user, for as long as an invitation
    // lasts: the same user, healed onto a new connection, may take that seat back in request mode.
    private readonly Dictionary<string, (int Seat, long Until)> vacated = new(StringComparer.Ordinal);

    // Users who created the room in development mode; written into the hosts once the room has a configuration.
    private readonly HashSet<string> creators = new(StringComparer.Ordinal);
    private uint[] seats = [];
    private MemberInfo[]? visibleCache;

    public RoomConfig? Config { get; private set; }

    public long SeatsVersion { get; private set; }

    public ControlChanges Changes { get; private set; } = new();

    public bool IsStage => Config?.IsStage == true;

    public int Count => members.Count;

    public int Audience { get; private set; }

    public int Speakers => seats.Count(s => s != 0);

    public string Kind => Config?.Kind ?? RoomKinds.Open;

    public int MaxMembers => Config?.MaxMembers ?? (IsStage ? stageMaxMembers : openMaxMembers);

    /// <summary>Hands the collected changes to the caller and starts a new collection.</summary>
    public ControlChanges TakeChanges()
    {
        var changes = Changes;
        if (changes.Shown.Count > 0 || changes.Hidden.Count > 0 || changes.Roles.Count > 0 || changes.Config || changes.Deleted || changes.Seats.Count > 0)
            visibleCache = null;
        Changes = new ControlChanges();
        return changes;
    }

    /// <summary>Takes the configuration read from the replicas when the room starts (before any member).</summary>
    public void Load(RoomConfig? config, long now)
    {
        Config = config is null || config.ExpiredAt(now) ? null : config with { Bans = config.Bans.Where(b => b.Until > now).ToArray() };
        seats = new uint[Config?.IsStage == true ? Config.Seats : 0];
    }

    // ---- membership ----

    /// <summary>
    /// A new membership. <paramref name="claimsHost"/>: its token's <c>hosts</c> claim names the room (or a rejoiner
    /// that was a host). <paramref name="devMode"/>: no tokens, so the creator of an unconfigured room becomes its host.
    /// </summary>
    public Refusal? Join(uint id, string user, bool claimsHost, bool devMode, StageRequest? stage, long now)
    {
        if (Config is { } c && c.IsBanned(user, now)) return new Refusal(ErrorCodes.Banned, $"user {user} is banned from this room");
        if (members.Count >= MaxMembers) return new Refusal(ErrorCodes.RoomFull, $"the room has {members.Count} members, the most it takes");
        bool creating = members.Count == 0 && Config is null;
        if (creating && devMode) creators.Add(user);
        if (creating && stage is not null && (claimsHost || IsHostUser(user)))
        {
            Config = RoomConfig.Stage(stage.Seats, stage.SeatMode, [.. creators]);
            seats = new uint[stage.Seats];
            Changes.Config = true;
        }
        if (members.Count == 0 && Config is { FromApi: false, Expires: not 0 }) SetConfig(Config with { Expires = 0 });
        Add(new Member(id, user, claimsHost));
        return null;
    }

    /// <summary>A membership coming back after the room moved, on the seat its node last saw it on when that seat is still free.</summary>
    public void Rejoin(uint id, string user, bool wasHost, int? seat, long seatsVersion)
    {
        var member = new Member(id, user, wasHost);
        Add(member);
        SeatsVersion = Math.Max(SeatsVersion, seatsVersion);
        if (seat is { } s && s < seats.Length && seats[s] == 0) Seat(member, s);
    }

    private void Add(Member member)
    {
        members[member.Id] = member;
        Changes.Voice |= IsMuted(member.User);
        if (Visible(member)) Changes.Shown.Add(Describe(member));
        else Audience++;
        Changes.Audience |= !Visible(member);
    }

    /// <summary>A membership ends (<paramref name="reason"/> as in <c>member-left</c>); its seat, hand and invitation go with it.</summary>
    public MemberInfo? Leave(uint id, string reason, long now, long historyMillis)
    {
        if (!members.Remove(id, out var member)) return null;
        var described = Describe(member);
        bool visible = Visible(member);
        if (member.Seat >= 0)
        {
            if (reason is "closed" or "node-lost") Vacated(member.User, member.Seat, now);
            seats[member.Seat] = 0;
            SeatChanged(member.Seat);
        }
        if (member.Hand) LowerHand(member);
        invitations.Remove(id);
        if (visible) Changes.Hidden.Add((described, reason));
        else
        {
            Audience--;
            Changes.Audience = true;
        }
        if (members.Count == 0) Emptied(now, historyMillis);
        return described;
    }

    private void Vacated(string user, int seat, long now)
    {
        foreach (var (u, v) in vacated.ToList())
        {
            if (v.Until <= now) vacated.Remove(u);
        }
        vacated[user] = (seat, now + InvitationMillis);
    }

    private void Emptied(long now, long historyMillis)
    {
        creators.Clear();
        if (Config is { FromApi: false } c) SetConfig(c with { Expires = Math.Max(now + historyMillis, c.LastBanEnd(now)) });
    }

    // ---- seats and hands ----

    public Refusal? TakeSeat(uint id, int? seat, long now)
    {
        if (StageOnly() is { } notStage) return notStage;
        var member = members[id];
        if (seat is { } asked && asked >= seats.Length) return NoSuchSeat(asked);
        bool host = IsHost(member);
        var invitation = invitations.TryGetValue(id, out var inv) && inv.Until > now ? inv
            : vacated.TryGetValue(member.User, out var back) && back.Until > now ? (back.Seat, back.Until)
            : ((int? Seat, long Until)?)null;
        if (!host && Config!.SeatMode == SeatModes.Request)
        {
            if (invitation is null) return new Refusal(ErrorCodes.Forbidden, "this room's seats are taken by invitation");
            if (invitation.Value.Seat is { } invited)
            {
                if (seat is { } other && other != invited) return new Refusal(ErrorCodes.Forbidden, $"the invitation is for seat {invited}");
                seat = invited;
            }
        }
        int target;
        if (seat is { } s)
        {
            if (seats[s] == id) return null;
            if (seats[s] != 0) return new Refusal(ErrorCodes.SeatTaken, $"seat {s} is taken");
            if (IsLocked(s)) return new Refusal(ErrorCodes.SeatLocked, $"seat {s} is locked");
            target = s;
        }
        else
        {
            target = Enumerable.Range(0, seats.Length).FirstOrDefault(i => seats[i] == 0 && !IsLocked(i), -1);
            if (target < 0) return new Refusal(ErrorCodes.NoFreeSeat, "no seat is free");
        }
        invitations.Remove(id);
        vacated.Remove(member.User);
        Seat(member, target);
        return null;
    }

    public Refusal? LeaveSeat(uint id)
    {
        if (StageOnly() is { } notStage) return notStage;
        var member = members[id];
        if (member.Seat < 0) return new Refusal(ErrorCodes.Forbidden, "not on a seat");
        FreeSeat(member);
        return null;
    }

    public Refusal? Hand(uint id, bool raised)
    {
        if (StageOnly() is { } notStage) return notStage;
        var member = members[id];
        if (raised && (member.Seat >= 0 || IsHost(member))) return new Refusal(ErrorCodes.Forbidden, "only a listener raises a hand");
        if (member.Hand == raised) return null;
        member.Hand = raised;
        Changes.Hands.Add((Describe(member), raised));
        return null;
    }

    /// <summary>A host invites a member onto a seat; the invited member gets <c>invited</c> (<see cref="ControlChanges.Invited"/>).</summary>
    public Refusal? Invite(uint by, uint target, int? seat, long now)
    {
        if (StageOnly() is { } notStage) return notStage;
        if (!IsHost(members[by])) return NotHost("invite");
        if (!members.ContainsKey(target)) return NoSuchMember(target);
        if (seat is { } s && s >= seats.Length) return NoSuchSeat(s);
        invitations[target] = (seat, now + InvitationMillis);
        Changes.Invited.Add((target, seat));
        return null;
    }

    /// <summary>
    /// A host's (or, with <paramref name="by"/> null, the system's) <c>set-seat</c>: puts <paramref name="target"/> on
    /// the seat (its occupant back to the audience), or empties it with <paramref name="clear"/>, and locks or unlocks it.
    /// </summary>
    public Refusal? SetSeat(uint? by, int seat, uint? target, bool clear, bool? locked)
    {
        if (StageOnly() is { } notStage) return notStage;
        if (by is { } host && !IsHost(members[host])) return NotHost("set-seat");
        if (seat < 0 || seat >= seats.Length) return NoSuchSeat(seat);
        if (target is { } t && !members.ContainsKey(t)) return NoSuchMember(t);
        if (clear && seats[seat] != 0) FreeSeat(members[seats[seat]]);
        if (target is { } put && seats[seat] != put)
        {
            if (seats[seat] != 0) FreeSeat(members[seats[seat]]);
            invitations.Remove(put);
            Seat(members[put], seat);
        }
        if (locked is { } l && l != IsLocked(seat))
        {
            SetConfig(Config! with { Locks = l ? [.. Config.Locks, seat] : Config.Locks.Where(x => x != seat).ToArray() });
            SeatChanged(seat);
        }
        return null;
    }

    private void Seat(Member member, int seat)
    {
        bool wasVisible = Visible(member);
        if (member.Seat >= 0)
        {
            seats[member.Seat] = 0;
            SeatChanged(member.Seat);
        }
        member.Seat = seat;
        seats[seat] = member.Id;
        SeatChanged(seat);
        if (member.Hand) LowerHand(member);
        if (!wasVisible)
        {
            Audience--;
            Changes.Audience = true;
            Changes.Shown.Add(Describe(member));
        }
        else if (IsHost(member)) Changes.Roles.Add(Describe(member));
    }

    private void FreeSeat(Member member)
    {
        seats[member.Seat] = 0;
        SeatChanged(member.Seat);
        var before = Describe(member);
        member.Seat = -1;
        if (IsHost(member))
        {
            Changes.Roles.Add(Describe(member));
            return;
        }
        Audience++;
        Changes.Audience = true;
        Changes.Hidden.Add((before, "left-seat"));
    }

    private void LowerHand(Member member)
    {
        member.Hand = false;
        Changes.Hands.Add((Describe(member), false));
    }

    private void SeatChanged(int seat)
    {
        if (!Changes.Seats.Contains(seat)) Changes.Seats.Add(seat);
        if (Changes.Seats.Count == 1) SeatsVersion++;
        Changes.Voice = true;
    }

    // ---- moderation ----

    /// <summary>Mutes or unmutes a user (every membership, rejoins included) by a host, or with <paramref name="by"/> null by the system.</summary>
    public Refusal? Mute(uint? by, string user, bool muted)
    {
        if (by is { } host && !IsHost(members[host])) return NotHost("mute");
        if (IsMuted(user) == muted) return null;
        var config = Configured();
        SetConfig(config with { Mutes = muted ? [.. config.Mutes, user] : config.Mutes.Where(u => u != user).ToArray() });
        Changes.Voice = true;
        foreach (var m in MembershipsOf(user))
        {
            Changes.MutedMembers.Add(m);
            var seat = members[m].Seat;
            if (seat >= 0) SeatChanged(seat);
        }
        return null;
    }

    /// <summary>
    /// Ends every membership of <paramref name="user"/> (a host's kick, or with <paramref name="by"/> null the system's,
    /// which may kick hosts), banning it for <paramref name="banSeconds"/>. The ended memberships are in <see cref="ControlChanges.Kicked"/>.
    /// </summary>
    public Refusal? Kick(uint? by, string user, int? banSeconds, long now, long historyMillis)
    {
        if (by is { } host)
        {
            if (!IsHost(members[host])) return NotHost("kick");
            if (IsHostUser(user) || MembershipsOf(user).Any(m => IsHost(members[m]))) return new Refusal(ErrorCodes.Forbidden, "a host cannot kick a host");
        }
        if (banSeconds is { } ban)
        {
            var config = Configured();
            SetConfig(config with { Bans = [.. config.Bans.Where(b => b.User != user && b.Until > now), new Ban(user, now + ban * 1000L)] });
        }
        foreach (var id in MembershipsOf(user).ToList())
        {
            var described = Leave(id, "kicked", now, historyMillis);
            if (described is { } gone) Changes.Kicked.Add(gone);
        }
        return null;
    }

    /// <summary>Whether <paramref name="by"/> may close the room (a host; null: the system).</summary>
    public Refusal? MayClose(uint? by) => by is { } host && !IsHost(members[host]) ? NotHost("close") : null;

    /// <summary>Ends every membership and forgets the configuration; answers the memberships that ended.</summary>
    public MemberInfo[] Close()
    {
        var all = members.Values.Select(Describe).ToArray();
        members.Clear();
        invitations.Clear();
        vacated.Clear();
        creators.Clear();
        Audience = 0;
        if (Config is not null) Changes.Deleted = true;
        Config = null;
        seats = [];
        return all;
    }

    /// <summary>
    /// The server API's PUT: each field given replaces that setting (section 9's rules). Role changes of present
    /// members and a new seat row are collected in <see cref="Changes"/>.
    /// </summary>
    public Refusal? Configure(ConfigureRoom c)
    {
        var kind = c.Kind ?? Kind;
        if (!RoomKinds.IsValid(kind)) return new Refusal(ErrorCodes.BadField, "kind must be \"open\" or \"stage\"");
        if (c.SeatMode is not null && !SeatModes.IsValid(c.SeatMode)) return new Refusal(ErrorCodes.BadField, "seatMode must be \"request\" or \"free\"");
        if (c.Hosts is { } hosts && !Array.TrueForAll(hosts, Ids.IsValid)) return new Refusal(ErrorCodes.BadField, "hosts must be user ids");
        if (kind != Kind && members.Count > 0) return new Refusal(ErrorCodes.Conflict, "the kind of a room with members cannot change");
        bool stage = kind == RoomKinds.Stage;
        if (!stage && (c.Seats is not null || c.SeatMode is not null)) return new Refusal(ErrorCodes.OutOfRange, "an open room has no seats");
        if (c.Seats is { } n && (n < 1 || n > ClientMessages.MaxSeats)) return new Refusal(ErrorCodes.OutOfRange, $"seats must be 1-{ClientMessages.MaxSeats}");
        int limit = stage ? stageMaxMembers : openMaxMembers;
        if (c.MaxMembers is { } max && (max < 1 || max > limit)) return new Refusal(ErrorCodes.OutOfRange, $"maxMembers must be 1-{limit} in a {kind} room");
        int seatCount = stage ? c.Seats ?? (IsStage ? seats.Length : RoomConfig.DefaultSeats) : 0;
        int highestTaken = Array.FindLastIndex(seats, s => s != 0);
        if (highestTaken >= seatCount && members.Count > 0) return new Refusal(ErrorCodes.Conflict, $"seat {highestTaken} is taken");

        var before = members.Values.Where(Visible).ToDictionary(m => m.Id, Describe);
        var current = Configured();
        var config = current with
        {
            Kind = kind,
            Seats = seatCount,
            SeatMode = c.SeatMode ?? current.SeatMode,
            Hosts = c.Hosts ?? current.Hosts,
            MaxMembers = c.MaxMembers ?? (kind == current.Kind ? current.MaxMembers : null),
            Locks = current.Locks.Where(l => l < seatCount).ToArray(),
            FromApi = true,
            Expires = 0,
        };
        if (c.Hosts is not null) creators.Clear();
        SetConfig(config);
        if (seatCount != seats.Length)
        {
            Array.Resize(ref seats, seatCount);
            SeatsVersion++;
            Changes.Seats.AddRange(Enumerable.Range(0, seatCount));
            Changes.Voice = true;
        }
        RecountRoles(before);
        return null;
    }

    /// <summary>After the hosts changed: visible members whose role changed, listeners that became hosts (shown) and hosts that became listeners (hidden).</summary>
    private void RecountRoles(Dictionary<uint, MemberInfo> before)
    {
        foreach (var m in members.Values)
        {
            var now = Describe(m);
            bool was = before.TryGetValue(m.Id, out var old);
            bool visible = Visible(m);
            if (was && visible && old.Role != now.Role) Changes.Roles.Add(now);
            else if (!was && visible) { Changes.Shown.Add(now); Audience--; Changes.Audience = true; }
            else if (was && !visible) { Changes.Hidden.Add((old, "left-seat")); Audience++; Changes.Audience = true; }
        }
    }

    // ---- what others see ----

    public string RoleOf(uint id) => Describe(members[id]).Role;

    public bool Has(uint id) => members.ContainsKey(id);

    public string UserOf(uint id) => members[id].User;

    public bool IsHostMember(uint id) => IsHost(members[id]);

    /// <summary>Hosts and speakers in a stage room; everyone in an open room.</summary>
    public bool IsVisible(uint id) => Visible(members[id]);

    public MemberInfo Describe(uint id) => Describe(members[id]);

    public IEnumerable<uint> MembershipsOf(string user) => members.Values.Where(m => m.User == user).Select(m => m.Id);

    public bool IsMuted(string user) => Config is { } c && Array.IndexOf(c.Mutes, user) >= 0;

    public SeatInfo[] SeatView()
    {
        var view = new SeatInfo[seats.Length];
        for (int i = 0; i < seats.Length; i++)
        {
            var m = seats[i] == 0 ? null : members[seats[i]];
            view[i] = new SeatInfo(i, m?.User, m?.Id ?? 0, IsLocked(i), m is not null && IsMuted(m.User));
        }
        return view;
    }

    /// <summary>Members that may be heard: a stage room's seat occupants, and in an open room everyone (null); muted members apart.</summary>
    public (bool Stage, uint[] Speakers, uint[] Muted) VoiceRules()
    {
        var muted = Config is { Mutes.Length: > 0 } ? members.Values.Where(m => IsMuted(m.User)).Select(m => m.Id).ToArray() : [];
        return (IsStage, IsStage ? seats.Where(s => s != 0).ToArray() : [], muted);
    }

    public MemberInfo[] Hands() => members.Values.Where(m => m.Hand).Select(Describe).ToArray();

    /// <summary>
    /// The members a stage room's <c>members</c> list and member events show (all of an open room's). Every join is
    /// answered with it, so it is kept until something the others see changes: a listener's join does not.
    /// </summary>
    public MemberInfo[] VisibleMembers() => visibleCache ??= members.Values.Where(Visible).Select(Describe).ToArray();

    /// <summary>A page of members after <paramref name="after"/> in member-id order, and the <c>after</c> of the next page.</summary>
    public (MemberInfo[] Page, uint? Next) Roster(uint after, int limit)
    {
        var page = members.Values.SkipWhile(m => m.Id <= after).Take(limit + 1).Select(Describe).ToList();
        uint? next = page.Count > limit ? page[limit - 1].Member : null;
        if (page.Count > limit) page.RemoveAt(limit);
        return ([.. page], next);
    }

    public string[] Hosts() => Config?.Hosts.Union(creators).ToArray() ?? [.. creators];

    private MemberInfo Describe(Member m) => new(m.Id, m.User, Role(m), m.Seat >= 0 ? m.Seat : null);

    private string Role(Member m) => IsHost(m) ? Roles.Host : !IsStage ? Roles.Member : m.Seat >= 0 ? Roles.Speaker : Roles.Listener;

    private bool Visible(Member m) => !IsStage || m.Seat >= 0 || IsHost(m);

    private bool IsHost(Member m) => m.ClaimsHost || IsHostUser(m.User);

    private bool IsHostUser(string user) => creators.Contains(user) || (Config is { } c && Array.IndexOf(c.Hosts, user) >= 0);

    private bool IsLocked(int seat) => Config is { } c && Array.IndexOf(c.Locks, seat) >= 0;

    /// <summary>The configuration, or an open room's made now with the creators as its hosts (a ban or a mute in an unconfigured room).</summary>
    private RoomConfig Configured() => Config ?? RoomConfig.Open([.. creators]);

    private void SetConfig(RoomConfig config)
    {
        if (config.Hosts.Length == 0 && creators.Count > 0 && !config.FromApi) config = config with { Hosts = [.. creators] };
        Config = config;
        Changes.Config = true;
    }

    private Refusal? StageOnly() => IsStage ? null : new Refusal(ErrorCodes.BadField, "seats and hands are for stage rooms");

    private static Refusal NotHost(string what) => new(ErrorCodes.Forbidden, $"only a host may {what}");

    private Refusal NoSuchSeat(int seat) => new(ErrorCodes.BadField, $"no seat {seat}: the room has seats 0-{seats.Length - 1}");

    private static Refusal NoSuchMember(uint member) => new(ErrorCodes.BadField, $"no member {member} in the room");
}

/// <summary>What one or more requests changed, for the room actor to tell the nodes, the members and the webhooks.</summary>
public sealed class ControlChanges
{
    /// <summary>Seats whose occupant, lock or mute changed (the seat row's version went up once).</summary>
    public List<int> Seats { get; } = [];

    /// <summary>Members the others now see (a new host or speaker, a listener on a seat): <c>member-joined</c>.</summary>
    public List<MemberInfo> Shown { get; } = [];

    /// <summary>Members the others no longer see: <c>member-left</c> with the reason.</summary>
    public List<(MemberInfo Member, string Reason)> Hidden { get; } = [];

    /// <summary>Shown members whose role or seat changed: <c>role</c>.</summary>
    public List<MemberInfo> Roles { get; } = [];

    /// <summary>Hands raised or lowered: <c>hand</c> to the hosts.</summary>
    public List<(MemberInfo Member, bool Raised)> Hands { get; } = [];

    public List<(uint Member, int? Seat)> Invited { get; } = [];

    public List<uint> MutedMembers { get; } = [];

    public List<MemberInfo> Kicked { get; } = [];

    /// <summary>Who may be heard changed: every node gets the room's voice rules again.</summary>
    public bool Voice { get; set; }

    public bool Audience { get; set; }

    /// <summary>The configuration changed: replicate it before answering.</summary>
    public bool Config { get; set; }

    /// <summary>The configuration ended (a close): delete it from the replicas.</summary>
    public bool Deleted { get; set; }
}
