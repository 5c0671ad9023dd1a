using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using AkkaVoice.Cluster;
using AkkaVoice.Server.Bootstrap;

namespace AkkaVoice.Server;

/// <summary>
/// Owns the node's ActorSystem: starts it (joining the seeds, or itself when there are none, or through
/// cluster bootstrap when <c>akkavoice.bootstrap.enabled</c> is on), tracks readiness, and on shutdown
/// closes every socket with 1001 and then leaves the cluster through coordinated shutdown, so the node's
/// rooms are handed off before the process exits.
/// </summary>
public sealed partial class AkkaService(NodeOptions options, Akka.Configuration.Config config, Connections connections, NodeStats stats,
    IHostApplicationLifetime lifetime, ILogger<AkkaService> logger) : IHostedLifecycleService
{
    private VoiceNode? node;
    private volatile bool ready;
    private volatile bool stopping;

    /// <summary>The running node; available once the host has started.</summary>
    public VoiceNode Node => node ?? throw new InvalidOperationException("the node has not started");

    /// <summary>True once this node is Up and its room shard region answers; false again from the start of shutdown.</summary>
    public bool Ready => ready && !stopping;

    public bool Stopping => stopping;

    /// <summary>The node, or null before start (the bootstrap contact point answers before the node runs).</summary>
    public VoiceNode? NodeOrNull => node;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        EnsurePortsFree();
        var system = ActorSystem.Create("akkavoice", config);
        node = VoiceNode.Start(system, stats);
        var cluster = Akka.Cluster.Cluster.Get(system);
        string joining;
        if (ContactPoint.Resolve(options, config) is { } contactPoint)
        {
            // Kestrel serves the contact point (VoiceHost maps it); bootstrap probes the other pods' contact
            // points and joins the cluster they report, or forms it if none exists and this node is lowest.
            try
            {
                await contactPoint.StartBootstrapAsync(system);
            }
            catch
            {
                await system.Terminate();
                throw;
            }
            joining = $"through cluster bootstrap (contact point {contactPoint.SelfBaseUri})";
        }
        else
        {
            // With seeds, the cluster extension joins them by itself; without, the node is its own cluster.
            if (options.Seeds.Count == 0) cluster.Join(cluster.SelfAddress);
            joining = options.Seeds.Count == 0 ? "itself (a cluster of its own)" : "seeds " + string.Join(",", options.Seeds);
        }

        LogStarted(node.SelfAddress.ToString(), joining, node.Settings.Routing.ToString());
        if (options.JwtSecret is null) LogAuthenticationOff();

        cluster.RegisterOnMemberUp(() => _ = WaitForShardRegionAsync());
        // A node that is downed or leaves on its own terminates its system; the process goes with it.
        _ = system.WhenTerminated.ContinueWith(_ =>
        {
            if (!stopping) lifetime.StopApplication();
        }, TaskScheduler.Default);
    }

    /// <summary>
    /// Runs before Kestrel stops: Kestrel waits for open requests, and a WebSocket is one until it closes,
    /// so the sockets are closed (1001) here, first.
    /// </summary>
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        stopping = true;
        LogStopping(connections.Count);
        await connections.CloseAllAsync(TimeSpan.FromSeconds(3));
    }

    /// <summary>Leaves the cluster: the node's shards hand off to their next homes before the system terminates.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (node is null) return;
        await CoordinatedShutdown.Get(node.System).Run(CoordinatedShutdown.ClusterLeavingReason.Instance);
        LogStopped();
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

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
        while (!stopping)
        {
            try
            {
                await Node.Rooms.Ask<CurrentRegions>(GetCurrentRegions.Instance, TimeSpan.FromSeconds(2));
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutting down: closing {Connections} connections with 1001, then leaving the cluster")]
    private partial void LogStopping(int connections);

    [LoggerMessage(Level = LogLevel.Information, Message = "Left the cluster; shutdown complete")]
    private partial void LogStopped();
}
