using Akka.Actor;
using AkkaVoice.Cluster.Hub;
using AkkaVoice.Cluster.Serialization;
using AkkaVoice.Cluster.Users;
using Xunit;

namespace AkkaVoice.Tests.Serialization;

/// <summary>The server API's user and room-listing messages round-trip through <see cref="WireSerializer"/>.</summary>
public sealed class UserApiWireTests(WireSerializerFixture fixture) : IClassFixture<WireSerializerFixture>
{
    private const string Unicode = "caf\u00e9 \u4f60\u597d \U0001F600 \"quoted\" \n \0";

    private ActorSystem Sys => fixture.Kit.Sys;

    private T RoundTrip<T>(T message) where T : notnull => fixture.RoundTripEqual(message);

    private T Bytes<T>(T message) where T : notnull => fixture.RoundTrip(message);

    [Fact]
    public void Finding_a_user_round_trips() => RoundTrip(new FindUser("alice"));

    [Fact]
    public void A_users_nodes_round_trip_with_remote_and_local_hubs()
    {
        var remote = ((ExtendedActorSystem)Sys).Provider.ResolveActorRef("akka.tcp://akkavoice@10.0.0.99:4053/user/hub#1234567");
        var back = Bytes(new UserNodes("alice", [remote, fixture.Kit.TestActor]));
        Assert.Equal("alice", back.User);
        Assert.Equal(remote.Path, back.Hubs[0].Path);
        Assert.Equal(fixture.Kit.TestActor.Path, back.Hubs[1].Path);
        Assert.Empty(Bytes(new UserNodes("bob", [])).Hubs);
    }

    [Fact]
    public void Direct_disconnect_and_their_answer_round_trip()
    {
        RoundTrip(new DirectToUser("alice", Unicode));
        RoundTrip(new DisconnectUser("alice", Unicode));
        RoundTrip(new ConnectionsReached("alice", 3));
    }

    [Fact]
    public void A_room_listing_page_and_its_request_round_trip()
    {
        RoundTrip(new ListLocalRooms("lobby-", "lobby-17", 1000));
        RoundTrip(new LocalRoomPage(["a", "b:c", "d.e_f-g"]));
        RoundTrip(new LocalRoomPage([]));
    }
}
