using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster.Sharding;
using AkkaVoice.Cluster;
using AkkaVoice.Server.Bootstrap;

namespace AkkaVoice.Server;

/// <summary>
/// The node's life around the actor system that Akka.Hosting runs: the port check before remoting binds,
/// joining the cluster once the node's actors run, readiness, and one way out. Closing every socket with
/// 1001 is a coordinated-shutdown task, so SIGTERM, a drain (<c>POST /admin/leave</c>) and a downing
/// (<c>run-coordinated-shutdown-when-down</c>) all close the clients the same way: a graceful leave once the
/// shard regions have handed the rooms off (phase cluster-leave), a downing at once (before-service-unbind).
/// </summary>
public sealed partial class NodeLifecycle(NodeSettings settings, Connections connections, ILogger<NodeLifecycle> logger)
    : IHostedLifecycleService
{
    private VoiceNode? node;
    private volatile bool ready;
    private volatile bool stopping;
    private int socketsClosed;

    /// <summary>The running node; available once the actor system has started.</summary>
    public VoiceNode Node => node ?? throw new InvalidOperationException("the node has not started");

    /// <summary>The node, or null before start (the bootstrap contact point answers before the node runs).</summary>
    public VoiceNode? NodeOrNull => node;

    /// <summary>True once this node is Up and its room shard region answers; false again from the start of shutdown.</summary>
    public bool Ready => ready && !Stopping;

    /// <summary>True from the start of shutdown, whatever started it.</summary>
    public bool Stopping => stopping || node is { } n && CoordinatedShutdown.Get(n.System).ShutdownReason is not null;

    /// <summary>Runs before any hosted service starts, so before Kestrel and remoting bind.</summary>
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        EnsurePortsFree();
        return Task.CompletedTask;
    }

    /// <summary>The node's actors run (Akka.Hosting's actor starters); the cluster is joined next, in <see cref="JoinAsync"/>.</summary>
    public void Started(VoiceNode started)
    {
        node = started;
        var shutdown = CoordinatedShutdown.Get(started.System);
        // A graceful leave keeps the sockets open while the shard regions hand the node's rooms off: the rooms'
        // new homes probe this node's hub too, so its members follow them and voice goes on; the clients then
        // reconnect elsewhere to rooms that already run there. A node that is downed has no one to hand off
        // to, so it closes the sockets at once.
        shutdown.AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "close-sockets", () =>
        {
            stopping = true;
            var reason = shutdown.ShutdownReason;
            bool handOffFirst = reason is CoordinatedShutdown.ClrExitReason or CoordinatedShutdown.ClusterLeavingReason;
            LogStopping(connections.Count, reason?.GetType().Name ?? "unknown",
                handOffFirst ? "handing its rooms off, then closing" : "closing");
            return handOffFirst ? Task.FromResult(Akka.Done.Instance) : CloseSocketsAsync();
        });
        shutdown.AddTask(CoordinatedShutdown.PhaseClusterLeave, "close-sockets-after-handoff", CloseSocketsAsync);
    }

    private async Task<Akka.Done> CloseSocketsAsync()
    {
        if (Interlocked.Exchange(ref socketsClosed, 1) == 0) await connections.CloseAllAsync(settings.Server.CloseTimeout);
        return Akka.Done.Instance;
    }

    /// <summary>Joins the seeds, or itself when there are none, or the cluster that bootstrap finds when it is on.</summary>
    public async Task JoinAsync(ActorSystem system)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        string joining;
        if (ContactPoint.Resolve(settings.Node, settings.Hocon) is { } contactPoint)
        {
            // Kestrel serves the contact point (VoiceHost maps it); bootstrap probes the other pods' contact
            // points and joins the cluster they report, or forms it if none exists and this node is lowest.
            await contactPoint.StartBootstrapAsync(system);
            joining = $"through cluster bootstrap (contact point {contactPoint.SelfBaseUri})";
        }
        else
        {
            // With seeds (WithClustering) the cluster extension joins them by itself; without, the node is its own cluster.
            if (settings.Node.Seeds.Count == 0) cluster.Join(cluster.SelfAddress);
            joining = settings.Node.Seeds.Count == 0 ? "itself (a cluster of its own)" : "seeds " + string.Join(",", settings.Node.Seeds);
        }

        LogStarted(cluster.SelfAddress.ToString(), joining, settings.Voice.Routing.ToString());
        if (settings.Node is { JwtSecret: null, JwtPublicKey: null, JwtJwksFile: null }) LogAuthenticationOff();
        cluster.RegisterOnMemberUp(() => _ = WaitForShardRegionAsync());
    }

    /// <summary>
    /// Runs before Kestrel stops (Kestrel waits for open requests, and a WebSocket is one until it closes):
    /// starts coordinated shutdown, whose first task closes the sockets, and waits until the node has left
    /// the cluster. When a downing started it already, this only waits for the same run.
    /// </summary>
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        stopping = true;
        if (node is null) return;
        await CoordinatedShutdown.Get(node.System).Run(CoordinatedShutdown.ClrExitReason.Instance);
        LogStopped();
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Remoting binds with SO_REUSEADDR, which .NET on Linux also turns into SO_REUSEPORT: a second node
    /// given a port another node already listens on would start without error and take half of that
    /// node's inbound connections, so its peers would see two systems behind one address and quarantine
    /// one. This probe binds each port with address reuse only (restarts over TIME_WAIT still work) and
    /// fails the start with the reason instead. The HTTP port is probed too, so that a node whose Kestrel
    /// could not bind never joins its cluster first.
    /// </summary>
    private void EnsurePortsFree()
    {
        var options = settings.Node;
        var address = IPAddress.TryParse(options.Bind, out var ip) ? ip : Dns.GetHostAddresses(options.Bind)[0];
        foreach (var (port, name) in new[] { (options.AkkaPort, "akka"), (options.HttpPort, "http") })
        {
            if (port == 0) continue;
            using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            if (OperatingSystem.IsWindows()) probe.ExclusiveAddressUse = true;
            else probe.SetRawSocketOption(SolSocket, SoReuseAddr, BitConverter.GetBytes(1));
            try
            {
                probe.Bind(new IPEndPoint(address, port));
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                throw new IOException($"{name} port {port} on {options.Bind} is already in use (another node?); choose another --{name}-port", e);
            }
        }
    }

    // SOL_SOCKET and SO_REUSEADDR: 1 and 2 on Linux, 0xffff and 4 on macOS and the BSDs.
    private static int SolSocket => OperatingSystem.IsLinux() ? 1 : 0xffff;
    private static int SoReuseAddr => OperatingSystem.IsLinux() ? 2 : 4;

    private async Task WaitForShardRegionAsync()
    {
        // The region answers GetCurrentRegions only through the coordinator, so an answer means rooms can be placed.
        while (!Stopping)
        {
            try
            {
                await Node.Rooms.Ask<CurrentRegions>(GetCurrentRegions.Instance, settings.Server.ReadyProbeTimeout);
                ready = true;
                LogReady(Node.SelfAddress.ToString());
                return;
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
            {
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "AkkaVoice node {Node} started; joins {Joining}; routing {Routing}")]
    private partial void LogStarted(string node, string joining, string routing);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Authentication is off: no JWT secret is configured, clients name themselves with ?user=")]
    private partial void LogAuthenticationOff();

    [LoggerMessage(Level = LogLevel.Information, Message = "Node {Node} is ready: Up, shard region reachable")]
    private partial void LogReady(string node);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutting down ({Reason}): {How} {Connections} connections with 1001, then leaving the cluster")]
    private partial void LogStopping(int connections, string reason, string how);

    [LoggerMessage(Level = LogLevel.Information, Message = "Left the cluster; shutdown complete")]
    private partial void LogStopped();
}
