using Akka.Actor;
using Akka.Cluster.Sharding;
using AkkaVoice.Protocol;

namespace AkkaVoice.Cluster.Users;

/// <summary>
/// The user directory entry of one user, a sharded entity: the connections that user has open, on any
/// node. A <c>direct</c> message goes to exactly those connections. Connections are watched, so a node
/// that dies takes its connections out of the directory.
/// </summary>
public sealed class UserActor : ReceiveActor
{
    private sealed record ConnectionGone(IActorRef Connection);

    private readonly HashSet<IActorRef> connections = [];

    public UserActor()
    {
        Receive<RegisterConnection>(r =>
        {
            if (connections.Add(r.Connection)) Context.WatchWith(r.Connection, new ConnectionGone(r.Connection));
        });
        Receive<UnregisterConnection>(u => Remove(u.Connection));
        Receive<ConnectionGone>(g => Remove(g.Connection));
        Receive<SendDirect>(d =>
        {
            if (connections.Count == 0)
            {
                Sender.Tell(new DirectResult(d.User, false, d.Ref));
                return;
            }
            var text = new ClientText(ServerMessages.Direct(d.From, d.Text));
            foreach (var c in connections) c.Tell(text);
            Sender.Tell(new DirectResult(d.User, true, d.Ref));
        });
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new UserActor());

    private void Remove(IActorRef connection)
    {
        if (!connections.Remove(connection)) return;
        Context.Unwatch(connection);
        // A user with no connections has nothing to remember; messages that arrive meanwhile are buffered by passivation.
        if (connections.Count == 0) Context.Parent.Tell(new Passivate(PoisonPill.Instance));
    }
}
