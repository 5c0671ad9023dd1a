namespace AkkaVoice.Cluster.Rooms;

/// <summary>
/// What a room tells the application about itself (PROTOCOL section 10). A room emits each event once, in the
/// order it happened, to its own node's event sink (the webhook dispatcher when webhooks are configured,
/// <c>ActorRefs.Nobody</c> otherwise) and never waits for it. The sink adds the event's <c>id</c> and <c>node</c>.
/// </summary>
public interface IRoomEvent
{
    string Room { get; }

    /// <summary>When it happened, Unix milliseconds.</summary>
    long Time { get; }

    /// <summary>The event's name on the wire (<c>room.started</c>, <c>member.joined</c>, ...).</summary>
    string Event { get; }
}

/// <summary>The events of PROTOCOL section 10, one record each.</summary>
public static class RoomEvents
{
    /// <summary>A room got its first member.</summary>
    public sealed record Started(string Room, long Time) : IRoomEvent
    {
        public string Event => "room.started";
    }

    /// <summary>A room's last member left (<c>empty</c>), or it was closed by a host (<c>closed</c>) or the API (<c>deleted</c>).</summary>
    public sealed record Finished(string Room, long Time, string Reason) : IRoomEvent
    {
        public string Event => "room.finished";
    }

    /// <summary>A membership began; <paramref name="Role"/> as in <c>joined</c>.</summary>
    public sealed record MemberJoined(string Room, long Time, uint Member, string User, string Role) : IRoomEvent
    {
        public string Event => "member.joined";
    }

    /// <summary>A membership ended; <paramref name="Reason"/> as in <c>member-left</c>.</summary>
    public sealed record MemberLeft(string Room, long Time, uint Member, string User, string Reason) : IRoomEvent
    {
        public string Event => "member.left";
    }

    /// <summary>A seat's occupant, lock or mute changed; <paramref name="User"/> is null for an empty seat.</summary>
    public sealed record SeatChanged(string Room, long Time, int Seat, string? User, bool Locked, bool Muted) : IRoomEvent
    {
        public string Event => "seat.changed";
    }

    /// <summary>One member as a rehomed room knows it.</summary>
    public sealed record RehomedMember(uint Member, string User, string Role, int? Seat);

    /// <summary>The room started on another node after its home died; <paramref name="Members"/> is its whole membership there.</summary>
    public sealed record Rehomed(string Room, long Time, RehomedMember[] Members) : IRoomEvent
    {
        public string Event => "room.rehomed";
    }
}
