using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Event;
using Akka.Remote;
using Xunit;
using Xunit.Abstractions;

namespace AkkaVoice.Tests.Cluster;

/// <summary>
/// A node that another member has quarantined (removed from the cluster while it could not be reached)
/// downs itself at once, rather than running its rooms on until its own split-brain resolver decides.
/// The frozen-process half of the guard is tested with a real SIGSTOP in the integration tests.
/// </summary>
public sealed class FrozenNodeGuardSpec(ITestOutputHelper output) : ClusterSpec(output, 2)
{
    [Fact]
    public async Task A_node_quarantined_by_a_member_downs_itself_before_the_resolver_would()
    {
        var victim = Cluster[1];
        var warnings = new ConcurrentQueue<string>();
        victim.System.EventStream.Subscribe(victim.System.ActorOf(Props.Create(() => new WarningCollector(warnings))), typeof(Warning));

        // What a member does to a node it removed: no association from that incarnation is accepted again.
        var uid = Akka.Cluster.Cluster.Get(victim.System).SelfUniqueAddress.Uid;
        ((RemoteActorRefProvider)((ExtendedActorSystem)Sys).Provider).Quarantine(victim.SelfAddress, uid);

        // The victim hears of it on its next attempt to reach node 0 (its heartbeats, twice a second).
        await AwaitAssertAsync(() => Assert.Contains(warnings, w => w.Contains("was quarantined by member")), TimeSpan.FromSeconds(10));
        // The quarantined node shuts down (a TimeoutException here if it does not).
        await victim.System.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(15));
        // Its own resolver (2 s pause + 2 s stable-after here) would have downed it only later, and with another line.
        Assert.DoesNotContain(warnings, w => w.Contains("SBR took decision"));
    }

    private sealed class WarningCollector : ReceiveActor
    {
        public WarningCollector(ConcurrentQueue<string> warnings)
        {
            Receive<Warning>(w => warnings.Enqueue(w.Message?.ToString() ?? ""));
        }
    }
}
