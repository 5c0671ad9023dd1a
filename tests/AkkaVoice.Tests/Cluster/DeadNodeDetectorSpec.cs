using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Remote;
using Xunit;
using Xunit.Abstractions;

namespace AkkaVoice.Tests.Cluster;

/// <summary>
/// The dead-node detector between real ActorSystems: a member whose remoting port refuses connections is
/// downed by the others at once; a live member whose association merely dropped is probed and left alone.
/// The failure detector and the resolver are slowed down here (30 s each), so only the detector can down
/// anybody within the tests' deadlines. A paused process and a cut network are tested with real processes
/// in the integration tests.
/// </summary>
public sealed class DeadNodeDetectorSpec(ITestOutputHelper output) : ClusterSpec(output, 3, Hocon)
{
    private const string Hocon = """
        akka.loglevel = INFO
        akka.cluster.failure-detector.acceptable-heartbeat-pause = 30s
        akka.cluster.split-brain-resolver.stable-after = 30s
        """;

    [Fact]
    public async Task A_crashed_node_whose_port_refuses_is_downed_by_the_others_within_seconds()
    {
        var victim = Cluster[2].SelfAddress;
        var logs = Collect(Cluster[0].System, Cluster[1].System);

        await Cluster.CrashAsync(2);

        // Heartbeats alone would mark it unreachable only after 30 s, and the resolver down it 30 s later.
        await AwaitAssertAsync(() =>
        {
            foreach (var node in Cluster.Nodes.Take(2))
                Assert.DoesNotContain(Akka.Cluster.Cluster.Get(node.System).State.Members, m => m.Address.Equals(victim));
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));
        Assert.Contains(logs, l => l.Contains($"Remoting port of {victim} refused"));
        Assert.Contains(logs, l => l.Contains($"Member {victim} is dead: its remoting port refused connections, seen by 2 of the 2 members that count"));
        Assert.DoesNotContain(logs, l => l.Contains("SBR took decision"));
    }

    [Fact]
    public async Task A_dropped_association_to_a_live_member_is_probed_and_downs_nobody()
    {
        var live = Cluster[2].SelfAddress;
        var logs = Collect(Cluster[0].System, Cluster[1].System);

        // What a node hears when a connection to a member is reset; here the member runs on.
        foreach (var node in Cluster.Nodes.Take(2))
            node.System.EventStream.Publish(new DisassociatedEvent(node.SelfAddress, live, false));

        await AwaitAssertAsync(() => Assert.Equal(2, logs.Count(l => l.Contains($"Remoting port of {live} accepted"))),
            TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));
        // The answer decides nothing: nobody is downed, every member is still Up everywhere.
        Assert.DoesNotContain(logs, l => l.Contains("is dead"));
        await Cluster.AwaitUpAsync(TimeSpan.FromSeconds(1));
        Assert.All(Cluster.Nodes, n => Assert.Equal(3, Akka.Cluster.Cluster.Get(n.System).State.Members.Count(m => m.Status == MemberStatus.Up)));
    }

    private static ConcurrentQueue<string> Collect(params ActorSystem[] systems)
    {
        var lines = new ConcurrentQueue<string>();
        foreach (var system in systems)
        {
            var collector = system.ActorOf(Props.Create(() => new LogCollector(lines)));
            system.EventStream.Subscribe(collector, typeof(Info));
            system.EventStream.Subscribe(collector, typeof(Warning));
        }
        return lines;
    }

    /// <summary>Each line as its template with the arguments filled in by name order (the test systems' formatter knows only {0}).</summary>
    private sealed class LogCollector : ReceiveActor
    {
        public LogCollector(ConcurrentQueue<string> lines)
        {
            Receive<LogEvent>(e =>
            {
                if (e.Message is not LogMessage m)
                {
                    lines.Enqueue(e.Message?.ToString() ?? "");
                    return;
                }
                var args = m.Parameters().ToArray();
                int next = 0;
                lines.Enqueue(System.Text.RegularExpressions.Regex.Replace(m.Format, @"\{[^}]+\}", match => next < args.Length ? $"{args[next++]}" : match.Value));
            });
        }
    }
}
