using AkkaVoice.Cluster.Connections;

namespace AkkaVoice.Cluster.Hub;

/// <summary>
/// One local connection's membership in one room. The hub clears <see cref="Active"/> before it sends
/// <c>left</c>, and the socket writer checks it before each frame, so no frame for a slot follows its <c>left</c>.
/// </summary>
public sealed class Membership(LocalRoom room, Session session, Outbound outbound, byte slot, uint member)
{
    private volatile bool active = true;
    private volatile uint memberId = member;

    public LocalRoom Room { get; } = room;
    public Session Session { get; } = session;

    /// <summary>The session's output, where the room's frames for this member go.</summary>
    public Outbound Outbound { get; } = outbound;
    public byte Slot { get; } = slot;

    /// <summary>The member id; it changes only if a rebuilt room had to give a new one.</summary>
    public uint Member { get => memberId; set => memberId = value; }

    public bool Active => active;

    public void Deactivate() => active = false;
}
