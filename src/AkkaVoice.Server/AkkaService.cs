using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using AkkaVoice.Cluster;

namespace AkkaVoice.Server;

/// <summary>
/// Owns the node's ActorSystem: starts it (joining the seeds, or itself when there are none), tracks
/// readiness, and on shutdown closes every socket with 1001 and then leaves the cluster through
/// coordinated shutdown, so the node's rooms are handed off before the process exits.
/// </summary>
/// <remarks>
/// The host stops Kestrel before this service (reverse registration order), and Kestrel waits for open
/// WebSocket requests. So readiness and the 1001 closes happen in <see cref="StoppingAsync"/>, which the
/// host runs for every service before it stops any: the server still answers 503 while the sockets close.
/// </remarks>
public sealed partial class AkkaService(NodeOptions options, Akka.Configuration.Config config, Connections connections,
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

    /// <summary>The node, or null before start.</summary>
    public VoiceNode? NodeOrNull => node;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var system = ActorSystem.Create("akkavoice", config);
        node = VoiceNode.Start(system);
        var cluster = Akka.Cluster.Cluster.Get(system);
        if (options.Seeds.Count == 0) cluster.Join(cluster.SelfAddress);

        LogStarted(node.SelfAddress.ToString(), options.Seeds.Count == 0 ? "none (own cluster)" : string.Join(",", options.Seeds), node.Settings.Routing.ToString());
        if (options.JwtSecret is null) LogAuthenticationOff();

        cluster.RegisterOnMemberUp(() => _ = WaitForShardRegionAsync());
        // A node that is downed or leaves on its own terminates its system; the process goes with it.
        system.WhenTerminated.ContinueWith(_ =>
        {
            if (!stopping) lifetime.StopApplication();
        }, TaskScheduler.Default);
        return Task.CompletedTask;
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        stopping = true;
        if (node is null) return;
        LogStopping(connections.Count);
        await connections.CloseAllAsync(TimeSpan.FromSeconds(3));
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        stopping = true;
        if (node is null) return;
        await CoordinatedShutdown.Get(node.System).Run(CoordinatedShutdown.ClusterLeavingReason.Instance);
        LogStopped();
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

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

    [LoggerMessage(Level = LogLevel.Information, Message = "AkkaVoice node {Node} started; seeds {Seeds}; routing {Routing}")]
    private partial void LogStarted(string node, string seeds, string routing);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Authentication is off: no JWT secret is configured, clients name themselves with ?user=")]
    private partial void LogAuthenticationOff();

    [LoggerMessage(Level = LogLevel.Information, Message = "Node {Node} is ready: Up, shard region reachable")]
    private partial void LogReady(string node);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutting down: closing {Connections} connections with 1001, then leaving the cluster")]
    private partial void LogStopping(int connections);

    [LoggerMessage(Level = LogLevel.Information, Message = "Left the cluster; shutdown complete")]
    private partial void LogStopped();
}
