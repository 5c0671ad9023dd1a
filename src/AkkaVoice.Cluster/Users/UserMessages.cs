using Akka.Actor;
using AkkaVoice.Cluster.Serialization;

namespace AkkaVoice.Cluster.Users;

/// <summary>A message for the user directory entity of <see cref="User"/>.</summary>
public interface IUserMessage
{
    string User { get; }
}

/// <summary>A connection of <paramref name="User"/> opened on some node; answered with <see cref="UserRegistered"/>.</summary>
public sealed record RegisterConnection(string User, IActorRef Connection) : IUserMessage, IWireMessage;

/// <summary>The user directory entry holds the connection. The connection watches the entry (its sender) and registers again if it stops.</summary>
public sealed record UserRegistered(string User) : IWireMessage;

/// <summary>A connection of <paramref name="User"/> closed.</summary>
public sealed record UnregisterConnection(string User, IActorRef Connection) : IUserMessage, IWireMessage;

/// <summary>
/// Text for every connection of <paramref name="User"/>; the sender gets a <see cref="DirectResult"/>. The sender
/// repeats it until answered (a message can be dropped while its shard hands off); <paramref name="Request"/>,
/// unique per sender, lets the entry deliver a repeat only once.
/// </summary>
public sealed record SendDirect(string User, string From, string Text, string? Ref, long Request = 0) : IUserMessage, IWireMessage;

/// <summary>Whether a direct message reached at least one connection.</summary>
public sealed record DirectResult(string To, bool Delivered, string? Ref, long Request = 0) : IWireMessage;

/// <summary>An encoded text message for one connection.</summary>
public sealed record ClientText(byte[] Json) : IWireMessage;
