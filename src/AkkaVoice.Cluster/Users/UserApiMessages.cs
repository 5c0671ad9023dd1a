using Akka.Actor;
using AkkaVoice.Cluster.Serialization;

namespace AkkaVoice.Cluster.Users;

// The server API's calls about a user (PROTOCOL section 9, /api/v1/users/{user}/...): the API asks the user's
// directory entry which nodes hold its connections (FindUser), then each of those nodes' hubs (DirectToUser,
// DisconnectUser), and adds up their answers.

/// <summary>Which nodes' hubs hold connections of <paramref name="User"/>; answered with <see cref="UserNodes"/>.</summary>
public sealed record FindUser(string User) : IUserMessage, IWireMessage;

/// <summary>The hubs with connections of <paramref name="User"/> (none: the user has no connection).</summary>
public sealed record UserNodes(string User, IActorRef[] Hubs) : IWireMessage;

/// <summary>To a hub: <c>direct {from: "system", text}</c> to each of the user's connections there; answered with <see cref="ConnectionsReached"/>.</summary>
public sealed record DirectToUser(string User, string Text) : IWireMessage;

/// <summary>To a hub: close each of the user's connections there with 4001 and <paramref name="Reason"/>; answered with <see cref="ConnectionsReached"/>.</summary>
public sealed record DisconnectUser(string User, string Reason) : IWireMessage;

/// <summary>How many of the user's connections a hub reached.</summary>
public sealed record ConnectionsReached(string User, int Connections) : IWireMessage;
