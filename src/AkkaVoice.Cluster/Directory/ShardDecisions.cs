using Akka.Actor;

namespace AkkaVoice.Cluster.Directory;

/// <summary>
/// Published on the event stream of the node running a shard coordinator each time its allocation
/// strategy places a shard: <paramref name="From"/> is the region it was handed off from, or null for a
/// fresh allocation (a new shard, or one whose node crashed).
/// </summary>
public sealed record ShardAllocated(string Shard, Address Node, Address? From);

/// <summary>Published when the allocation strategy asks the coordinator to hand a shard off from one live node to another.</summary>
public sealed record ShardRebalanceStarted(string Shard, Address From, Address To);
