using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Cluster;
using Akka.Configuration;
using AkkaVoice.Cluster;
using RoomDirectory = AkkaVoice.Cluster.Directory.RoomDirectory;

namespace AkkaVoice.Tests.Cluster;

/// <summary>
/// A real AkkaVoice cluster inside one test process: each node is its own ActorSystem named
/// <c>akkavoice</c> on a free loopback port (port 0), loading the project's own HOCON and the node's
/// serializer binding, talking to the others over Akka.Remote, with the node's actors started by
/// <see cref="VoiceNode.Start"/> as the host's Akka.Hosting starter does. Copy this when you need a multi-node test:
/// <code>
/// await using var cluster = await TestCluster.StartAsync(3);
/// var alice = cluster.Connect(0, "alice");
/// </code>
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    private readonly List<VoiceNode> nodes = [];
    private readonly string extraHocon;

    private TestCluster(string extraHocon) => this.extraHocon = extraHocon;

    public IReadOnlyList<VoiceNode> Nodes => nodes;

    public VoiceNode this[int index] => nodes[index];

    /// <summary>
    /// Starts <paramref name="size"/> nodes and waits until every node sees them all Up. Node 0 runs in
    /// <paramref name="first"/> when given (a TestKit's own system, made with <see cref="NodeSetup"/>).
    /// </summary>
    public static async Task<TestCluster> StartAsync(int size, ActorSystem? first = null, string extraHocon = "")
    {
        var cluster = new TestCluster(extraHocon);
        for (int i = 0; i < size; i++) cluster.StartNode(i == 0 ? first : null);
        await cluster.AwaitUpAsync();
        return cluster;
    }

    /// <summary>What every test node starts with: <see cref="NodeConfig"/> and the node's serializer binding.</summary>
    public static ActorSystemSetup NodeSetup(string extraHocon = "") =>
        BootstrapSetup.Create().WithConfig(NodeConfig(extraHocon)).And(VoiceNodeHosting.Serialization);

    /// <summary>
    /// The configuration every test node loads: the real hocon/akkavoice.conf, the cluster provider (the
    /// host's WithClustering), a free port (its WithRemoting), quieter logs.
    /// </summary>
    public static Config NodeConfig(string extraHocon = "") =>
        ConfigurationFactory.ParseString($$"""
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp.port = 0
            akka.remote.dot-netty.tcp.hostname = 127.0.0.1
            akka.loglevel = WARNING
            akka.loggers = ["Akka.Event.DefaultLogger"]
            akka.logger-formatter = "Akka.Event.DefaultLogMessageFormatter, Akka"
            akka.cluster.sharding.rebalance-interval = 1s
            # Terminate() then stops a node dead, as a crash would; a graceful leave is asked for explicitly.
            akka.coordinated-shutdown.run-by-actor-system-terminate = off
            # Tests down a node on purpose; decide fast.
            akka.cluster.split-brain-resolver.stable-after = 2s
            akka.cluster.failure-detector.acceptable-heartbeat-pause = 2s
            akka.cluster.failure-detector.heartbeat-interval = 500ms
            {{extraHocon}}
            """)
            .WithFallback(ConfigurationFactory.ParseString(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "hocon", "akkavoice.conf"))));

    /// <summary>Starts one more node, joining the first (or itself, when it is the first).</summary>
    public VoiceNode StartNode(ActorSystem? system = null)
    {
        system ??= ActorSystem.Create("akkavoice", NodeSetup(extraHocon));
        var node = VoiceNode.Start(system, VoiceSettings.FromConfig(system.Settings.Config), new NodeStats());
        var seed = nodes.Count == 0 ? node.SelfAddress : nodes[0].SelfAddress;
        Akka.Cluster.Cluster.Get(system).Join(seed);
        nodes.Add(node);
        return node;
    }

    /// <summary>Waits until every running node sees every running node Up.</summary>
    public async Task AwaitUpAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        var running = nodes.Where(n => !n.System.WhenTerminated.IsCompleted).ToList();
        while (true)
        {
            bool allUp = running.All(n =>
            {
                var members = Akka.Cluster.Cluster.Get(n.System).State.Members;
                return running.All(o => members.Any(m => m.Address.Equals(o.SelfAddress) && m.Status == MemberStatus.Up));
            });
            if (allUp) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the test cluster did not come Up");
            await Task.Delay(100);
        }
    }

    /// <summary>The user directory's shards that hold entries now, as the first running node's stats see them.</summary>
    public static async Task<HashSet<string>> UserShardsAsync(TestCluster cluster)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var placed = await PlacedUserShardsAsync(cluster.Nodes.First(n => !n.System.WhenTerminated.IsCompleted));
            // An empty answer means the stats query timed out somewhere: ask again.
            if (placed.Count > 0) return placed.Select(p => p.Shard).ToHashSet();
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the user directory's shard stats stayed empty");
            await Task.Delay(250);
        }
    }

    /// <summary>
    /// Waits until every one of <paramref name="shards"/> runs on its rendezvous home among the running nodes
    /// (a shard handed off and not yet started again does not count) and returns how many are on the newest node.
    /// </summary>
    public static async Task<int> AwaitUserShardsSettledAsync(TestCluster cluster, IReadOnlySet<string> shards, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        var running = cluster.Nodes.Where(n => !n.System.WhenTerminated.IsCompleted).ToList();
        var nodes = running.Select(n => n.SelfAddress).ToArray();
        while (true)
        {
            var placed = await PlacedUserShardsAsync(running[0]);
            var atHome = placed.Where(p => p.Node.Equals(RoomDirectory.HomeOfShard(p.Shard, nodes))).Select(p => p.Shard).ToHashSet();
            if (placed.Count == atHome.Count && shards.IsSubsetOf(atHome))
                return placed.Count(p => p.Node.Equals(nodes[^1]));
            if (DateTime.UtcNow > deadline) throw new TimeoutException("user directory shards did not settle");
            await Task.Delay(250);
        }
    }

    private static async Task<List<(string Shard, Address Node)>> PlacedUserShardsAsync(VoiceNode node)
    {
        var stats = await node.Users.Ask<Akka.Cluster.Sharding.ClusterShardingStats>(
            new Akka.Cluster.Sharding.GetClusterShardingStats(TimeSpan.FromSeconds(3)), TimeSpan.FromSeconds(5));
        return stats.Regions.SelectMany(r => r.Value.Stats.Keys.Select(s => (Shard: s, Node: r.Key))).ToList();
    }

    /// <summary>A client connection on node <paramref name="index"/>.</summary>
    public TestConnection Connect(int index, string user) => new(nodes[index], user);

    /// <summary>Node <paramref name="index"/> leaves gracefully (what SIGTERM does) and terminates.</summary>
    public Task LeaveAsync(int index) =>
        CoordinatedShutdown.Get(nodes[index].System).Run(CoordinatedShutdown.ClusterLeavingReason.Instance);

    /// <summary>Node <paramref name="index"/> stops dead, without leaving; the others must notice and down it.</summary>
    public async Task CrashAsync(int index)
    {
        var victim = nodes[index];
        // Terminating without leaving is what the others see of a kill -9: heartbeats simply stop.
        await victim.System.Terminate();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in nodes)
        {
            if (!node.System.WhenTerminated.IsCompleted) await node.System.Terminate();
        }
    }
}
