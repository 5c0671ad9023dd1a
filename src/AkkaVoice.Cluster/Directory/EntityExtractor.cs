using Akka.Cluster.Sharding;
using AkkaVoice.Cluster.Rooms;
using AkkaVoice.Cluster.Users;

namespace AkkaVoice.Cluster.Directory;

/// <summary>
/// Routes room messages by room id and user directory messages by user id, each to the shard the
/// <see cref="RoomDirectory"/> gives. Messages it does not know get null, as sharding expects.
/// </summary>
public sealed class EntityExtractor(RoomDirectory directory) : IMessageExtractor
{
    public string? EntityId(object message) => message switch
    {
        IRoomMessage m => m.Room,
        IUserMessage m => m.User,
        _ => null,
    };

    public object? EntityMessage(object message) => message;

    public string? ShardId(object message) => EntityId(message) is { } id ? directory.ShardOf(id) : null;

    public string ShardId(string entityId, object? messageHint = null) => directory.ShardOf(entityId);
}
