using Akka.Actor;
using AkkaVoice.Cluster.Serialization;

namespace AkkaVoice.Cluster.Users;

/// <summary>A message for the user directory; routed by <see cref="User"/> to the directory entry that holds that user.</summary>
public interface IUserMessage
{
    string User { get; }
}

/// <summary>
/// A node's hub has connections of these users (all of one directory entry); answered with
/// <see cref="UsersRegistered"/>. One message per node and entry, not per connection.
/// </summary>
public sealed record RegisterUsers(IActorRef Hub, string[] Users) : IUserMessage, IWireMessage
{
    public string User => Users[0];
}

/// <summary>The directory entry holds the users. The hub watches the entry (its sender) and registers them again if it stops.</summary>
public sealed record UsersRegistered(string[] Users) : IWireMessage;

/// <summary>The last connection of <paramref name="User"/> on the node of <paramref name="Hub"/> closed.</summary>
public sealed record UnregisterUser(string User, IActorRef Hub) : IUserMessage, IWireMessage;

/// <summary>
/// Text for every connection of <paramref name="User"/>; the sender gets a <see cref="DirectResult"/>. The sender
/// repeats it until answered (a message can be dropped while its shard hands off); <paramref name="Request"/>,
/// unique per sender, lets the entry deliver a repeat only once.
/// </summary>
public sealed record SendDirect(string User, string From, string Text, string? Ref, long Request) : IUserMessage, IWireMessage;

/// <summary>Whether a direct message reached at least one node with a connection of the user.</summary>
public sealed record DirectResult(string To, bool Delivered, string? Ref, long Request) : IWireMessage;

/// <summary>An encoded <c>direct</c> for every connection of <paramref name="To"/> on one node.</summary>
public sealed record DirectText(string To, byte[] Json) : IWireMessage;
