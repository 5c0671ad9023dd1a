using Akka.Actor;
using AkkaVoice.Cluster.Directory;
using AkkaVoice.Cluster.Rooms;
using AkkaVoice.Cluster.Users;
using Xunit;

namespace AkkaVoice.Tests.Directory;

public sealed class EntityExtractorTests
{
    private static readonly RoomDirectory Directory = new(100);
    private static readonly EntityExtractor Extractor = new(Directory);

    public static TheoryData<object, string> RoomMessages() => new()
    {
        { new JoinRoom("lobby", 1, "alice", ActorRefs.Nobody, ActorRefs.Nobody, 0, null, 0, []), "lobby" },
        { new LeaveRoom("room-42", 1), "room-42" },
        { new Say("team.red:general", 1, "hi", null), "team.red:general" },
        { new VoiceIn("lobby", 1, [1]), "lobby" },
        { new GetRoomInfo("lobby"), "lobby" },
    };

    public static TheoryData<object, string> UserMessages() => new()
    {
        { new RegisterConnection("alice", ActorRefs.Nobody), "alice" },
        { new UnregisterConnection("alice", ActorRefs.Nobody), "alice" },
        { new SendDirect("bob", "alice", "psst", null), "bob" },
    };

    [Theory]
    [MemberData(nameof(RoomMessages))]
    [MemberData(nameof(UserMessages))]
    public void A_room_or_user_message_goes_to_its_entity_in_the_directory_shard(object message, string entity)
    {
        Assert.Equal(entity, Extractor.EntityId(message));
        Assert.Equal(Directory.ShardOf(entity), Extractor.ShardId(message));
        Assert.Equal(Directory.ShardOf(entity), Extractor.ShardId(entity));
        Assert.Same(message, Extractor.EntityMessage(message));
    }

    public static TheoryData<object> OtherMessages() => new()
    {
        new VoiceOut("lobby", 1, [1]),
        new RoomJoined("lobby", 1, 1, 0, [], [], null),
        new DirectResult("bob", true, null),
        new ClientText([]),
        "lobby",
        42,
    };

    [Theory]
    [MemberData(nameof(OtherMessages))]
    public void A_message_for_no_entity_gets_no_entity_and_no_shard(object message)
    {
        Assert.Null(Extractor.EntityId(message));
        Assert.Null(Extractor.ShardId(message));
    }
}
