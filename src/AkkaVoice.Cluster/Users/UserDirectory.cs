using Akka.Actor;
using AkkaVoice.Protocol;

namespace AkkaVoice.Cluster.Users;

/// <summary>
/// One entry of the user directory, a sharded entity per shard (not per user): which nodes' hubs have
/// connections of each of the shard's users. A <c>direct</c> goes once to each of those nodes. Users
/// with no connection have no entry, so directs to strangers leave nothing behind; a node that dies
/// (its hub terminates) takes its users out.
/// </summary>
public sealed class UserDirectory : ReceiveActor
{
    private sealed record HubGone(IActorRef Hub);

    /// <summary>How many answered direct requests are remembered to recognise repeats.</summary>
    private const int RecentLimit = 1024;

    private readonly NodeStats stats;
    private readonly Dictionary<string, List<IActorRef>> hubsOf = new(StringComparer.Ordinal);
    private readonly Dictionary<IActorRef, int> usersOf = [];
    private readonly Dictionary<(IActorRef, long), bool> recent = [];
    private readonly Queue<(IActorRef, long)> recentOrder = new();

    public UserDirectory(NodeStats stats)
    {
        this.stats = stats;
        Receive<RegisterUsers>(r =>
        {
            foreach (var user in r.Users) Add(user, r.Hub);
            Sender.Tell(new UsersRegistered(r.Users));
        });
        Receive<UnregisterUser>(u => Remove(u.User, u.Hub));
        Receive<HubGone>(g =>
        {
            foreach (var user in hubsOf.Where(kv => kv.Value.Contains(g.Hub)).Select(kv => kv.Key).ToList()) Remove(user, g.Hub);
        });
        Receive<SendDirect>(OnDirect);
        Receive<FindUser>(f => Sender.Tell(new UserNodes(f.User, hubsOf.TryGetValue(f.User, out var hubs) ? [.. hubs] : [])));
    }

    public static Props Props(NodeStats stats) => Akka.Actor.Props.Create(() => new UserDirectory(stats));

    /// <summary>An entry that stops (a handoff, a passivation) takes its users off the node's count; the new home counts them.</summary>
    protected override void PostStop() => stats.DirectoryUsers.Add(-hubsOf.Count);

    private void OnDirect(SendDirect d)
    {
        var key = (Sender, d.Request);
        if (!recent.TryGetValue(key, out var delivered))
        {
            delivered = hubsOf.TryGetValue(d.User, out var hubs);
            if (delivered)
            {
                var text = new DirectText(d.User, ServerMessages.Direct(d.From, d.Text));
                foreach (var hub in hubs!)
                {
                    if (!hub.Path.Address.HasLocalScope) stats.NodeTextMessagesSent.Increment();
                    hub.Tell(text);
                }
            }
            recent[key] = delivered;
            recentOrder.Enqueue(key);
            if (recentOrder.Count > RecentLimit) recent.Remove(recentOrder.Dequeue());
        }
        Sender.Tell(new DirectResult(d.User, delivered, d.Ref, d.Request));
    }

    private void Add(string user, IActorRef hub)
    {
        if (!hubsOf.TryGetValue(user, out var hubs))
        {
            hubsOf.Add(user, hubs = new List<IActorRef>(1));
            stats.DirectoryUsers.Increment();
        }
        if (hubs.Contains(hub)) return;
        hubs.Add(hub);
        if (usersOf.TryGetValue(hub, out var count)) usersOf[hub] = count + 1;
        else
        {
            usersOf.Add(hub, 1);
            Context.WatchWith(hub, new HubGone(hub));
        }
    }

    private void Remove(string user, IActorRef hub)
    {
        if (!hubsOf.TryGetValue(user, out var hubs) || !hubs.Remove(hub)) return;
        if (hubs.Count == 0)
        {
            hubsOf.Remove(user);
            stats.DirectoryUsers.Decrement();
        }
        if (--usersOf[hub] > 0) return;
        usersOf.Remove(hub);
        Context.Unwatch(hub);
    }
}
