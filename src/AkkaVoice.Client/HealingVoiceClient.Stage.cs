using System.Collections.Concurrent;
using System.Text.Json;

namespace AkkaVoice.Client;

// Stage rooms, moderation and the roster (PROTOCOL.md section 8): typed requests answered by their ref,
// typed events, what the client knows of each room, and the seat taken back after a reconnect.
public sealed partial class HealingVoiceClient
{
    /// <summary>The close code of the server API's <c>disconnect</c>: the client does not reconnect after it.</summary>
    public const int CloseDisconnected = 4001;

    private readonly ConcurrentDictionary<string, TaskCompletionSource<TextEvent>> pending = new();
    private long nextRef;
    private string? lastCloseReason;

    /// <summary>A stage-room message arrived (seats, hands, invitations, mutes, kicks, roles, audience, member events).</summary>
    public event Action<StageEvent>? OnStage;

    /// <summary>The client stopped for good because the server closed it with 4001 (its reason included).</summary>
    public event Action<Closed>? OnClosed;

    /// <summary>Why the client stopped, when the server disconnected it (4001); null otherwise.</summary>
    public Closed? ClosedBy { get; private set; }

    /// <summary>The user id of the last <c>welcome</c>.</summary>
    public string? User { get; private set; }

    /// <summary>What the client knows of a joined room, or null when it is not joined.</summary>
    public RoomView? RoomOf(string room)
    {
        lock (gate)
        {
            if (!rooms.TryGetValue(room, out var r) || r.LastJoined is null) return null;
            return new RoomView(room, r.Member, r.Kind, r.Role, r.Mode, r.Seats, r.SeatsVersion, r.Seat, r.Audience,
                [.. r.Hands.Select(h => new RoomMember(h.Key, h.Value, Role.Listener, null))], r.Muted);
        }
    }

    /// <summary>Takes seat <paramref name="seat"/>, or the lowest free unlocked one; answers the seats as they are then.</summary>
    public async Task<IReadOnlyList<Seat>> TakeSeatAsync(string room, int? seat = null)
    {
        var answer = await RequestAsync(Fields("take-seat", room, ("seat", seat)));
        // `seats` when it changed something; `done` when the seat was already this member's.
        return answer.Json.TryGetProperty("seats", out var seats) ? StageJson.Seats(seats) : RoomOf(room)?.Seats ?? [];
    }

    /// <summary>Leaves the seat, back to the audience.</summary>
    public Task LeaveSeatAsync(string room) => RequestAsync(Fields("leave-seat", room));

    public Task RaiseHandAsync(string room) => RequestAsync(Fields("raise-hand", room));

    public Task LowerHandAsync(string room) => RequestAsync(Fields("lower-hand", room));

    /// <summary>Host: invites <paramref name="member"/> to <paramref name="seat"/> (any free one when null), good for 60 s.</summary>
    public Task InviteAsync(string room, uint member, int? seat = null) => RequestAsync(Fields("invite", room, ("member", member), ("seat", seat)));

    /// <summary>Host: puts <paramref name="member"/> on <paramref name="seat"/> (its occupant back to the audience).</summary>
    public Task PutOnSeatAsync(string room, int seat, uint member) => RequestAsync(Fields("set-seat", room, ("seat", seat), ("member", member)));

    /// <summary>Host: clears <paramref name="seat"/>, its speaker back to the audience.</summary>
    public Task ClearSeatAsync(string room, int seat)
    {
        var fields = Fields("set-seat", room, ("seat", seat));
        fields["member"] = null;
        return RequestAsync(fields);
    }

    /// <summary>Host: locks or unlocks <paramref name="seat"/>.</summary>
    public Task LockSeatAsync(string room, int seat, bool locked) => RequestAsync(Fields("set-seat", room, ("seat", seat), ("locked", locked)));

    /// <summary>Host: mutes or unmutes the user of <paramref name="member"/> in the room.</summary>
    public Task MuteAsync(string room, uint member, bool muted = true) => RequestAsync(Fields("mute", room, ("member", member), ("muted", muted)));

    /// <summary>Host: ends every membership of <paramref name="user"/> in the room; <paramref name="ban"/> seconds (at most 86,400) keep it out.</summary>
    public Task KickAsync(string room, string user, int? ban = null, string? reason = null) =>
        RequestAsync(Fields("kick", room, ("user", user), ("ban", ban), ("reason", reason)));

    /// <summary>Host: closes the room for every member.</summary>
    public Task CloseRoomAsync(string room) => RequestAsync(Fields("close", room));

    /// <summary>One page of the room's members in member-id order (<paramref name="limit"/> 1-200, default 100).</summary>
    public async Task<RosterPage> RosterAsync(string room, uint? after = null, int? limit = null)
    {
        var t = await RequestAsync(Fields("roster", room, ("after", after), ("limit", limit)));
        uint? next = t.Json.TryGetProperty("next", out var n) && n.ValueKind == JsonValueKind.Number ? n.GetUInt32() : null;
        return new RosterPage(room, StageJson.Members(t.Json, "members"), next);
    }

    /// <summary>
    /// Sends <paramref name="fields"/> (a request of PROTOCOL.md section 8) with a fresh <c>ref</c> and answers the
    /// message that carries it back (<c>seats</c>, <c>hand</c>, <c>done</c>, <c>roster</c>, <c>room-closed</c>); an
    /// <c>error</c> throws <see cref="VoiceErrorException"/> with its code; a lost connection throws too.
    /// </summary>
    public async Task<TextEvent> RequestAsync(Dictionary<string, object?> fields, TimeSpan? timeout = null)
    {
        var client = current ?? throw new InvalidOperationException("not connected");
        var reference = "s" + Interlocked.Increment(ref nextRef);
        var answer = new TaskCompletionSource<TextEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        pending[reference] = answer;
        fields["ref"] = reference;
        try
        {
            await client.SendAsync(fields);
            return await answer.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(10));
        }
        finally
        {
            pending.TryRemove(reference, out _);
        }
    }

    private static Dictionary<string, object?> Fields(string type, string room, params (string Name, object? Value)[] fields)
    {
        var message = new Dictionary<string, object?> { ["type"] = type, ["room"] = room };
        foreach (var (name, value) in fields)
        {
            if (value is not null) message[name] = value;
        }
        return message;
    }

    private void CompletePending(TextEvent t)
    {
        if (t.Str("ref") is not { } reference || !pending.TryRemove(reference, out var answer)) return;
        if (t.Type == "error") answer.TrySetException(new VoiceErrorException(t.Str("code") ?? "", t.Str("message") ?? ""));
        else answer.TrySetResult(t);
    }

    private void FailPending(Exception e)
    {
        foreach (var reference in pending.Keys)
        {
            if (pending.TryRemove(reference, out var answer)) answer.TrySetException(e);
        }
    }

    /// <summary>Called under the gate with each <c>joined</c> of a room.</summary>
    private static void OnJoinedStage(RoomState state, TextEvent t)
    {
        var json = t.Json;
        state.Kind = t.Str("kind") ?? "open";
        state.Role = StageJson.ParseRole(t.Str("role"));
        state.Mode = StageJson.ParseMode(t.Str("seatMode"));
        state.Seats = json.TryGetProperty("seats", out var seats) ? StageJson.Seats(seats) : [];
        state.SeatsVersion = json.TryGetProperty("seatsVersion", out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : 0;
        state.Audience = json.TryGetProperty("audience", out var a) && a.ValueKind == JsonValueKind.Number ? a.GetInt32() : 0;
        state.Muted = state.Seats.FirstOrDefault(s => s.Member == state.Member)?.Muted ?? false;
        FollowSeat(state);
        state.Hands.Clear();
        foreach (var h in StageJson.Members(json, "hands")) state.Hands[h.Member] = h.User;
    }

    /// <summary>A seat makes a stage member a speaker and leaving it a listener (hosts stay hosts): the server says so with <c>seats</c>, not <c>role</c>.</summary>
    private static void FollowSeat(RoomState state)
    {
        if (state.Kind == "stage" && state.Role != Role.Host) state.Role = state.Seat is null ? Role.Listener : Role.Speaker;
    }

    private void OnStageText(TextEvent t)
    {
        if (t.Str("room") is not { } room) return;
        var json = t.Json;
        StageEvent? e = null;
        lock (gate)
        {
            rooms.TryGetValue(room, out var state);
            switch (t.Type)
            {
                case "seats":
                    var version = json.GetProperty("version").GetInt64();
                    // Seat lists can overtake each other across nodes: only a newer version counts.
                    if (state is not null && version <= state.SeatsVersion) return;
                    var seats = StageJson.Seats(json.GetProperty("seats"));
                    if (state is not null)
                    {
                        state.Seats = seats;
                        state.SeatsVersion = version;
                        state.Muted = seats.FirstOrDefault(s => s.Member == state.Member)?.Muted ?? state.Muted;
                        FollowSeat(state);
                    }
                    e = new StageEvent.SeatsChanged(room, version, seats);
                    break;
                case "hand":
                    var hand = new StageEvent.Hand(room, json.GetProperty("member").GetUInt32(), t.Str("user") ?? "", json.GetProperty("raised").GetBoolean());
                    if (state is not null)
                    {
                        if (hand.Raised) state.Hands[hand.Member] = hand.User;
                        else state.Hands.Remove(hand.Member);
                    }
                    e = hand;
                    break;
                case "invited":
                    e = new StageEvent.Invited(room, json.TryGetProperty("seat", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt32() : null, t.Str("by") ?? "");
                    break;
                case "muted":
                    var muted = json.GetProperty("muted").GetBoolean();
                    if (state is not null) state.Muted = muted;
                    e = new StageEvent.Muted(room, muted, t.Str("by") ?? "");
                    break;
                case "kicked":
                    rooms.Remove(room);
                    e = new StageEvent.Kicked(room, t.Str("by") ?? "", t.Str("reason"));
                    break;
                case "room-closed":
                    rooms.Remove(room);
                    e = new StageEvent.RoomClosed(room, t.Str("reason") ?? "closed");
                    break;
                case "role":
                    var role = new StageEvent.RoleChanged(room, json.GetProperty("member").GetUInt32(), t.Str("user") ?? "", StageJson.ParseRole(t.Str("role")));
                    if (state is not null && role.Member == state.Member) state.Role = role.Role;
                    e = role;
                    break;
                case "audience":
                    var count = json.GetProperty("count").GetInt32();
                    if (state is not null) state.Audience = count;
                    e = new StageEvent.Audience(room, count);
                    break;
                case "member-joined":
                    e = new StageEvent.MemberJoined(room, StageJson.Member(json));
                    break;
                case "member-left":
                    e = new StageEvent.MemberLeft(room, json.GetProperty("member").GetUInt32(), t.Str("user") ?? "", t.Str("reason") ?? "left");
                    break;
            }
        }
        if (e is not null) OnStage?.Invoke(e);
    }

    /// <summary>
    /// After a rejoin: takes back <paramref name="seat"/> when the new seat list shows it free (the old membership
    /// already gone) or still this user's (the old membership not gone yet: wait for the list that frees it,
    /// as while the cluster has not yet declared a dead node lost: at most <see cref="HealingOptions.SeatReclaimTimeout"/>).
    /// Someone else on it, a lock or a refusal, and it is lost.
    /// </summary>
    private async Task<bool> ReclaimSeatAsync(VoiceClient client, string room, int seat)
    {
        var deadline = DateTime.UtcNow + options.SeatReclaimTimeout;
        while (DateTime.UtcNow < deadline && current == client && !stop.IsCancellationRequested)
        {
            Seat? now;
            long version;
            lock (gate)
            {
                if (!rooms.TryGetValue(room, out var state) || state.Kind != "stage") return false;
                if (state.Seat == seat) return true;
                now = state.Seats.FirstOrDefault(s => s.Number == seat);
                version = state.SeatsVersion;
            }
            if (now is null || now.Locked || (now.Member is not null && now.User != User)) return false;
            if (now.Member is null)
            {
                try
                {
                    await TakeSeatAsync(room, seat);
                    return true;
                }
                catch (VoiceErrorException e) when (e.Code == "seat-taken")
                {
                }
                catch (TimeoutException)
                {
                    // Unanswered: a request that reached the room while it moved is lost with its old incarnation; ask again.
                }
                catch (Exception e) when (e is VoiceErrorException or InvalidOperationException or System.Net.WebSockets.WebSocketException)
                {
                    return false;
                }
            }
            // Shown as the old membership's, or just taken: the next seat list decides.
            var wait = DateTime.UtcNow + TimeSpan.FromSeconds(1);
            while (DateTime.UtcNow < wait)
            {
                lock (gate)
                {
                    if (!rooms.TryGetValue(room, out var state) || state.SeatsVersion != version) break;
                }
                await Task.Delay(50, stop.Token);
            }
        }
        return false;
    }
}
