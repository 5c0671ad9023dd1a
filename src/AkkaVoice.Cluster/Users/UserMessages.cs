using Akka.Actor;
using AkkaVoice.Cluster.Serialization;

namespace AkkaVoice.Cluster.Users;

/// <summary>A message for the user directory entity of <see cref="User"/>.</summary>
public interface IUserMessage
{
    string User { get; }
}

/// <summary>A connection of <paramref name="User"/> opened on some node.</summary>
public sealed record RegisterConnection(string User, IActorRef Connection) : IUserMessage, IWireMessage;

/// <summary>A connection of <paramref name="User"/> closed.</summary>
public sealed record UnregisterConnection(string User, IActorRef Connection) : IUserMessage, IWireMessage;

/// <summary>Text for every connection of <paramref name="User"/>; the sender gets a <see cref="DirectResult"/>.</summary>
public sealed record SendDirect(string User, string From, string Text, string? Ref) : IUserMessage, IWireMessage;

/// <summary>Whether a direct message reached at least one connection.</summary>
public sealed record DirectResult(string To, bool Delivered, string? Ref) : IWireMessage;

/// <summary>An encoded text message for one connection.</summary>
public sealed record ClientText(byte[] Json) : IWireMessage;
