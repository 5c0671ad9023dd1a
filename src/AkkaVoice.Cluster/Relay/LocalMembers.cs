using System.Collections.Concurrent;
using AkkaVoice.Cluster.Connections;

namespace AkkaVoice.Cluster.Relay;

/// <summary>
/// The memberships of this node's connections, by room: what the relay fans a frame out to. Connection
/// actors change it as they join and leave; the relay reads an immutable array per room, so a read
/// never locks and a fan-out never sees a half-made change.
/// </summary>
public sealed class LocalMembers
{
    private readonly ConcurrentDictionary<string, Membership[]> rooms = new(StringComparer.Ordinal);
    private readonly object gate = new();

    public void Add(Membership membership)
    {
        lock (gate)
        {
            var current = rooms.TryGetValue(membership.Room, out var list) ? list : [];
            rooms[membership.Room] = [.. current, membership];
        }
    }

    public void Remove(Membership membership)
    {
        lock (gate)
        {
            if (!rooms.TryGetValue(membership.Room, out var list)) return;
            var next = Array.FindAll(list, m => !ReferenceEquals(m, membership));
            if (next.Length == 0) rooms.TryRemove(membership.Room, out _);
            else rooms[membership.Room] = next;
        }
    }

    /// <summary>The room's local memberships; empty when none.</summary>
    public Membership[] Of(string room) => rooms.TryGetValue(room, out var list) ? list : [];

    /// <summary>Rooms with at least one local member.</summary>
    public int RoomCount => rooms.Count;
}
