using Akka.Cluster.Sharding;
using AkkaVoice.Cluster.Rooms;
using AkkaVoice.Cluster.Users;

namespace AkkaVoice.Cluster.Directory;

/// <summary>
/// Routes room messages by room id to one entity per room, and user directory messages by user id to one
/// entity per shard (the <see cref="UserDirectory"/> entry holds all of that shard's users), each to the
/// shard the <see cref="RoomDirectory"/> gives. Messages it does not know get null, as sharding expects.
/// </summary>
public sealed class EntityExtractor(RoomDirectory directory) : IMessageExtractor
{
    /// <summary>
    /// User directory entries are named after their shard with this prefix, so the name alone gives the shard;
    /// <c>~</c> is not allowed in room ids, so no room's name can look like it.
    /// </summary>
    public const string UserEntryPrefix = "~users-";

    public string? EntityId(object message) => message switch
    {
        IRoomMessage m => m.Room,
        IUserMessage m => UserEntryPrefix + directory.ShardOf(m.User),
        _ => null,
    };

    public object? EntityMessage(object message) => message;

    public string? ShardId(object message) => message switch
    {
        IRoomMessage m => directory.ShardOf(m.Room),
        IUserMessage m => directory.ShardOf(m.User),
        _ => null,
    };

    public string ShardId(string entityId, object? messageHint = null) =>
        entityId.StartsWith(UserEntryPrefix, StringComparison.Ordinal) ? entityId[UserEntryPrefix.Length..] : directory.ShardOf(entityId);
}
