using System.Collections.Concurrent;
using System.Net;
using AkkaVoice.Cluster;

namespace AkkaVoice.Server;

/// <summary>
/// The edge limits of PROTOCOL.md section 11: at most <see cref="NodeOptions.MaxConnections"/> WebSockets on
/// the node and, when set, <see cref="NodeOptions.MaxConnectionsPerIp"/> per client address. A slot is taken
/// only once a complete upgrade request has arrived (a request slower than Kestrel's header timeout never
/// gets one) and is held for the socket's life.
/// </summary>
public sealed class EdgeLimits(NodeOptions options, NodeStats stats)
{
    private readonly ConcurrentDictionary<IPAddress, int> perAddress = new();
    private int total;

    /// <summary>A slot for a connection from <paramref name="client"/>, or null with the refusal counted and named in <paramref name="reason"/>.</summary>
    public Slot? TryTake(IPAddress client, out string reason)
    {
        if (Interlocked.Increment(ref total) > options.MaxConnections)
        {
            Interlocked.Decrement(ref total);
            stats.ConnectionsRefusedNodeLimit.Increment();
            reason = $"this node holds its maximum of {options.MaxConnections} connections";
            return null;
        }
        if (options.MaxConnectionsPerIp > 0 && perAddress.AddOrUpdate(client, 1, (_, n) => n + 1) > options.MaxConnectionsPerIp)
        {
            Release(client);
            Interlocked.Decrement(ref total);
            stats.ConnectionsRefusedPerIp.Increment();
            reason = $"this address holds its maximum of {options.MaxConnectionsPerIp} connections";
            return null;
        }
        reason = "";
        return new Slot(this, client);
    }

    /// <summary>
    /// The client's address: the peer's, or, when the peer is a trusted proxy, the right-most address of
    /// <c>X-Forwarded-For</c> that is not itself a trusted proxy (the left-most when all are).
    /// </summary>
    public IPAddress ClientOf(HttpContext context)
    {
        var peer = Normal(context.Connection.RemoteIpAddress ?? IPAddress.None);
        if (!Trusted(peer)) return peer;
        var forwarded = context.Request.Headers["X-Forwarded-For"].ToString()
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var client = peer;
        for (int i = forwarded.Length - 1; i >= 0; i--)
        {
            if (!IPAddress.TryParse(forwarded[i], out var hop)) break;
            client = Normal(hop);
            if (!Trusted(client)) break;
        }
        return client;
    }

    private bool Trusted(IPAddress address) => options.TrustedProxies.Any(n => n.Contains(address));

    private static IPAddress Normal(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private void Return(IPAddress client)
    {
        if (options.MaxConnectionsPerIp > 0) Release(client);
        Interlocked.Decrement(ref total);
    }

    private void Release(IPAddress client)
    {
        while (true)
        {
            var n = perAddress[client];
            if (n == 1 ? perAddress.TryRemove(new KeyValuePair<IPAddress, int>(client, 1)) : perAddress.TryUpdate(client, n - 1, n)) return;
        }
    }

    /// <summary>One held connection; disposing gives the slot back.</summary>
    public sealed class Slot(EdgeLimits limits, IPAddress client) : IDisposable
    {
        private int disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) != 0) return;
            limits.Return(client);
        }
    }
}
