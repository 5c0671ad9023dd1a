using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Remote;
using AkkaVoice.Cluster.Serialization;
using static Akka.Cluster.ClusterEvent;

namespace AkkaVoice.Cluster.Directory;

/// <summary>
/// Downs a member whose process is gone at once, instead of after the failure detector's pause and the
/// split-brain resolver's <c>stable-after</c>. A dead process leaves a host that answers: its remoting port
/// refuses connections (the kernel answers a SYN to a port nobody listens on with a reset). A live process
/// never does: a paused one still has its listening socket, whose backlog the kernel keeps completing
/// handshakes for; a partitioned or overloaded one gives silence or a late accept. So each node probes a
/// suspect's remoting port (when its association to it drops, and while it is unreachable) and tells every
/// member what it saw; a suspect is downed through <see cref="Akka.Cluster.Cluster.Down"/> once a majority of
/// the other members (this node included, reachable or not) saw its port refuse, or another
/// <see cref="IProcessRecords"/> (Kubernetes: the pod API) says its process is gone. Silence changes nothing:
/// the resolver's cautious path decides those cases as before.
/// </summary>
public sealed class DeadNodeDetector : ReceiveActor, IWithTimers
{
    /// <summary>The actor's name under /user, the same on every node: members send their evidence there.</summary>
    public const string Name = "dead-node-detector";

    // Probes after a dropped association: a dead process refuses from the first one; a live one that merely
    // reconnects needs none of them, and an unreachable one is probed on for as long as it stays so.
    private const int ProbesAfterDisassociation = 3;
    private static readonly TimeSpan RememberTimeout = TimeSpan.FromSeconds(10);

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed record Probed(UniqueAddress Member, PortAnswer Answer, string? Gone);

    private readonly Akka.Cluster.Cluster cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly ILoggingAdapter log = Context.GetLogger();
    private readonly HealingSettings settings;
    private readonly IProcessRecords? records;
    // Suspects and how many probes each has left (int.MaxValue while unreachable).
    private readonly Dictionary<UniqueAddress, int> suspects = [];
    private readonly HashSet<UniqueAddress> probing = [];
    private readonly Dictionary<UniqueAddress, PortAnswer> lastAnswer = [];
    // Per suspect: the members that saw its process gone.
    private readonly Dictionary<UniqueAddress, HashSet<Address>> evidence = [];
    private readonly HashSet<UniqueAddress> downed = [];

    public DeadNodeDetector(HealingSettings settings, IProcessRecords? records)
    {
        this.settings = settings;
        this.records = records;
        Receive<DisassociatedEvent>(e => Suspect(e.RemoteAddress, ProbesAfterDisassociation));
        Receive<UnreachableMember>(e => Suspect(e.Member.UniqueAddress, int.MaxValue));
        Receive<ReachableMember>(e => Forget(e.Member.UniqueAddress));
        Receive<MemberRemoved>(e => Forget(e.Member.UniqueAddress));
        Receive<MemberUp>(e =>
        {
            if (records is not null && !e.Member.Address.Equals(cluster.SelfAddress)) Remember(records, e.Member.Address);
        });
        Receive<IClusterDomainEvent>(_ => { });
        Receive<Tick>(_ =>
        {
            foreach (var member in suspects.Keys.ToList()) Probe(member);
        });
        Receive<Probed>(OnProbed);
        Receive<DeadNodeEvidence>(OnEvidence);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>On the cluster's own dispatcher, beside the failure detector it short-cuts.</summary>
    public static Props Props(HealingSettings settings, IProcessRecords? records) =>
        Akka.Actor.Props.Create(() => new DeadNodeDetector(settings, records)).WithDispatcher("akkavoice.cluster-dispatcher");

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(DisassociatedEvent));
        cluster.Subscribe(Self, InitialStateAsEvents, typeof(UnreachableMember), typeof(ReachableMember), typeof(MemberRemoved), typeof(MemberUp));
        Timers.StartPeriodicTimer(Tick.Instance, Tick.Instance, settings.DeadNodeProbeInterval);
    }

    protected override void PostStop()
    {
        Context.System.EventStream.Unsubscribe(Self);
        cluster.Unsubscribe(Self);
    }

    private void Suspect(Address address, int probes)
    {
        var member = cluster.State.Members.FirstOrDefault(m => m.Address.Equals(address));
        if (member is not null) Suspect(member.UniqueAddress, probes);
    }

    private void Suspect(UniqueAddress member, int probes)
    {
        if (member.Equals(cluster.SelfUniqueAddress) || downed.Contains(member)) return;
        suspects[member] = Math.Max(probes, suspects.GetValueOrDefault(member));
        Probe(member);
    }

    // Off the actor's thread; a failed lookup only means this node has no container to compare with later.
    private static void Remember(IProcessRecords records, Address member) => _ = Task.Run(async () =>
    {
        using var cts = new CancellationTokenSource(RememberTimeout);
        try
        {
            await records.RememberAsync(member, cts.Token).ConfigureAwait(false);
        }
        catch (Exception)
        {
        }
    });

    private void Forget(UniqueAddress member)
    {
        suspects.Remove(member);
        lastAnswer.Remove(member);
        evidence.Remove(member);
        if (cluster.State.Members.All(m => !m.UniqueAddress.Equals(member))) downed.Remove(member);
    }

    private void Probe(UniqueAddress member)
    {
        if (!suspects.TryGetValue(member, out var left) || probing.Contains(member)) return;
        if (left <= 0 || !InService(member))
        {
            if (left <= 0) suspects.Remove(member);
            return;
        }
        if (left != int.MaxValue) suspects[member] = left - 1;
        probing.Add(member);
        var timeout = settings.DeadNodeProbeTimeout;
        var records = this.records;
        ProbeAsync(member, timeout, records).PipeTo(Self);
    }

    private static async Task<Probed> ProbeAsync(UniqueAddress member, TimeSpan timeout, IProcessRecords? records)
    {
        var answer = await RemotingPortProbe.ProbeAsync(member.Address.Host!, member.Address.Port ?? 0, timeout).ConfigureAwait(false);
        string? gone = null;
        if (answer != PortAnswer.Refused && records is not null)
        {
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                gone = await records.GoneAsync(member.Address, cts.Token).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // No answer from the records is no evidence either way.
            }
        }
        return new Probed(member, answer, gone);
    }

    private void OnProbed(Probed p)
    {
        probing.Remove(p.Member);
        if (!suspects.ContainsKey(p.Member) || !InService(p.Member)) return;
        if (lastAnswer.GetValueOrDefault(p.Member, (PortAnswer)(-1)) != p.Answer)
        {
            lastAnswer[p.Member] = p.Answer;
            log.Info("Remoting port of {Member} {Answer}", p.Member.Address, Describe(p.Answer));
        }
        var why = p.Answer == PortAnswer.Refused ? "its remoting port refused connections" : p.Gone;
        if (why is null) return;
        var seen = new DeadNodeEvidence(p.Member.Address.ToString(), p.Member.Uid, cluster.SelfAddress.ToString(), why);
        foreach (var m in cluster.State.Members)
        {
            if (m.UniqueAddress.Equals(p.Member) || m.Address.Equals(cluster.SelfAddress)) continue;
            Context.ActorSelection(new RootActorPath(m.Address) / "user" / Name).Tell(seen);
        }
        OnEvidence(seen);
    }

    private void OnEvidence(DeadNodeEvidence e)
    {
        var target = cluster.State.Members.FirstOrDefault(m => m.Address.ToString() == e.Member && m.UniqueAddress.Uid == e.Uid);
        if (target is null || downed.Contains(target.UniqueAddress) || !InService(target.UniqueAddress)
            || !Address.TryParse(e.Observer, out var observer)) return;
        if (!evidence.TryGetValue(target.UniqueAddress, out var observers)) evidence[target.UniqueAddress] = observers = [];
        observers.Add(observer);

        // The members that count: every member in service other than the suspect, reachable or not. A side of a
        // partition without a majority of them can never down anyone, even where the network answers a cut-off
        // path with resets (a firewall's reject rule), so two sides can never both go on alone.
        var voters = cluster.State.Members
            .Where(m => !m.UniqueAddress.Equals(target.UniqueAddress)
                && m.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Leaving or MemberStatus.Joining)
            .Select(m => m.Address).ToHashSet();
        var agreeing = observers.Count(voters.Contains);
        if (agreeing < DeadNodeRule.Quorum(voters.Count)) return;
        downed.Add(target.UniqueAddress);
        suspects.Remove(target.UniqueAddress);
        log.Warning("Member {Member} is dead: {Evidence}, seen by {Agreeing} of the {Voters} members that count; downing it",
            target.Address, e.Evidence, agreeing, voters.Count);
        // Quarantining its incarnation makes the cluster mark it terminated as well as down: a downed member that
        // the failure detector has not yet marked unreachable would stay until it does (~4.5 s), since the leader
        // removes only unreachable or terminated downed members. The incarnation is dead; a restarted process
        // has a new uid and joins as usual.
        ((RemoteActorRefProvider)((ExtendedActorSystem)Context.System).Provider).Quarantine(target.Address, target.UniqueAddress.Uid);
        cluster.Down(target.Address);
    }

    // A member still to be decided about: not already on its way out.
    private bool InService(UniqueAddress member) =>
        cluster.State.Members.FirstOrDefault(m => m.UniqueAddress.Equals(member)) is { } m
        && m.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Leaving or MemberStatus.Joining;

    private static string Describe(PortAnswer answer) => answer switch
    {
        PortAnswer.Refused => "refused the connection: its process is gone",
        PortAnswer.Accepted => "accepted a connection: its process may be alive",
        _ => "did not answer: silence decides nothing",
    };
}

/// <summary>The rule of <see cref="DeadNodeDetector"/> on its own, so that it reads (and tests) in one place.</summary>
public static class DeadNodeRule
{
    /// <summary>How many of <paramref name="voters"/> members (every other member in service) must have seen a member's process gone: a majority.</summary>
    public static int Quorum(int voters) => voters / 2 + 1;
}

/// <summary>What a TCP connection to a member's remoting port answered.</summary>
public enum PortAnswer
{
    /// <summary>A reset: nobody listens there, the process is gone.</summary>
    Refused,

    /// <summary>The handshake completed: a process holds the port (whether it runs or is stopped).</summary>
    Accepted,

    /// <summary>No answer within the timeout, or the network said it cannot reach the host: decides nothing.</summary>
    Silent,
}

/// <summary>A TCP connect to a remoting port, closed at once, telling refusal from silence.</summary>
public static class RemotingPortProbe
{
    public static async Task<PortAnswer> ProbeAsync(string host, int port, TimeSpan timeout)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await socket.ConnectAsync(host, port, cts.Token).ConfigureAwait(false);
            return PortAnswer.Accepted;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return PortAnswer.Refused;
        }
        catch (Exception)
        {
            // A timeout, an unreachable network, a name that does not resolve: nothing proves the process gone.
            return PortAnswer.Silent;
        }
    }
}

/// <summary>
/// A second witness that a member's process is gone, beside its refused remoting port: in Kubernetes the
/// pod API (the pod was deleted, or its container restarted).
/// </summary>
public interface IProcessRecords
{
    /// <summary>Notes what the member's process is while it is known to run (called when it comes up).</summary>
    Task RememberAsync(Address member, CancellationToken cancellationToken);

    /// <summary>Why the member's process is known to be gone, or null when nothing says so.</summary>
    Task<string?> GoneAsync(Address member, CancellationToken cancellationToken);
}

/// <summary>A member's evidence that another member's process is gone, sent to every member's <see cref="DeadNodeDetector"/>.</summary>
public sealed record DeadNodeEvidence(string Member, long Uid, string Observer, string Evidence) : IWireMessage;
