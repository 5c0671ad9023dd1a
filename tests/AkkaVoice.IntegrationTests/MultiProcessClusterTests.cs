using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using AkkaVoice.Client;
using AkkaVoice.IntegrationTests.Support;
using Xunit;
using Xunit.Abstractions;

namespace AkkaVoice.IntegrationTests;

/// <summary>Three node processes on loopback, started the documented way, with clients spread over them.</summary>
public sealed class ThreeNodeCluster : IAsyncLifetime, IAsyncDisposable
{
    public NodeProcess[] Nodes { get; private set; } = [];

    public static async Task<ThreeNodeCluster> StartAsync()
    {
        var cluster = new ThreeNodeCluster();
        await cluster.InitializeAsync();
        return cluster;
    }

    /// <summary>
    /// Starts the nodes one after another (each JIT-compiles on start, and two cores starting three at once
    /// can starve a joiner past the failure detector). A node that is not ready fails the start with every
    /// node's log, and no process outlives a failed start.
    /// </summary>
    public async Task InitializeAsync()
    {
        var started = new List<NodeProcess>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                started.Add(NodeProcess.Start(started.FirstOrDefault()));
                await started[^1].WaitReadyAsync();
            }
        }
        catch (Exception e)
        {
            var logs = string.Join("\n", started.Select(n => $"--- node on {n.AkkaAddress} ---\n{n.Log}"));
            foreach (var node in started) await node.DisposeAsync();
            throw new InvalidOperationException($"the cluster did not start: {e.Message.Split('\n')[0]}\n{logs}", e);
        }
        Nodes = [.. started];
    }

    public async Task DisposeAsync()
    {
        foreach (var node in Nodes) await node.DisposeAsync();
    }

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();
}

[Collection("processes")]
public sealed class MultiProcessClusterTests(ThreeNodeCluster cluster) : IClassFixture<ThreeNodeCluster>
{
    [Fact]
    public async Task Clients_on_three_nodes_share_a_room_voice_chat_and_direct_messages()
    {
        var n = cluster.Nodes;
        await using var alice = await n[0].ConnectAsync("e2e-alice");
        await using var bob = await n[1].ConnectAsync("e2e-bob");
        await using var carol = await n[2].ConnectAsync("e2e-carol");

        var a = await alice.JoinAsync("e2e-room");
        var b = await bob.JoinAsync("e2e-room");
        Assert.Equal(b.Num("member"), (await alice.ExpectAsync("member-joined")).Num("member"));
        var c = await carol.JoinAsync("e2e-room");
        Assert.Equal(3, c.Json.GetProperty("members").GetArrayLength());
        await alice.ExpectAsync("member-joined");
        await bob.ExpectAsync("member-joined");

        for (byte i = 0; i < 10; i++) await alice.SendFrameAsync((byte)a.Num("slot"), new byte[] { i, 42 });
        foreach (var listener in new[] { bob, carol })
        {
            for (byte i = 0; i < 10; i++)
            {
                var frame = Assert.IsType<FrameEvent>(await listener.ReceiveAsync(TimeSpan.FromSeconds(10)));
                Assert.Equal((uint)a.Num("member"), frame.Member);
                Assert.Equal(new byte[] { i, 42 }, frame.Payload);
            }
        }

        await bob.SendAsync(new { type = "say", room = "e2e-room", text = "hello", @ref = "s1" });
        foreach (var member in new[] { alice, bob, carol })
        {
            var said = await member.ExpectAsync("said");
            Assert.Equal("hello", said.Str("text"));
            Assert.Equal(1, said.Num("seq"));
        }

        await carol.SendAsync(new { type = "direct", to = "e2e-alice", text = "psst", @ref = "d1" });
        Assert.Equal("delivered", (await carol.NextTextAsync()).Type);
        Assert.Equal("psst", (await alice.ExpectAsync("direct")).Str("text"));

        await carol.SendAsync(new { type = "leave", room = "e2e-room" });
        await carol.ExpectAsync("left");
        Assert.Equal(c.Num("member"), (await alice.ExpectAsync("member-left")).Num("member"));
    }

    [Fact]
    public async Task Admin_endpoints_show_the_whole_cluster()
    {
        var cluster1 = await cluster.Nodes[1].Http.GetStringAsync("admin/cluster");
        foreach (var node in cluster.Nodes) Assert.Contains(node.AkkaAddress, cluster1);
        await using var alice = await cluster.Nodes[2].ConnectAsync("e2e-admin");
        await alice.JoinAsync("e2e-admin-room");
        var room = await cluster.Nodes[0].Http.GetStringAsync("admin/rooms/e2e-admin-room");
        Assert.Contains(cluster.Nodes[2].AkkaAddress, room);
    }
}

[Collection("processes")]
public sealed class NodeFailureTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Sigterm_closes_clients_with_1001_hands_rooms_off_and_exits_0_while_remote_members_keep_talking()
    {
        await using var cluster = await ThreeNodeCluster.StartAsync();
        var (n0, n1, n2) = (cluster.Nodes[0], cluster.Nodes[1], cluster.Nodes[2]);

        // A room homed on the node that will leave, with members on the other two and one on the leaver.
        var room = await RoomHomedOnAsync(n0, n2);
        await using var alice = await n0.ConnectAsync("alice");
        await using var bob = await n1.ConnectAsync("bob");
        await using var carol = await n2.ConnectAsync("carol");
        var a = await alice.JoinAsync(room);
        await bob.JoinAsync(room);
        await carol.JoinAsync(room);

        TimeSpan gap;
        try
        {
            gap = await MeasureGapAsync(alice, (byte)a.Num("slot"), bob, n2.Terminate, () => n2.HasExited);
        }
        finally
        {
            output.WriteLine("--- leaving node ---\n" + n2.Log + "\n--- node 0 ---\n" + n0.Log);
        }
        output.WriteLine($"voice gap while the room's home left gracefully: {gap.TotalMilliseconds:F0} ms");

        Assert.Equal(0, await n2.WaitExitAsync(TimeSpan.FromSeconds(30)));
        var closed = await NextClosedAsync(carol);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, closed.Status);
        Assert.True(gap < TimeSpan.FromSeconds(2), $"gap {gap}");
    }

    [Fact]
    public async Task A_killed_node_is_downed_and_its_rooms_come_back_on_the_others()
    {
        await using var cluster = await ThreeNodeCluster.StartAsync();
        var (n0, n1, n2) = (cluster.Nodes[0], cluster.Nodes[1], cluster.Nodes[2]);

        var room = await RoomHomedOnAsync(n0, n2);
        await using var alice = await n0.ConnectAsync("alice");
        await using var bob = await n1.ConnectAsync("bob");
        var a = await alice.JoinAsync(room);
        await bob.JoinAsync(room);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var gap = await MeasureGapAsync(alice, (byte)a.Num("slot"), bob, n2.Kill, () => true, TimeSpan.FromSeconds(90));
        // Voice between the survivors does not wait for the room; the room itself comes back on a survivor.
        output.WriteLine($"voice gap after kill -9 of the room's home: {gap.TotalMilliseconds:F0} ms");
        await Wait.UntilAsync(async () =>
        {
            using var answer = await n0.Http.GetAsync($"admin/rooms/{room}");
            if (!answer.IsSuccessStatusCode) return false;
            var home = await answer.Content.ReadAsStringAsync();
            return !home.Contains($"\"home\":\"{n2.AkkaAddress}\"");
        }, TimeSpan.FromSeconds(60), "the room served by a surviving node");
        output.WriteLine($"room served again {clock.Elapsed.TotalSeconds:F1} s after the kill");
        Assert.True(gap < TimeSpan.FromSeconds(2), $"voice between the survivors stopped for {gap}");
    }

    [Fact]
    public async Task A_node_frozen_until_the_others_removed_it_downs_itself_as_soon_as_it_runs_again()
    {
        await using var cluster = await ThreeNodeCluster.StartAsync();
        var (n0, n2) = (cluster.Nodes[0], cluster.Nodes[2]);
        var room = await RoomHomedOnAsync(n0, n2);
        await using var carol = await n2.ConnectAsync("carol");
        await carol.JoinAsync(room);

        n2.Pause();
        try
        {
            // The others down it once its heartbeats have been missing for the pause plus stable-after (~7 s).
            await Wait.UntilAsync(() => n0.Log.Contains($"Member {n2.AkkaAddress} removed"), TimeSpan.FromSeconds(30), "the others removing the frozen node");
        }
        finally
        {
            n2.Resume();
        }
        await n2.WaitExitAsync(TimeSpan.FromSeconds(30));
        var log = n2.Log;
        output.WriteLine(string.Join("\n", log.Split('\n').Where(l => l.Contains("frozen") || l.Contains("SBR") || l.Contains($"Room {room}"))));
        // Its own guard saw the freeze and downed it before its resolver's stable-after could pass.
        Assert.Contains("was frozen for", log);
        Assert.DoesNotContain("SBR took decision", log);
        Assert.Contains($"Room {room} stopped on {n2.AkkaAddress}", log);
    }

    /// <summary>A room id whose room actor runs on <paramref name="target"/>, found through the admin API.</summary>
    private static async Task<string> RoomHomedOnAsync(NodeProcess via, NodeProcess target)
    {
        for (int i = 0; i < 200; i++)
        {
            var room = $"fail-{Guid.NewGuid():N}"[..20];
            await using var probe = await via.ConnectAsync("probe");
            await probe.JoinAsync(room);
            var info = await via.Http.GetStringAsync($"admin/rooms/{room}");
            if (info.Contains($"\"home\":\"{target.AkkaAddress}\"")) return room;
        }
        throw new InvalidOperationException("no room landed on the target node");
    }

    private static async Task<ClosedEvent> NextClosedAsync(VoiceClient client)
    {
        while (true)
        {
            if (await client.ReceiveAsync(TimeSpan.FromSeconds(30)) is ClosedEvent c) return c;
        }
    }

    /// <summary>
    /// The speaker talks every 20 ms while <paramref name="disruption"/> happens; once <paramref name="over"/>
    /// holds and the listener has heard 25 frames in a row since, returns the longest silence it heard.
    /// </summary>
    private static async Task<TimeSpan> MeasureGapAsync(VoiceClient speaker, byte slot, VoiceClient listener, Action disruption, Func<bool> over, TimeSpan? timeout = null)
    {
        using var stop = new CancellationTokenSource();
        var talking = Task.Run(async () =>
        {
            using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
            while (await tick.WaitForNextTickAsync(stop.Token)) await speaker.SendFrameAsync(slot, new byte[] { 1 });
        });
        try
        {
            Assert.True(await NextFrameAsync(listener, TimeSpan.FromSeconds(10)), "no voice before the disruption");
            var clock = Stopwatch.StartNew();
            disruption();
            var deadline = timeout ?? TimeSpan.FromSeconds(30);
            TimeSpan last = clock.Elapsed, longest = TimeSpan.Zero;
            int steady = 0;
            while (steady < 25)
            {
                if (clock.Elapsed > deadline) throw new TimeoutException($"voice did not come back within {deadline}");
                if (!await NextFrameAsync(listener, TimeSpan.FromSeconds(1))) continue;
                var now = clock.Elapsed;
                if (now - last > longest) longest = now - last;
                steady = over() && now - last < TimeSpan.FromMilliseconds(200) ? steady + 1 : 0;
                last = now;
            }
            return longest;
        }
        finally
        {
            stop.Cancel();
            try { await talking; } catch (OperationCanceledException) { }
        }
    }

    private static async Task<bool> NextFrameAsync(VoiceClient client, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await client.ReceiveAsync(deadline - DateTime.UtcNow) is FrameEvent) return true;
            }
            catch (TimeoutException)
            {
                return false;
            }
        }
        return false;
    }
}

[Collection("processes")]
public sealed class PortInUseTests
{
    [Fact]
    public async Task A_node_on_a_used_akka_or_http_port_exits_2_with_the_reason_and_the_first_keeps_running()
    {
        await using var first = NodeProcess.Start();
        await first.WaitReadyAsync();

        await using var sameAkka = NodeProcess.Start(null, "--akka-port", first.AkkaPort.ToString());
        Assert.Equal(2, await sameAkka.WaitExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains($"Cannot start: akka port {first.AkkaPort} on 127.0.0.1 is already in use", sameAkka.Log);

        // With the first node as its seed: it must not join that cluster before finding its HTTP port taken.
        await using var sameHttp = NodeProcess.Start(first, "--http-port", first.HttpPort.ToString());
        Assert.Equal(2, await sameHttp.WaitExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains($"Cannot start: http port {first.HttpPort} on 127.0.0.1 is already in use", sameHttp.Log);
        Assert.DoesNotContain("Remoting started", sameHttp.Log);

        Assert.Equal(HttpStatusCode.OK, (await first.Http.GetAsync("readyz")).StatusCode);
        var cluster = JsonDocument.Parse(await first.Http.GetStringAsync("admin/cluster")).RootElement;
        Assert.Equal(1, cluster.GetProperty("members").GetArrayLength());
    }
}

[CollectionDefinition("processes", DisableParallelization = true)]
public sealed class ProcessCollection;
