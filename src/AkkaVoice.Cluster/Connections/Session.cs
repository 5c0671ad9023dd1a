using System.Diagnostics;
using Akka.Actor;
using AkkaVoice.Cluster.Hub;
using AkkaVoice.Cluster.Relay;
using AkkaVoice.Cluster.Rooms;
using AkkaVoice.Protocol;

namespace AkkaVoice.Cluster.Connections;

/// <summary>
/// One client connection as the node sees it, independent of the socket: the socket host feeds it what
/// the client sends and attaches the socket as its <see cref="Outbound"/>'s sink. A session is plain state,
/// not an actor: its text requests go to the node's <see cref="NodeHub"/>, and its voice frames are handled
/// here, on the reader's thread: delivered at once to this node's other members of the room, and sent to
/// the other nodes with members (interest routing) through the relay outbox.
/// </summary>
public sealed class Session
{
    // Slots are given out lowest-free-first, so a connection never uses more than rooms-per-connection of them.
    private readonly Membership?[] slots;
    private readonly Limits limits;
    private readonly Routing routing;
    private TokenBucket voiceTokens, textTokens;
    private long lastNotJoinedError, lastRateLimitedError, lastBadFrameError, lastForbiddenError;

    public Session(VoiceNode node, string user, JwtIdentity? identity)
    {
        Node = node;
        User = user;
        Identity = identity;
        Id = Guid.NewGuid().ToString("N");
        limits = node.Settings.Limits;
        routing = node.Settings.Routing;
        slots = new Membership?[limits.RoomsPerConnection];
        Outbound = new Outbound(limits, node.Stats);
        voiceTokens = new TokenBucket(limits.VoiceFramesPerSecond, limits.VoiceFrameBurst);
        textTokens = new TokenBucket(limits.TextMessagesPerSecond, limits.TextMessageBurst);
        Outbound.EnqueueText(ServerMessages.Welcome(user, Id, node.SelfAddress.ToString()));
        node.Stats.Connections.Increment();
        node.Hub.Tell(new NodeHub.Opened(this));
    }

    public VoiceNode Node { get; }
    public string User { get; }
    public string Id { get; }

    /// <summary>The token's claims, or null in development mode (no secret configured).</summary>
    public JwtIdentity? Identity { get; }

    public Outbound Outbound { get; }

    /// <summary>Joined rooms by slot; only the hub writes it, the reader reads it for every frame.</summary>
    internal Membership?[] Slots => slots;

    /// <summary>The lowest slot no joined room uses, or -1 when all are taken.</summary>
    internal int FreeSlot() => Array.IndexOf(slots, null);

    /// <summary>A complete text message from the client, already checked to be valid UTF-8.</summary>
    public void OnText(ReadOnlySpan<byte> utf8)
    {
        var command = ClientMessages.Parse(utf8, out var error);
        if (command is PingCommand)
        {
            // Never rate-limited. Answered by the hub like every request, so a pong follows the answers to
            // the requests sent before it (clients use a ping as a barrier).
            Node.Hub.Tell(new NodeHub.Command(this, command));
            return;
        }
        if (!textTokens.TryTake(Stopwatch.GetTimestamp()))
        {
            Node.Stats.TextRateLimited.Increment();
            Outbound.EnqueueText(ServerMessages.Error(ErrorCodes.RateLimited,
                $"more than {limits.TextMessagesPerSecond} text messages a second; this one was not executed", error?.Ref ?? command?.Ref), answer: true);
            return;
        }
        if (error is not null)
        {
            Outbound.EnqueueText(ServerMessages.Error(error.Code, error.Message, error.Ref), answer: true);
            return;
        }
        Node.Hub.Tell(new NodeHub.Command(this, command!));
    }

    /// <summary>A complete binary message from the client: a voice frame.</summary>
    public void OnBinary(ReadOnlySpan<byte> frame)
    {
        long now = Stopwatch.GetTimestamp();
        if (!VoiceFrames.TryReadClientFrame(frame, out var slot, out var payload))
        {
            Throttled(ref lastBadFrameError, now, ErrorCodes.BadField, "a voice frame is a slot byte followed by 1 or more payload bytes");
            return;
        }
        Node.Stats.FramesReceived.Increment();
        if (!voiceTokens.TryTake(now))
        {
            Node.Stats.FramesDroppedRateLimited.Increment();
            Throttled(ref lastRateLimitedError, now, ErrorCodes.RateLimited, $"more than {limits.VoiceFramesPerSecond} voice frames a second; excess dropped");
            return;
        }
        var membership = slot < slots.Length ? slots[slot] : null;
        if (membership is not { Active: true })
        {
            Node.Stats.FramesDroppedNotJoined.Increment();
            Throttled(ref lastNotJoinedError, now, ErrorCodes.NotJoined, $"slot {slot} is not a joined room; frame dropped");
            return;
        }
        var room = membership.Room;
        uint speaker = membership.Member;
        // Who may speak is decided here, where the frame arrives: a listener's or muted member's frame goes nowhere.
        var verdict = room.Gate.Check(speaker);
        if (verdict != VoiceVerdict.Allowed)
        {
            if (verdict == VoiceVerdict.Muted) Node.Stats.FramesDroppedMuted.Increment();
            else Node.Stats.FramesDroppedNotSeated.Increment();
            Throttled(ref lastForbiddenError, now, ErrorCodes.Forbidden,
                verdict == VoiceVerdict.Muted ? $"you are muted in room {room.Room}; frame dropped" : $"only members on a seat speak in room {room.Room}; frame dropped");
            return;
        }
        // One copy of the payload for every receiver on every node; the reader's buffer is reused.
        var bytes = payload.ToArray();
        if (routing == Routing.Broadcast)
        {
            // The old design: every frame through the room to every node, this one included.
            if (room.RoomActor is { } home) SendToRoom(home, room, speaker, bytes);
            return;
        }
        room.FanOut(speaker, bytes);
        var relays = room.Relays;
        if (relays.Length == 0) return;
        if (routing == Routing.ViaRoom)
        {
            if (room.RoomActor is { } home) SendToRoom(home, room, speaker, bytes);
            return;
        }
        Node.Stats.NodeMessagesSent.Add(relays.Length);
        Node.Outbox.Tell(new RelayFrames(relays, new VoiceOut(room.Room, speaker, bytes, DateTime.UtcNow.Ticks)), ActorRefs.NoSender);
    }

    private void SendToRoom(IActorRef home, LocalRoom room, uint speaker, byte[] bytes)
    {
        home.Tell(new VoiceIn(room.Room, speaker, bytes, DateTime.UtcNow.Ticks), ActorRefs.NoSender);
        if (!home.Path.Address.HasLocalScope) Node.Stats.NodeMessagesSent.Increment();
    }

    /// <summary>The socket is gone: the hub leaves every room and forgets the connection.</summary>
    public void Close()
    {
        Node.Stats.Connections.Decrement();
        Node.Hub.Tell(new NodeHub.Closed(this));
    }

    private void Throttled(ref long last, long now, string code, string message)
    {
        // At most one such error a second, so a misbehaving client cannot flood its own text queue.
        if (last != 0 && now - last < Stopwatch.Frequency) return;
        last = now;
        Outbound.EnqueueText(ServerMessages.Error(code, message, null), answer: true);
    }
}
