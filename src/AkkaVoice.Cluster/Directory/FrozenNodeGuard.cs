using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Remote;

namespace AkkaVoice.Cluster.Directory;

/// <summary>
/// Makes a node that the others have (or must have) downed stop at once, instead of running its rooms
/// on until its own split-brain resolver agrees. Two signs, either enough:
/// <list type="bullet">
/// <item>the node was frozen (a SIGSTOP, a stuck VM, a pause of the whole process) for longer than the
/// others wait before they down a silent member: <c>acceptable-heartbeat-pause</c> + the resolver's
/// <c>stable-after</c>. By then they have moved its rooms elsewhere; once it runs again, every room it
/// still has is a second incarnation. The freeze is seen as a gap in a 50 ms tick on the monotonic clock
/// (which a suspend of the whole machine does not advance, so a laptop that slept is left alone).</item>
/// <item>a member quarantined this node (<see cref="ThisActorSystemQuarantinedEvent"/>): it removed this
/// node from the cluster, which cannot be undone.</item>
/// </list>
/// Either way the node downs itself; the resolver would do the same one <c>stable-after</c> later, and in
/// between its rooms and the new homes both ran. Downing starts the coordinated shutdown that closes the
/// sockets with 1001, so the node's clients reconnect elsewhere. Its rooms stop acting even sooner, at
/// the first message after the freeze (<see cref="NodeFence"/>).
/// </summary>
public sealed class FrozenNodeGuard : ReceiveActor, IWithTimers
{
    private static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(50);

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    private readonly Akka.Cluster.Cluster cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly ILoggingAdapter log = Context.GetLogger();
    private readonly NodeFence fence;

    public FrozenNodeGuard(NodeFence fence)
    {
        this.fence = fence;
        Receive<Tick>(_ =>
        {
            var gap = fence.SinceLastTick;
            fence.Ticked();
            if (gap >= fence.DownedAfter && HasOtherMembers())
                DownSelf("Node {Node} was frozen for {FrozenSeconds:F1} s, longer than the {DownedAfterSeconds:F1} s after which the others down a silent member; downing itself",
                    cluster.SelfAddress, gap.TotalSeconds, fence.DownedAfter.TotalSeconds);
        });
        Receive<ThisActorSystemQuarantinedEvent>(e =>
        {
            if (cluster.State.Members.Any(m => m.Address.Equals(e.RemoteAddress)))
                DownSelf("Node {Node} was quarantined by member {Member}, which removed it from the cluster; downing itself",
                    cluster.SelfAddress, e.RemoteAddress);
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>On the cluster's own dispatcher, so that a busy default dispatcher cannot delay the tick after a freeze.</summary>
    public static Props Props(NodeFence fence) => Akka.Actor.Props.Create(() => new FrozenNodeGuard(fence)).WithDispatcher("akkavoice.cluster-dispatcher");

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(ThisActorSystemQuarantinedEvent));
        Timers.StartPeriodicTimer(Tick.Instance, Tick.Instance, TickInterval);
    }

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    private bool HasOtherMembers() => cluster.State.Members.Any(m => !m.Address.Equals(cluster.SelfAddress));

    private void DownSelf(string template, params object[] args)
    {
        // Only a member in service: a node that is leaving, or already shutting down, is on its way out.
        if (fence.Downing || cluster.SelfMember.Status is not (MemberStatus.Up or MemberStatus.WeaklyUp)
            || CoordinatedShutdown.Get(Context.System).ShutdownReason is not null) return;
        fence.Close();
        log.Warning(template, args);
        cluster.Down(cluster.SelfAddress);
    }
}

/// <summary>
/// Whether this node's rooms may still act. Closed for good once <see cref="FrozenNodeGuard"/> downs the
/// node, and closed from the first instant after a freeze, before the guard has even run again: its last
/// tick is then older than <see cref="DownedAfter"/>. Rooms check it on every message, so a room on a node
/// that wakes up after the others moved its rooms elsewhere emits nothing, not even for a moment.
/// </summary>
public sealed class NodeFence(TimeSpan downedAfter)
{
    private long lastTick = Stopwatch.GetTimestamp();
    private volatile bool downing;

    /// <summary>How long a silent member lasts before the others down it: <c>acceptable-heartbeat-pause</c> + <c>stable-after</c>.</summary>
    public TimeSpan DownedAfter { get; } = downedAfter;

    public static NodeFence FromConfig(Akka.Configuration.Config config) =>
        new(config.GetTimeSpan("akka.cluster.failure-detector.acceptable-heartbeat-pause")
            + config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"));

    /// <summary>True once the node downs itself, or while the guard has not ticked for <see cref="DownedAfter"/>.</summary>
    public bool IsClosed => downing || SinceLastTick >= DownedAfter;

    internal bool Downing => downing;

    internal TimeSpan SinceLastTick => Stopwatch.GetElapsedTime(Volatile.Read(ref lastTick));

    internal void Ticked() => Volatile.Write(ref lastTick, Stopwatch.GetTimestamp());

    internal void Close() => downing = true;
}
