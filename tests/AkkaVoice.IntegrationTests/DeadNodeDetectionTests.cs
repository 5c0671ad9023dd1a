using System.Diagnostics;
using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace AkkaVoice.IntegrationTests;

/// <summary>
/// The dead-node detector with real node processes: a killed node (its port refuses) is downed and removed
/// within a second or two; a paused node (its kernel still completes handshakes), a slow node and a node cut
/// off by a firewall's drop rules (silence) are probed and left to the split-brain resolver. The resolver waits 20 s
/// here, so that within the tests' deadlines only the detector could down anybody.
/// </summary>
[Collection("processes")]
public sealed class DeadNodeDetectionTests(ITestOutputHelper output) : IDisposable
{
    private readonly string config = WriteConfig("""
        akka.cluster.split-brain-resolver.stable-after = 20s
        """);

    public void Dispose() => File.Delete(config);

    [Fact]
    public async Task A_killed_node_is_downed_through_its_refused_port_and_removed_within_two_seconds()
    {
        var (n0, n1, n2) = await StartThreeAsync([], [], []);
        await using var _0 = n0; await using var _1 = n1; await using var _2 = n2;

        var clock = Stopwatch.StartNew();
        n2.Kill();
        await n0.WaitLogAsync($"Member {n2.AkkaAddress} removed", TimeSpan.FromSeconds(15));
        output.WriteLine($"kill -9 to removal on a survivor: {clock.Elapsed.TotalSeconds:F2} s");

        Assert.Contains($"Member {n2.AkkaAddress} is dead: its remoting port refused connections, seen by 2 of the 2 members that count", n0.Log + n1.Log);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"removed {clock.Elapsed.TotalSeconds:F2} s after the kill");
        Assert.DoesNotContain("SBR took decision", n0.Log);
    }

    [Fact]
    public async Task A_paused_node_is_probed_while_unreachable_and_nobody_downs_it()
    {
        var (n0, n1, n2) = await StartThreeAsync([], [], []);
        await using var _0 = n0; await using var _1 = n1; await using var _2 = n2;

        n2.Pause();
        try
        {
            // Unreachable after the failure detector's 4 s; then probed every 500 ms: the kernel still accepts.
            await n0.WaitLogAsync($"Member {n2.AkkaAddress} is unreachable", TimeSpan.FromSeconds(15));
            await n0.WaitLogAsync($"Remoting port of {n2.AkkaAddress} accepted a connection", TimeSpan.FromSeconds(5));
            await n1.WaitLogAsync($"Remoting port of {n2.AkkaAddress} accepted a connection", TimeSpan.FromSeconds(5));
        }
        finally
        {
            n2.Resume();
        }
        await n0.WaitLogAsync($"Member {n2.AkkaAddress} is reachable again", TimeSpan.FromSeconds(15));

        foreach (var log in new[] { n0.Log, n1.Log })
        {
            Assert.DoesNotContain("is dead", log);
            Assert.DoesNotContain($"Member {n2.AkkaAddress} removed", log);
        }
        Assert.False(n2.HasExited);
    }

    [Fact]
    public async Task A_slow_node_that_stalls_past_the_failure_detector_again_and_again_is_probed_and_never_taken_for_dead()
    {
        var (n0, n1, n2) = await StartThreeAsync([], [], []);
        await using var _0 = n0; await using var _1 = n1; await using var _2 = n2;

        // A node that gets half a second of every six and a half: late enough that the failure detector marks
        // it unreachable each time, running often enough to be reachable in between; its port always accepts.
        for (int stall = 0; stall < 3; stall++)
        {
            n2.Pause();
            await Task.Delay(6000);
            n2.Resume();
            await Task.Delay(500);
        }
        Assert.Contains($"Member {n2.AkkaAddress} is unreachable", n0.Log);
        Assert.Contains($"Remoting port of {n2.AkkaAddress} accepted a connection", n0.Log);
        // Whatever the failure detector made of it, the node is a member that is reachable again.
        await AwaitReachableAsync(n0, n2);

        foreach (var log in new[] { n0.Log, n1.Log })
        {
            Assert.DoesNotContain("is dead", log);
            Assert.DoesNotContain($"Member {n2.AkkaAddress} removed", log);
        }
        Assert.False(n2.HasExited);
    }

    [SkippableFact]
    public async Task A_node_cut_off_by_dropped_packets_is_silence_to_the_probe_and_nobody_downs_it()
    {
        // Firewall rules only inside a network namespace of the test's own: the machine's own rules and
        // loopback traffic stay untouched.
        Skip.IfNot(Environment.UserName == "root" || geteuid() == 0, "needs root to create a network namespace and nftables rules in it");
        Skip.If(Run("nft", "--version").Code != 0 || Run("setpriv", "--version").Code != 0, "needs nft and setpriv");
        var ns = $"akkavoice-test-{Environment.ProcessId}";
        Run("ip", "netns", "delete", ns);
        var added = Run("ip", "netns", "add", ns);
        Skip.If(added.Code != 0, $"cannot create a network namespace: {added.Output}");
        try
        {
            Assert.Equal(0, Run("ip", "-n", ns, "link", "set", "lo", "up").Code);
            string[] inside = ["ip", "netns", "exec", ns];
            // The cut-off node runs as another user, so that its own outgoing connections can be told apart.
            string[] cutOff = [.. inside, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
            var (n0, n1, n2) = await StartThreeAsync(inside, inside, cutOff);
            await using var _0 = n0; await using var _1 = n1; await using var _2 = n2;

            var rules = $$"""
                table inet cut {
                  chain output {
                    type filter hook output priority 0; policy accept;
                    tcp dport {{n2.AkkaPort}} drop
                    tcp sport {{n2.AkkaPort}} drop
                    meta skuid 65534 tcp dport { {{n0.AkkaPort}}, {{n1.AkkaPort}} } ct mark set 0x2a
                    ct mark 0x2a drop
                  }
                  chain input {
                    type filter hook input priority 0; policy accept;
                    ct mark 0x2a drop
                  }
                }
                """;
            var applied = Run(["ip", "netns", "exec", ns, "nft", "-f", "-"], rules);
            Assert.True(applied.Code == 0, applied.Output);

            await n0.WaitLogAsync($"Member {n2.AkkaAddress} is unreachable", TimeSpan.FromSeconds(15));
            await n0.WaitLogAsync($"Remoting port of {n2.AkkaAddress} did not answer", TimeSpan.FromSeconds(5));
            await n1.WaitLogAsync($"Remoting port of {n2.AkkaAddress} did not answer", TimeSpan.FromSeconds(5));
            foreach (var log in new[] { n0.Log, n1.Log })
            {
                Assert.DoesNotContain("is dead", log);
                Assert.DoesNotContain($"Member {n2.AkkaAddress} removed", log);
            }
        }
        finally
        {
            Run("ip", "netns", "delete", ns);
        }
    }

    [Fact]
    public async Task A_node_restarted_on_the_same_port_replaces_its_old_incarnation_at_once()
    {
        // Without the detector: the old incarnation goes because the new one joins, not because its port refused.
        var noDetector = WriteConfig("""
            akka.cluster.split-brain-resolver.stable-after = 20s
            akkavoice.dead-node-probe.enabled = off
            """);
        try
        {
            var n0 = NodeProcess.Start(null, "--config", noDetector);
            await using var _0 = n0;
            await n0.WaitReadyAsync();
            var n1 = NodeProcess.Start(n0, "--config", noDetector);
            await using var _1 = n1;
            await n1.WaitReadyAsync();

            var clock = Stopwatch.StartNew();
            n1.Kill();
            await n1.WaitExitAsync(TimeSpan.FromSeconds(10));
            var again = NodeProcess.StartOn(n1.HttpPort, n1.AkkaPort, new Dictionary<string, string>(), n0, [], "--config", noDetector);
            await using var _2 = again;
            await again.WaitReadyAsync(TimeSpan.FromSeconds(30));
            output.WriteLine($"kill -9 to the new incarnation ready: {clock.Elapsed.TotalSeconds:F2} s");

            // Well before the failure detector (4 s) and the resolver (20 s) could have removed the old one.
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"ready {clock.Elapsed.TotalSeconds:F1} s after the kill");
            Assert.Contains($"Member {n1.AkkaAddress} removed", n0.Log);
            Assert.DoesNotContain("SBR took decision", n0.Log);
            using var members = JsonDocument.Parse(await n0.Http.GetStringAsync("admin/cluster"));
            var statuses = members.RootElement.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("status").GetString()).ToList();
            Assert.Equal(["Up", "Up"], statuses);
        }
        finally
        {
            File.Delete(noDetector);
        }
    }

    /// <summary>Three nodes, each started through its wrapper command and awaited through its log (a namespace's nodes cannot be reached over HTTP).</summary>
    private async Task<(NodeProcess, NodeProcess, NodeProcess)> StartThreeAsync(string[] wrap0, string[] wrap1, string[] wrap2)
    {
        var started = new List<NodeProcess>();
        try
        {
            foreach (var wrap in new[] { wrap0, wrap1, wrap2 })
            {
                var node = NodeProcess.StartOn(TestNode.FreePort(), TestNode.FreePort(), new Dictionary<string, string>(), started.FirstOrDefault(), wrap, "--config", config);
                started.Add(node);
                await node.WaitLogAsync("is ready", TimeSpan.FromSeconds(60));
            }
            foreach (var node in started) await started[0].WaitLogAsync($"Member {node.AkkaAddress} is up", TimeSpan.FromSeconds(30));
            return (started[0], started[1], started[2]);
        }
        catch
        {
            foreach (var node in started)
            {
                output.WriteLine($"--- node on {node.AkkaAddress} ---\n{node.Log}");
                await node.DisposeAsync();
            }
            throw;
        }
    }

    private static string WriteConfig(string hocon)
    {
        var path = Path.Combine(Path.GetTempPath(), $"akkavoice-test-{Guid.NewGuid():N}.conf");
        File.WriteAllText(path, hocon);
        return path;
    }

    private static (int Code, string Output) Run(params string[] command) => Run(command, null);

    private static (int Code, string Output) Run(string[] command, string? input)
    {
        try
        {
            var info = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = input is not null };
            foreach (var arg in command.Skip(1)) info.ArgumentList.Add(arg);
            using var process = Process.Start(info)!;
            if (input is not null)
            {
                process.StandardInput.Write(input);
                process.StandardInput.Close();
            }
            var text = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, text);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern uint geteuid();

    /// <summary>Waits until <paramref name="observer"/> sees <paramref name="node"/> Up and reachable.</summary>
    private static async Task AwaitReachableAsync(NodeProcess observer, NodeProcess node)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            using var doc = JsonDocument.Parse(await observer.Http.GetStringAsync("/admin/cluster"));
            if (doc.RootElement.GetProperty("members").EnumerateArray().Any(m =>
                    m.GetProperty("address").GetString() == node.AkkaAddress && m.GetProperty("status").GetString() == "Up" &&
                    m.GetProperty("reachable").GetBoolean()))
                return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{node.AkkaAddress} is not Up and reachable from {observer.AkkaAddress}");
            await Task.Delay(200);
        }
    }
}
