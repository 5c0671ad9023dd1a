namespace AkkaVoice.Cluster.Connections;

/// <summary>
/// One local connection's membership in one room, as the node relay sees it. The connection actor
/// clears <see cref="Active"/> before it sends <c>left</c>, and the socket writer checks it before
/// each frame, so no frame for a slot follows its <c>left</c>.
/// </summary>
public sealed class Membership(string room, byte slot, uint member, Outbound outbound)
{
    private volatile bool active = true;
    private volatile uint memberId = member;

    public string Room { get; } = room;
    public byte Slot { get; } = slot;
    public Outbound Outbound { get; } = outbound;

    /// <summary>The member id; it changes only if a restarted room had to give a new one.</summary>
    public uint Member { get => memberId; set => memberId = value; }

    public bool Active => active;

    public void Deactivate() => active = false;
}
