using System.Collections.Concurrent;
using AkkaVoice.Cluster.Connections;

namespace AkkaVoice.Server;

/// <summary>The node's open WebSocket connections, so that shutdown can close them all with 1001.</summary>
public sealed class Connections
{
    private readonly ConcurrentDictionary<SocketConnection, byte> open = new();

    public int Count => open.Count;

    public void Add(SocketConnection connection) => open.TryAdd(connection, 0);

    public void Remove(SocketConnection connection) => open.TryRemove(connection, out _);

    /// <summary>Asks every connection to close with 1001 and waits until they have, or the timeout passes.</summary>
    public async Task CloseAllAsync(TimeSpan timeout)
    {
        var all = open.Keys.ToArray();
        foreach (var c in all) c.Session.Outbound.RequestClose(1001, "node shutting down");
        await Task.WhenAny(Task.WhenAll(all.Select(c => c.Completion)), Task.Delay(timeout));
    }
}
