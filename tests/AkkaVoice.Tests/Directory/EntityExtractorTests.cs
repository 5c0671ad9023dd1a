using Akka.Actor;
using AkkaVoice.Cluster.Directory;
using AkkaVoice.Cluster.Rooms;
using AkkaVoice.Protocol;
using AkkaVoice.Cluster.Users;
using Xunit;

namespace AkkaVoice.Tests.Directory;

public sealed class EntityExtractorTests
{
    private static readonly RoomDirectory Directory = new(100);
    private static readonly EntityExtractor Extractor = new(Directory);

    public static TheoryData<object, string> RoomMessages() => new()
    {
        { new JoinRoom("lobby", 1, "alice", ActorRefs.Nobody, ActorRefs.Nobody, 0, null, 0), "lobby" },
        { new RejoinRoom("lobby", ActorRefs.Nobody, ActorRefs.Nobody, [], 0, []), "lobby" },
        { new LeaveRoom("room-42", 1), "room-42" },
        { new Say("team.red:general", 1, "hi", null), "team.red:general" },
        { new VoiceIn("lobby", 1, [1]), "lobby" },
        { new GetRoomInfo("lobby"), "lobby" },
    };

    public static TheoryData<object, string> UserMessages() => new()
    {
        { new RegisterUsers(ActorRefs.Nobody, ["alice"]), "alice" },
        { new UnregisterUser("alice", ActorRefs.Nobody), "alice" },
        { new SendDirect("bob", "alice", "psst", null, 1), "bob" },
    };

    [Theory]
    [MemberData(nameof(RoomMessages))]
    public void A_room_message_goes_to_its_room_in_the_directory_shard(object message, string room)
    {
        Assert.Equal(room, Extractor.EntityId(message));
        Assert.Equal(Directory.ShardOf(room), Extractor.ShardId(message));
        Assert.Equal(Directory.ShardOf(room), Extractor.ShardId(room));
        Assert.Same(message, Extractor.EntityMessage(message));
    }

    [Theory]
    [MemberData(nameof(UserMessages))]
    public void A_user_message_goes_to_the_directory_entry_of_its_users_shard(object message, string user)
    {
        var shard = Directory.ShardOf(user);
        var entry = Extractor.EntityId(message)!;
        Assert.Equal(EntityExtractor.UserEntryPrefix + shard, entry);
        Assert.Equal(shard, Extractor.ShardId(message));
        Assert.Equal(shard, Extractor.ShardId(entry));
    }

    public static TheoryData<object> OtherMessages() => new()
    {
        new VoiceOut("lobby", 1, [1]),
        new RoomJoined("lobby", 1, 1, 0, [], [], null, new RoomView("open", "member", "request", [], 0, 0, null), RoomVoice.Open("lobby")),
        new DirectResult("bob", true, null, 1),
        new DirectText("bob", []),
        new NoMembers("lobby"),
        new RoomMoving("lobby"),
        new RoomMovingSeen("lobby"),
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
