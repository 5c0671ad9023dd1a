using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;
using AkkaVoice.Client;
using AkkaVoice.Cluster.Directory;
using Xunit;
using Xunit.Abstractions;

namespace AkkaVoice.IntegrationTests;

/// <summary>The healing client against real node processes: it leaves a dead or frozen node for another one and rejoins its rooms there.</summary>
[Collection("processes")]
public sealed class HealingClientTests(ITestOutputHelper output)
{
    [Fact]
    public async Task When_its_node_is_killed_the_client_reconnects_to_another_node_and_rejoins_with_since_recovering_the_chat()
    {
        await using var cluster = await ThreeNodeCluster.StartAsync();
        var (victim, survivor) = (cluster.Nodes[1], cluster.Nodes[2]);
        var kept = RoomHomedOn(cluster, survivor, "kept");
        var lost = RoomHomedOn(cluster, victim, "lost");
        var log = new Events();
        await using var alice = Healing(cluster, 1, "alice", log, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3));
        await alice.ConnectAsync();
        await alice.JoinAsync(kept);
        await alice.JoinAsync(lost);

        await using var bob = await survivor.ConnectAsync("bob");
        var bobSlot = (byte)(await bob.JoinAsync(kept)).Num("slot");
        await bob.SendAsync(new { type = "say", room = kept, text = "before" });
        await log.WaitAsync(() => alice.LastSeqOf(kept) == 1, "alice saw the first said");

        victim.Kill();
        // Said while Alice is away: her rejoin with since = 1 must replay it.
        await bob.SendAsync(new { type = "say", room = kept, text = "while away" });

        await log.WaitAsync(() => log.Rejoined.Count == 2, "both rooms rejoined", TimeSpan.FromSeconds(30));
        output.WriteLine(string.Join("\n", log.All));
        var reconnecting = log.Reconnecting.First();
        Assert.Equal(1, reconnecting.Attempt);
        // The first attempt goes to the next node at once; only further attempts back off.
        Assert.Equal(TimeSpan.Zero, reconnecting.Delay);
        Assert.NotEqual(victim.Ws("alice").Authority, log.Reconnected.Single().Node.Authority);
        Assert.Contains(cluster.Nodes.Where(n => n != victim), n => n.AkkaAddress == log.Reconnected.Single().AkkaNode);
        Assert.True(log.Rejoined.Single(r => r.Room == kept).Recovered, "the kept room's chat was replayed in full");
        await log.WaitAsync(() => log.Said.Contains("while away"), "the said from while she was away was replayed");
        Assert.Equal(2, alice.LastSeqOf(kept));
        Assert.True(alice.IsConnected);

        // Voice flows again on the new slot.
        await bob.SendFrameAsync(bobSlot, new byte[] { 1, 2, 3 });
        await log.WaitAsync(() => log.Frames > 0, "alice hears bob after the reconnect");
        Assert.True(await alice.SendFrameAsync(kept, new byte[] { 9 }));
    }

    [Fact]
    public async Task A_client_on_a_frozen_node_moves_on_within_the_silence_time()
    {
        await using var cluster = await ThreeNodeCluster.StartAsync();
        var (frozen, other) = (cluster.Nodes[1], cluster.Nodes[2]);
        var room = RoomHomedOn(cluster, other, "quiet");
        var log = new Events();
        var pingAfter = TimeSpan.FromSeconds(1);
        var silence = TimeSpan.FromSeconds(2);
        await using var alice = Healing(cluster, 1, "alice", log, pingAfter, silence);
        await alice.ConnectAsync();
        await alice.JoinAsync(room);
        // A quiet room on a healthy node is not silence: pongs keep answering the client's pings.
        await Task.Delay(pingAfter + silence + TimeSpan.FromSeconds(1));
        Assert.Empty(log.Reconnecting);

        var clock = Stopwatch.StartNew();
        frozen.Pause();
        try
        {
            await log.WaitAsync(() => log.Rejoined.Count == 1, "the room rejoined on another node", TimeSpan.FromSeconds(20));
            var movedAfter = clock.Elapsed;
            output.WriteLine($"moved on {movedAfter.TotalSeconds:F1} s after the node froze\n{string.Join("\n", log.All)}");
            Assert.Contains("silent", log.Reconnecting.First().Reason);
            Assert.NotEqual(frozen.Ws("alice").Authority, alice.Node.Authority);
            // Quiet for pingAfter, then silent for the silence time; a second for the reconnect and rejoin.
            Assert.True(movedAfter <= pingAfter + silence + TimeSpan.FromSeconds(1.5), $"moved on only after {movedAfter}");
        }
        finally
        {
            frozen.Resume();
        }
    }

    private static HealingVoiceClient Healing(ThreeNodeCluster cluster, int first, string user, Events log, TimeSpan pingAfter, TimeSpan silence)
    {
        var client = new HealingVoiceClient(new HealingOptions
        {
            Nodes = [.. cluster.Nodes.Select(n => n.Ws(user))],
            FirstNode = first,
            PingAfter = pingAfter,
            SilenceTimeout = silence,
            BackoffBase = TimeSpan.FromMilliseconds(100),
            BackoffMax = TimeSpan.FromSeconds(1),
            OnFrame = _ => Interlocked.Increment(ref log.Frames),
            OnText = t => { if (t.Type == "said") log.Said.Add(t.Str("text")!); },
        });
        client.OnReconnecting += e => { log.Reconnecting.Enqueue(e); log.All.Enqueue($"reconnecting: {e}"); };
        client.OnReconnected += e => { log.Reconnected.Enqueue(e); log.All.Enqueue($"reconnected: {e}"); };
        client.OnRejoined += e => { log.Rejoined.Enqueue(e); log.All.Enqueue($"rejoined: {e}"); };
        return client;
    }

    /// <summary>A room whose home among the three nodes (weighed by host:port, as nodes without --node-name are) is <paramref name="node"/>.</summary>
    private static string RoomHomedOn(ThreeNodeCluster cluster, NodeProcess node, string prefix)
    {
        var directory = new RoomDirectory(100);
        var addresses = cluster.Nodes.Select(n => Address.Parse(n.AkkaAddress)).ToArray();
        for (int i = 0; ; i++)
        {
            var room = $"{prefix}-{i}";
            if (directory.HomeOfRoom(room, addresses)!.Equals(Address.Parse(node.AkkaAddress))) return room;
        }
    }

    private sealed class Events
    {
        public readonly ConcurrentQueue<Reconnecting> Reconnecting = new();
        public readonly ConcurrentQueue<Reconnected> Reconnected = new();
        public readonly ConcurrentQueue<Rejoined> Rejoined = new();
        public readonly ConcurrentBag<string> Said = [];
        public readonly ConcurrentQueue<string> All = new();
        public int Frames;

        public async Task WaitAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
        {
            var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
            while (!condition())
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"not seen: {what}\n{string.Join("\n", All)}");
                await Task.Delay(50);
            }
        }
    }
}
