using System.Diagnostics;
using Akka.Actor;
using AkkaVoice.Cluster.Rooms;
using AkkaVoice.Protocol;

namespace AkkaVoice.Cluster.Connections;

/// <summary>
/// One client connection as the node sees it, independent of the socket: the socket host feeds it what
/// the client sends and drains <see cref="Outbound"/> to the client. Text goes to the connection actor;
/// voice frames are checked here, on the reader's thread, and go straight to the room actor.
/// </summary>
public sealed class Session
{
    // Slots are given out lowest-free-first, so a connection never uses more than rooms-per-connection of them.
    private readonly RoomLink?[] slots;
    private readonly Limits limits;
    private readonly long ticksPerToken;
    private double tokens;
    private long lastRefill;
    private long lastNotJoinedError, lastRateLimitedError, lastBadFrameError;

    public Session(VoiceNode node, string user, JwtIdentity? identity)
    {
        Node = node;
        User = user;
        Identity = identity;
        Id = Guid.NewGuid().ToString("N");
        limits = node.Settings.Limits;
        slots = new RoomLink?[Math.Clamp(limits.RoomsPerConnection, 1, 256)];
        Outbound = new Outbound(limits, node.Stats);
        ticksPerToken = (long)(Stopwatch.Frequency / limits.VoiceFramesPerSecond);
        tokens = limits.VoiceFrameBurst;
        lastRefill = Stopwatch.GetTimestamp();
        Outbound.EnqueueText(ServerMessages.Welcome(user, Id, node.SelfAddress.ToString()));
        Actor = node.System.ActorOf(ConnectionActor.Props(this), $"connection-{Id}");
        node.Stats.Connections.Increment();
    }

    public VoiceNode Node { get; }
    public string User { get; }
    public string Id { get; }

    /// <summary>The token's claims, or null in development mode (no secret configured).</summary>
    public JwtIdentity? Identity { get; }

    public Outbound Outbound { get; }
    public IActorRef Actor { get; }

    /// <summary>Joined rooms by slot; only the connection actor writes it.</summary>
    internal RoomLink?[] Slots => slots;

    /// <summary>The lowest slot no joined room uses, or -1 when all are taken.</summary>
    internal int FreeSlot() => Array.IndexOf(slots, null);

    /// <summary>A complete text message from the client, already checked to be valid UTF-8.</summary>
    public void OnText(ReadOnlySpan<byte> utf8)
    {
        var command = ClientMessages.Parse(utf8, out var error);
        Actor.Tell(error is null ? command : error);
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
        if (!TakeToken(now))
        {
            Node.Stats.FramesDroppedRateLimited.Increment();
            Throttled(ref lastRateLimitedError, now, ErrorCodes.RateLimited, $"more than {limits.VoiceFramesPerSecond} voice frames a second; excess dropped");
            return;
        }
        var link = slot < slots.Length ? slots[slot] : null;
        if (link is null)
        {
            Node.Stats.FramesDroppedNotJoined.Increment();
            Throttled(ref lastNotJoinedError, now, ErrorCodes.NotJoined, $"slot {slot} is not a joined room; frame dropped");
            return;
        }
        // Null while the room moves: the frame is lost, as it would be on the network during the gap.
        if (link.RoomActor is not { } room) return;
        room.Tell(new VoiceIn(link.Room, link.Membership.Member, payload.ToArray(), DateTime.UtcNow.Ticks), ActorRefs.NoSender);
        if (!room.Path.Address.HasLocalScope) Node.Stats.NodeMessagesSent.Increment();
    }

    /// <summary>The socket is gone: leave every room and forget the connection.</summary>
    public void Close()
    {
        Node.Stats.Connections.Decrement();
        Node.System.Stop(Actor);
    }

    private bool TakeToken(long now)
    {
        tokens = Math.Min(limits.VoiceFrameBurst, tokens + (double)(now - lastRefill) / ticksPerToken);
        lastRefill = now;
        if (tokens < 1) return false;
        tokens -= 1;
        return true;
    }

    private void Throttled(ref long last, long now, string code, string message)
    {
        // At most one such error a second, so a misbehaving client cannot flood its own text queue.
        if (last != 0 && now - last < Stopwatch.Frequency) return;
        last = now;
        Outbound.EnqueueText(ServerMessages.Error(code, message, null));
    }
}
