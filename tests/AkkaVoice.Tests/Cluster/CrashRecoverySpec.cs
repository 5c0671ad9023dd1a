using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using AkkaVoice.Cluster;
using AkkaVoice.Cluster.Directory;
using AkkaVoice.Cluster.Rooms;
using Xunit;
using Xunit.Abstractions;
using static Akka.Cluster.ClusterEvent;

namespace AkkaVoice.Tests.Cluster;

/// <summary>
/// A crashed node's shards are allocated anew at their new homes, never handed off from the dead node, and
/// a node that comes back under its stable name gets back the shards it had.
/// </summary>
public sealed class CrashRecoverySpec(ITestOutputHelper output) : ClusterSpec(output, 2, Hocon)
{
    // Longer than the 1 s rebalance interval: the coordinator runs several rebalances while it still shows
    // the dead region holding its shards, which is when a strategy could ask that region for handoffs.
    private const string Hocon = "akka.cluster.down-removal-margin = 3s";
    private static readonly TimeSpan RemovalMargin = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task A_crashed_nodes_rooms_get_new_homes_without_handoff_attempts_from_it()
    {
        var victim = Cluster.StartNode();
        await Cluster.AwaitUpAsync();
        var seen = new ConcurrentQueue<(TimeSpan At, object Event)>();
        var clock = Stopwatch.StartNew();
        // Node 0 is the oldest and runs the coordinators; node 1 would take them over.
        foreach (var node in Cluster.Nodes.Take(2)) Record(node.System, seen, clock);

        var room = RoomHomedOn(2);
        var shard = Cluster[0].Directory.ShardOf(room);
        await using var alice = Cluster.Connect(0, "alice");
        await using var bob = Cluster.Connect(1, "bob");
        var a = await alice.JoinAsync(room);
        await bob.JoinAsync(room);
        await AwaitAssertAsync(async () => Assert.Equal(victim.SelfAddress.ToString(), await HomeOfAsync(Cluster[1], room)),
            TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(250));

        var crashedAt = clock.Elapsed;
        await Cluster.CrashAsync(2);
        using var talk = new CancellationTokenSource();
        var talking = Task.Run(async () =>
        {
            using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
            while (await tick.WaitForNextTickAsync(talk.Token).ConfigureAwait(false)) alice.SendFrame((byte)a.Num("slot"), [7]);
        });
        try
        {
            // Voice between the survivors never waits for the room; the room itself runs on a live node again.
            await bob.NextFrameAsync(TimeSpan.FromSeconds(5));
            await AwaitAssertAsync(async () => Assert.NotEqual(victim.SelfAddress.ToString(), await HomeOfAsync(Cluster[0], room)),
                TimeSpan.FromSeconds(40), TimeSpan.FromMilliseconds(250));
        }
        finally
        {
            talk.Cancel();
            try { await talking; } catch (OperationCanceledException) { }
        }
        var heardAt = clock.Elapsed;

        var removedAt = seen.Where(e => e.Event is MemberRemoved r && r.Member.Address.Equals(victim.SelfAddress)).Select(e => e.At).Min();
        var allocated = seen.Where(e => e.Event is ShardAllocated s && s.Shard == shard && e.At > removedAt).ToList();
        Output.WriteLine($"crash to removal {(removedAt - crashedAt).TotalSeconds:F1} s, removal to new allocation of shard {shard} " +
            $"{(allocated.Select(e => e.At).DefaultIfEmpty(TimeSpan.MaxValue).Min() - removedAt).TotalSeconds:F1} s, crash to the room served again {(heardAt - crashedAt).TotalSeconds:F1} s");

        Assert.DoesNotContain(seen, e => e.Event is ShardRebalanceStarted r && r.From.Equals(victim.SelfAddress));
        var fresh = Assert.Single(allocated.Select(e => (ShardAllocated)e.Event).Where(s => s.Shard == shard).Take(1));
        Assert.Null(fresh.From);
        Assert.NotEqual(victim.SelfAddress, fresh.Node);
        // Allocated as soon as the coordinator drops the dead region, not after a handoff that times out.
        Assert.True(allocated.Min(e => e.At) - removedAt <= RemovalMargin + TimeSpan.FromSeconds(2),
            $"shard {shard} was allocated {(allocated.Min(e => e.At) - removedAt).TotalSeconds:F1} s after the node's removal");
    }

    [Fact]
    public async Task A_node_restarted_under_its_name_on_a_new_port_gets_back_the_shards_it_had()
    {
        Cluster.StartNode(Named("pod-2"));
        await Cluster.AwaitUpAsync();
        var shardCount = Cluster[0].Settings.ShardCount;
        await TouchEveryShardAsync(Cluster[0], shardCount);
        var before = await SettledAllocationAsync(shardCount);
        var had = before.Where(kv => kv.Value.Equals(Cluster[2].SelfAddress)).Select(kv => kv.Key).Order().ToList();
        Assert.NotEmpty(had);

        var dead = Cluster[2].SelfAddress;
        await Cluster.CrashAsync(2);
        await AwaitConditionAsync(() => Task.FromResult(Akka.Cluster.Cluster.Get(Sys).State.Members.All(m => !m.Address.Equals(dead))),
            TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200));
        // The dead node's shards come back elsewhere when someone asks for them (their rooms' members would).
        await TouchEveryShardAsync(Cluster[0], shardCount);
        var reborn = Cluster.StartNode(Named("pod-2"));
        await Cluster.AwaitUpAsync(TimeSpan.FromSeconds(60));
        Assert.NotEqual(Cluster[2].SelfAddress, reborn.SelfAddress);

        var after = await SettledAllocationAsync(shardCount);
        var back = after.Where(kv => kv.Value.Equals(reborn.SelfAddress)).Select(kv => kv.Key).Order().ToList();
        Output.WriteLine($"pod-2 had {had.Count} shards before its crash and has {back.Count} after its restart on a new port");
        Assert.Equal(had, back);
    }

    private static ActorSystem Named(string name) =>
        ActorSystem.Create("akkavoice", TestCluster.NodeSetup($"akka.cluster.roles = [\"{RoomDirectory.NameRolePrefix}{name}\"]\n{Hocon}"));

    private static void Record(ActorSystem system, ConcurrentQueue<(TimeSpan, object)> seen, Stopwatch clock)
    {
        var recorder = system.ActorOf(Props.Create(() => new Recorder(seen, clock)));
        system.EventStream.Subscribe(recorder, typeof(ShardAllocated));
        system.EventStream.Subscribe(recorder, typeof(ShardRebalanceStarted));
        Akka.Cluster.Cluster.Get(system).Subscribe(recorder, SubscriptionInitialStateMode.InitialStateAsSnapshot, typeof(MemberRemoved));
    }

    private sealed class Recorder : ReceiveActor
    {
        public Recorder(ConcurrentQueue<(TimeSpan, object)> seen, Stopwatch clock) => ReceiveAny(m => seen.Enqueue((clock.Elapsed, m)));
    }
}
