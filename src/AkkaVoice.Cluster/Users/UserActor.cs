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

    /// <summary>How many answered direct requests are remembered to recognise repeats.</summary>
    private const int RecentLimit = 1024;

    private readonly HashSet<IActorRef> connections = [];
    private readonly Dictionary<(IActorRef, long), bool> recent = [];
    private readonly Queue<(IActorRef, long)> recentOrder = new();

    public UserActor()
    {
        Receive<RegisterConnection>(r =>
        {
            if (connections.Add(r.Connection)) Context.WatchWith(r.Connection, new ConnectionGone(r.Connection));
            r.Connection.Tell(new UserRegistered(r.User));
        });
        Receive<UnregisterConnection>(u => Remove(u.Connection));
        Receive<ConnectionGone>(g => Remove(g.Connection));
        Receive<SendDirect>(d =>
        {
            var key = (Sender, d.Request);
            if (!recent.TryGetValue(key, out var delivered))
            {
                delivered = connections.Count > 0;
                if (delivered)
                {
                    var text = new ClientText(ServerMessages.Direct(d.From, d.Text));
                    foreach (var c in connections) c.Tell(text);
                }
                Remember(key, delivered);
            }
            Sender.Tell(new DirectResult(d.User, delivered, d.Ref, d.Request));
        });
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new UserActor());

    private void Remember((IActorRef, long) key, bool delivered)
    {
        recent[key] = delivered;
        recentOrder.Enqueue(key);
        if (recentOrder.Count > RecentLimit) recent.Remove(recentOrder.Dequeue());
    }

    private void Remove(IActorRef connection)
    {
        if (!connections.Remove(connection)) return;
        Context.Unwatch(connection);
        // A user with no connections has nothing to remember; messages that arrive meanwhile are buffered by passivation.
        if (connections.Count == 0) Context.Parent.Tell(new Passivate(PoisonPill.Instance));
    }
}
