using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using static Akka.Cluster.ClusterEvent;

namespace AkkaVoice.Cluster.Directory;

/// <summary>One structured log line per cluster membership change this node sees: up, leaving, exiting, removed, unreachable, reachable.</summary>
public sealed class ClusterEventLogger : ReceiveActor
{
    private readonly ILoggingAdapter log = Context.GetLogger();

    public ClusterEventLogger()
    {
        Receive<MemberUp>(e => log.Info("Member {Member} is up", e.Member.Address));
        Receive<MemberLeft>(e => log.Info("Member {Member} is leaving", e.Member.Address));
        Receive<MemberExited>(e => log.Info("Member {Member} is exiting", e.Member.Address));
        Receive<MemberRemoved>(e => log.Info("Member {Member} removed (was {PreviousStatus})", e.Member.Address, e.PreviousStatus));
        Receive<UnreachableMember>(e => log.Warning("Member {Member} is unreachable", e.Member.Address));
        Receive<ReachableMember>(e => log.Info("Member {Member} is reachable again", e.Member.Address));
        Receive<IClusterDomainEvent>(_ => { });
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new ClusterEventLogger());

    protected override void PreStart() =>
        Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, InitialStateAsEvents,
            typeof(MemberUp), typeof(MemberLeft), typeof(MemberExited), typeof(MemberRemoved), typeof(UnreachableMember), typeof(ReachableMember));

    protected override void PostStop() => Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
}
