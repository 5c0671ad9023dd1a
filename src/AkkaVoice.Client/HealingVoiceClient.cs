using System.Net.WebSockets;
using System.Text.Json;

namespace AkkaVoice.Client;

/// <summary>Settings of a <see cref="HealingVoiceClient"/>.</summary>
public sealed record HealingOptions
{
    /// <summary>The nodes to use, as <c>ws://host:port/ws?...</c> addresses; the client starts on <see cref="FirstNode"/> and moves on round-robin.</summary>
    public required IReadOnlyList<Uri> Nodes { get; init; }

    /// <summary>Index in <see cref="Nodes"/> of the node to connect to first.</summary>
    public int FirstNode { get; init; }

    /// <summary>A JWT presented as <c>Authorization: Bearer</c>, when the nodes require one.</summary>
    public string? Bearer { get; init; }

    /// <summary>The first reconnect goes at once; the second waits about this long, each further one doubles it, up to <see cref="BackoffMax"/>.</summary>
    public TimeSpan BackoffBase { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest wait between two reconnect attempts.</summary>
    public TimeSpan BackoffMax { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>After this long without any traffic from the server the client sends a <c>ping</c>.</summary>
    public TimeSpan PingAfter { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>A server that sends nothing at all for this long after the client's ping is taken for dead, and the client moves on.</summary>
    public TimeSpan SilenceTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>How long to wait for <c>joined</c> before asking again (a join sent while a room moves can be lost).</summary>
    public TimeSpan JoinTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long to wait for the WebSocket upgrade and the <c>welcome</c>.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>After a rejoin, how long to wait for the seat held before the loss to be freed by its old membership (the cluster declares a dead node lost within seconds).</summary>
    public TimeSpan SeatReclaimTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Called on the reader's thread for each voice frame.</summary>
    public Action<FrameEvent>? OnFrame { get; init; }

    /// <summary>Called for each text message the server sends (on the client's reading task, in order).</summary>
    public Action<TextEvent>? OnText { get; init; }
}

/// <summary>The connection was lost and the client is about to try again: why, and which attempt this is (from 1).</summary>
public sealed record Reconnecting(string Reason, int Attempt, TimeSpan Delay, Uri Next);

/// <summary>The client is connected again, to <paramref name="Node"/> (its address in the options) whose akka address is <paramref name="AkkaNode"/>.</summary>
public sealed record Reconnected(Uri Node, string? AkkaNode, int Attempts);

/// <summary>
/// A room joined again after a reconnect; <paramref name="Recovered"/> says whether every <c>said</c> after the
/// last one seen was replayed. <paramref name="Seat"/> is the mic seat held before the loss, if any, and
/// <paramref name="SeatBack"/> whether it was taken back (false: someone else is on it, it is locked, or refused).
/// </summary>
public sealed record Rejoined(string Room, bool Recovered, byte Slot, uint Member, Role Role = Role.Member, int? Seat = null, bool SeatBack = false);

/// <summary>
/// A client that heals itself: on a lost connection, or a server that went silent, it reconnects to the
/// next node with exponential backoff and jitter, rejoins every room it had joined (with <c>since</c>, the
/// last <c>said</c> seq it saw, so chat is replayed) and tells the application through events. Voice frames
/// sent while it is disconnected are dropped, never queued: late voice is worse than none. In a stage room
/// it rejoins with the role the server gives it, and takes back the seat it held when the seat list still
/// shows that seat free or its own. A connection the server closes with 4001 (the server API's disconnect)
/// is not reconnected: the client stops and raises <see cref="OnClosed"/>.
/// </summary>
public sealed partial class HealingVoiceClient : IAsyncDisposable
{
    private readonly HealingOptions options;
    private readonly CancellationTokenSource stop = new();
    private readonly Lock gate = new();
    private readonly Dictionary<string, RoomState> rooms = new(StringComparer.Ordinal);
    private volatile VoiceClient? current;
    private volatile bool connected;
    private volatile string? moving;
    private int node;
    private long lastTraffic;
    private Task? supervisor;

    private sealed class RoomState
    {
        public byte Slot;
        public uint Member;
        public long LastSeq;
        public TextEvent? LastJoined;
        public TaskCompletionSource<TextEvent>? Waiter;
        public StageOptions? Stage;
        public string Kind = "open";
        public Role Role;
        public SeatMode? Mode;
        public IReadOnlyList<Seat> Seats = [];
        public long SeatsVersion;
        public int Audience;
        public bool Muted;
        public readonly Dictionary<uint, string> Hands = [];

        public int? Seat => Seats.FirstOrDefault(s => s.Member == Member)?.Number;
    }

    public HealingVoiceClient(HealingOptions options)
    {
        if (options.Nodes.Count == 0) throw new ArgumentException("at least one node is needed", nameof(options));
        if (options.FirstNode < 0 || options.FirstNode >= options.Nodes.Count) throw new ArgumentOutOfRangeException(nameof(options), "FirstNode is not an index of Nodes");
        if (options.BackoffBase <= TimeSpan.Zero || options.BackoffMax < options.BackoffBase) throw new ArgumentException("BackoffBase must be positive and at most BackoffMax", nameof(options));
        this.options = options;
        node = options.FirstNode;
    }

    /// <summary>The connection was lost; the client waits <see cref="Reconnecting.Delay"/> and then tries <see cref="Reconnecting.Next"/>.</summary>
    public event Action<Reconnecting>? OnReconnecting;

    /// <summary>The client is connected again (before its rooms are rejoined).</summary>
    public event Action<Reconnected>? OnReconnected;

    /// <summary>A room was joined again after a reconnect.</summary>
    public event Action<Rejoined>? OnRejoined;

    /// <summary>True while a connection is open and every room is joined on it.</summary>
    public bool IsConnected
    {
        get => connected;
        private set => connected = value;
    }

    /// <summary>The settings the client was made with.</summary>
    public HealingOptions Options => options;

    /// <summary>The node currently used (its address in the options).</summary>
    public Uri Node => options.Nodes[Volatile.Read(ref node)];

    /// <summary>The akka address of the node, from its last <c>welcome</c>.</summary>
    public string? AkkaNode { get; private set; }

    /// <summary>How many times the client has reconnected.</summary>
    public int Reconnects { get; private set; }

    /// <summary>Connects to the first node (trying the others, with backoff, until one answers).</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stop.Token);
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await OpenAsync(linked.Token);
                break;
            }
            catch (Exception e) when (IsConnectFailure(e) && !linked.IsCancellationRequested)
            {
                var delay = Backoff(attempt);
                Advance();
                OnReconnecting?.Invoke(new Reconnecting("connect failed: " + e.Message, attempt, delay, Node));
                await Task.Delay(delay, linked.Token);
            }
        }
        IsConnected = true;
        supervisor = Task.Run(SuperviseAsync);
    }

    /// <summary>
    /// Moves to node <paramref name="index"/> of the options' nodes: drops the connection and reconnects
    /// there, rejoining every room, as after a failure (a drain, or putting clients back where they were).
    /// </summary>
    public void MoveTo(int index)
    {
        if (index < 0 || index >= options.Nodes.Count) throw new ArgumentOutOfRangeException(nameof(index), "not an index of Nodes");
        if (supervisor is null) throw new InvalidOperationException("not connected");
        // The reconnect advances to the next node first.
        Volatile.Write(ref node, (index - 1 + options.Nodes.Count) % options.Nodes.Count);
        moving = $"moved to {options.Nodes[index]}";
        current?.Socket.Abort();
    }

    /// <summary>
    /// Joins <paramref name="room"/> (asking again until answered) and returns the <c>joined</c> message; when
    /// the connection is lost meanwhile, the answer of the rejoin on the next connection.
    /// </summary>
    public Task<TextEvent> JoinAsync(string room, CancellationToken cancellationToken = default) => JoinAsync(room, null, cancellationToken);

    /// <summary>
    /// Joins <paramref name="room"/>; with <paramref name="stage"/>, a host creates a stage room when the room has
    /// no members and no configuration (otherwise the room is joined as it is). The stage is asked for again on
    /// every rejoin, so a room lost with all its members comes back as the stage it was.
    /// </summary>
    public async Task<TextEvent> JoinAsync(string room, StageOptions? stage, CancellationToken cancellationToken = default)
    {
        var client = current ?? throw new InvalidOperationException("not connected");
        lock (gate)
        {
            if (!rooms.ContainsKey(room)) rooms[room] = new RoomState();
            if (stage is not null) rooms[room].Stage = stage;
        }
        try
        {
            return await JoinOnAsync(client, room, null, cancellationToken);
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException && !cancellationToken.IsCancellationRequested && !stop.IsCancellationRequested)
        {
            // The connection was lost while joining: the reconnect rejoins the room; its answer is ours.
            while (true)
            {
                lock (gate)
                {
                    if (!rooms.TryGetValue(room, out var state)) throw new InvalidOperationException($"room {room} was left");
                    if (IsConnected && state.Waiter is null && state.LastJoined is { } joined) return joined;
                }
                await Task.Delay(50, cancellationToken);
            }
        }
    }

    /// <summary>Leaves <paramref name="room"/>: it is no longer rejoined after a reconnect.</summary>
    public async Task LeaveAsync(string room)
    {
        lock (gate) rooms.Remove(room);
        if (current is { } client) await Try(() => client.SendAsync(new { type = "leave", room }));
    }

    /// <summary>The slot of a joined room on the current connection (it may change after a reconnect), or null.</summary>
    public byte? SlotOf(string room)
    {
        lock (gate) return rooms.TryGetValue(room, out var r) && r.Waiter is null ? r.Slot : null;
    }

    /// <summary>The highest <c>said</c> seq seen in <paramref name="room"/>.</summary>
    public long LastSeqOf(string room)
    {
        lock (gate) return rooms.TryGetValue(room, out var r) ? r.LastSeq : 0;
    }

    /// <summary>Sends one voice frame for <paramref name="room"/>; false (the frame is dropped) while disconnected or rejoining.</summary>
    public async Task<bool> SendFrameAsync(string room, ReadOnlyMemory<byte> payload)
    {
        var client = current;
        if (client is null || !IsConnected || SlotOf(room) is not { } slot) return false;
        return await Try(() => client.SendFrameAsync(slot, payload));
    }

    /// <summary>Sends a whole binary message as it is (<c>[slot][payload]</c>); false while disconnected.</summary>
    public async Task<bool> SendRawFrameAsync(ReadOnlyMemory<byte> message)
    {
        var client = current;
        if (client is null || !IsConnected) return false;
        return await Try(() => client.SendAsync(message, WebSocketMessageType.Binary));
    }

    /// <summary>Sends a command object as JSON; false while disconnected.</summary>
    public async Task<bool> SendAsync(object command)
    {
        var client = current;
        if (client is null) return false;
        return await Try(() => client.SendAsync(command));
    }

    public async ValueTask DisposeAsync()
    {
        FailPending(new ObjectDisposedException(nameof(HealingVoiceClient)));
        await stop.CancelAsync();
        if (current is { } client) await client.DisposeAsync();
        if (supervisor is not null)
        {
            try { await supervisor; } catch (OperationCanceledException) { }
        }
        stop.Dispose();
    }

    private async Task OpenAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        VoiceClient client;
        try
        {
            client = await VoiceClient.ConnectAsync(Node, options.Bearer, keepFrames: false, onFrame: OnFrame, cancellationToken: timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no WebSocket upgrade from {Node} within {options.ConnectTimeout}");
        }
        try
        {
            var welcome = await client.ExpectAsync("welcome", options.ConnectTimeout);
            AkkaNode = welcome.Str("node");
            User = welcome.Str("user");
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
        Touch();
        current = client;
    }

    /// <summary>Watches the connection; when it ends or goes silent, reconnects with backoff and rejoins every room.</summary>
    private async Task SuperviseAsync()
    {
        var client = current!;
        var watching = WatchAsync(client);
        while (true)
        {
            var (reason, code) = await watching;
            if (moving is { } moved)
            {
                reason = moved;
                code = null;
                moving = null;
            }
            IsConnected = false;
            await client.DisposeAsync();
            CancelWaiters();
            FailPending(new WebSocketException("connection lost: " + reason));
            if (stop.IsCancellationRequested) return;
            if (code == CloseDisconnected)
            {
                // The application's backend ended this user's connection: reconnecting would undo it.
                ClosedBy = new Closed(code, lastCloseReason ?? "");
                OnClosed?.Invoke(ClosedBy);
                return;
            }
            for (int attempt = 1; ; attempt++)
            {
                var delay = Backoff(attempt);
                Advance();
                OnReconnecting?.Invoke(new Reconnecting(reason, attempt, delay, Node));
                try
                {
                    await Task.Delay(delay, stop.Token);
                    await OpenAsync(stop.Token);
                    Reconnects++;
                    OnReconnected?.Invoke(new Reconnected(Node, AkkaNode, attempt));
                    break;
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e) when (IsConnectFailure(e))
                {
                    reason = "connect failed: " + e.Message;
                }
            }
            client = current!;
            // Read while rejoining: the joined answers arrive on this connection.
            watching = WatchAsync(client);
            await RejoinAllAsync(client, watching);
        }
    }

    /// <summary>Rejoins every room on <paramref name="client"/>, until all are joined or the connection ends.</summary>
    private async Task RejoinAllAsync(VoiceClient client, Task<(string Reason, int? Code)> watching)
    {
        List<(string Room, long Since, int? Seat)> toJoin;
        lock (gate) toJoin = rooms.Select(kv => (kv.Key, kv.Value.LastSeq, kv.Value.Seat)).ToList();
        var joins = toJoin.Select(async r =>
        {
            var joined = await JoinOnAsync(client, r.Room, r.Since, stop.Token);
            var recovered = joined.Json.TryGetProperty("recovered", out var rec) && rec.ValueKind == JsonValueKind.True;
            var rejoined = new Rejoined(r.Room, recovered, (byte)joined.Num("slot"), (uint)joined.Num("member"), StageJson.ParseRole(joined.Str("role")), r.Seat);
            if (r.Seat is not { } seat)
            {
                OnRejoined?.Invoke(rejoined);
                return;
            }
            // Taking the seat back can wait for the cluster to declare the old node lost; voice and the other
            // rooms do not wait for it: the room's Rejoined is raised when it is settled.
            _ = Task.Run(async () => OnRejoined?.Invoke(rejoined with { SeatBack = await ReclaimSeatAsync(client, r.Room, seat) }));
        }).ToList();
        var all = Task.WhenAll(joins);
        if (await Task.WhenAny(all, watching) == all && all.IsCompletedSuccessfully)
        {
            IsConnected = true;
            return;
        }
        // The connection ended first (its waiters are cancelled) or a room refused us: the next reconnect tries again.
        _ = all.ContinueWith(t => t.Exception, TaskScheduler.Default);
        if (!watching.IsCompleted) client.Socket.Abort();
    }

    private void CancelWaiters()
    {
        lock (gate)
        {
            foreach (var r in rooms.Values)
            {
                r.Waiter?.TrySetCanceled();
                r.Waiter = null;
            }
        }
    }

    private async Task<TextEvent> JoinOnAsync(VoiceClient client, string room, long? since, CancellationToken cancellationToken)
    {
        while (true)
        {
            var waiter = new TaskCompletionSource<TextEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (gate)
            {
                if (!rooms.TryGetValue(room, out var state)) throw new InvalidOperationException($"room {room} was left");
                state.Waiter = waiter;
            }
            var reference = "join:" + room;
            StageOptions? stage;
            lock (gate) stage = rooms.TryGetValue(room, out var s) ? s.Stage : null;
            var join = new Dictionary<string, object> { ["type"] = "join", ["room"] = room, ["ref"] = reference };
            if (since is not null) join["since"] = since;
            if (stage is not null) join["stage"] = new Dictionary<string, object> { ["seats"] = stage.Seats, ["seatMode"] = stage.Mode.Name() };
            await client.SendAsync(join);
            var done = await Task.WhenAny(waiter.Task, Task.Delay(options.JoinTimeout, cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
            if (done == waiter.Task) return await waiter.Task;
            if (client.Socket.State != WebSocketState.Open) throw new WebSocketException("connection closed while joining " + room);
        }
    }

    /// <summary>Handles the connection's text until it closes or goes silent; returns why it ended.</summary>
    private async Task<(string Reason, int? Code)> WatchAsync(VoiceClient client)
    {
        long pingAt = 0;
        var tick = TimeSpan.FromMilliseconds(100);
        while (!stop.IsCancellationRequested)
        {
            ServerEvent e;
            try
            {
                e = await client.ReceiveAsync(tick);
            }
            catch (TimeoutException)
            {
                var quiet = System.Diagnostics.Stopwatch.GetElapsedTime(Volatile.Read(ref lastTraffic));
                if (pingAt != 0 && Volatile.Read(ref lastTraffic) < pingAt && System.Diagnostics.Stopwatch.GetElapsedTime(pingAt) > options.SilenceTimeout)
                {
                    client.Socket.Abort();
                    return ($"server silent for {quiet.TotalSeconds:0.0} s after a ping", null);
                }
                if (quiet > options.PingAfter && (pingAt == 0 || Volatile.Read(ref lastTraffic) >= pingAt))
                {
                    pingAt = System.Diagnostics.Stopwatch.GetTimestamp();
                    _ = Try(() => client.SendAsync(new { type = "ping" }));
                }
                continue;
            }
            catch (InvalidOperationException)
            {
                return ("connection ended", null);
            }
            Touch();
            switch (e)
            {
                case ClosedEvent c:
                    lastCloseReason = c.Reason;
                    return c.Status is { } status ? ($"closed {(int)status} {c.Reason}", (int)status) : ($"connection broken: {c.Reason}", null);
                case TextEvent t:
                    OnTextEvent(t);
                    break;
            }
        }
        return ("stopped", null);
    }

    private void OnTextEvent(TextEvent t)
    {
        switch (t.Type)
        {
            case "joined" when t.Str("room") is { } room:
                lock (gate)
                {
                    if (rooms.TryGetValue(room, out var state))
                    {
                        state.Slot = (byte)t.Num("slot");
                        state.Member = (uint)t.Num("member");
                        state.LastSeq = Math.Max(state.LastSeq, t.Json.TryGetProperty("seq", out var seq) ? seq.GetInt64() : 0);
                        state.LastJoined = t;
                        OnJoinedStage(state, t);
                        var waiter = state.Waiter;
                        state.Waiter = null;
                        waiter?.TrySetResult(t);
                    }
                }
                break;
            case "said" when t.Str("room") is { } room:
                lock (gate)
                {
                    if (rooms.TryGetValue(room, out var state)) state.LastSeq = Math.Max(state.LastSeq, t.Num("seq"));
                }
                break;
            case "error" when t.Str("ref") is { } reference && reference.StartsWith("join:", StringComparison.Ordinal):
                lock (gate)
                {
                    if (rooms.TryGetValue(reference[5..], out var state))
                    {
                        var waiter = state.Waiter;
                        state.Waiter = null;
                        waiter?.TrySetException(new InvalidOperationException($"join of {reference[5..]} refused: {t.Str("code")} {t.Str("message")}"));
                    }
                }
                break;
        }
        OnStageText(t);
        CompletePending(t);
        options.OnText?.Invoke(t);
    }

    private void OnFrame(FrameEvent frame)
    {
        Touch();
        options.OnFrame?.Invoke(frame);
    }

    private void Touch() => Volatile.Write(ref lastTraffic, System.Diagnostics.Stopwatch.GetTimestamp());

    private void Advance() => Volatile.Write(ref node, (node + 1) % options.Nodes.Count);

    /// <summary>
    /// The first attempt goes at once (to the next node: the last one just failed); then exponential backoff
    /// with jitter: attempt n waits a random time between half and all of base * 2^(n-2), capped at the maximum.
    /// </summary>
    private TimeSpan Backoff(int attempt)
    {
        if (attempt <= 1) return TimeSpan.Zero;
        var ceiling = Math.Min(options.BackoffMax.TotalMilliseconds, options.BackoffBase.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 2, 30)));
        return TimeSpan.FromMilliseconds(ceiling / 2 + Random.Shared.NextDouble() * ceiling / 2);
    }

    private static bool IsConnectFailure(Exception e) =>
        e is WebSocketException or TimeoutException or HttpRequestException or InvalidOperationException or IOException;

    private static async Task<bool> Try(Func<Task> send)
    {
        try
        {
            await send();
            return true;
        }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException or InvalidOperationException or IOException or OperationCanceledException)
        {
            return false;
        }
    }
}
