using System.Runtime.CompilerServices;
using System.Text;
using Akka.Actor;
using AkkaVoice.Cluster;
using Akka.Configuration;
using Akka.Serialization;
using AkkaVoice.Cluster.Directory;
using AkkaVoice.Cluster.Rooms;
using AkkaVoice.Cluster.Serialization;
using AkkaVoice.Cluster.Users;
using AkkaVoice.Protocol;
using Xunit;

namespace AkkaVoice.Tests.Serialization;

/// <summary>
/// One actor system for all the serializer tests: serializing touches no actor state, and starting a
/// cluster-provider system per test would cost seconds each.
/// </summary>
public sealed class WireSerializerFixture : IDisposable
{
    public Akka.TestKit.Xunit2.TestKit Kit { get; } = new(BootstrapSetup.Create().WithConfig(NodeConfig()).And(VoiceNodeHosting.Serialization), "akkavoice");

    /// <summary>The project's own HOCON on a free port, with the node's serializer binding (so that binding is what is tested).</summary>
    private static Config NodeConfig() =>
        ConfigurationFactory.ParseString("""
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp.port = 0
            akka.loggers = ["Akka.Event.DefaultLogger"]
            # The node's Serilog formatter is not referenced by the tests; Akka's own default stands in.
            akka.logger-formatter = "Akka.Event.SemanticLogMessageFormatter, Akka"
            akka.loglevel = WARNING
            """)
            .WithFallback(ConfigurationFactory.ParseString(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "hocon", "akkavoice.conf"))));

    /// <summary>Serializes through whatever serializer the system binds, then deserializes by id and manifest as a receiving node does.</summary>
    public T RoundTrip<T>(T message) where T : notnull
    {
        var serializer = Kit.Sys.Serialization.FindSerializerFor(message);
        Assert.IsType<WireSerializer>(serializer);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
        var bytes = serializer.ToBinary(message);
        var back = Kit.Sys.Serialization.Deserialize(bytes, serializer.Identifier, manifest);
        return Assert.IsType<T>(back);
    }

    /// <summary>
    /// <see cref="RoundTrip{T}"/>, and the two must be equal field by field: records holding arrays compare by
    /// reference, their JSON compares every element.
    /// </summary>
    public T RoundTripEqual<T>(T message) where T : notnull
    {
        var back = RoundTrip(message);
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(message), System.Text.Json.JsonSerializer.Serialize(back));
        return back;
    }

    public void Dispose() => Kit.Dispose();
}

/// <summary>
/// Every message that crosses nodes goes through <see cref="WireSerializer"/> and comes back equal. The
/// system binds the serializer as the host does (<see cref="VoiceNodeHosting"/>), so these tests also prove that binding works.
/// </summary>
public sealed class WireSerializerTests(WireSerializerFixture fixture) : IClassFixture<WireSerializerFixture>
{
    private const string Unicode = "caf\u00e9 \u4f60\u597d \U0001F600 \"quoted\" back\\slash \n new line \0 nul";

    private ActorSystem Sys => fixture.Kit.Sys;

    private IActorRef TestActor => fixture.Kit.TestActor;

    private static byte[] Payload(int length) => Enumerable.Range(0, length).Select(i => (byte)(i * 31 + 7)).ToArray();

    /// <summary>An actor on another node, as a message from there would carry it.</summary>
    private IActorRef RemoteRef(string path) =>
        ((ExtendedActorSystem)Sys).Provider.ResolveActorRef($"akka.tcp://akkavoice@10.0.0.99:4053{path}#1234567");

    private T RoundTrip<T>(T message) where T : notnull => fixture.RoundTrip(message);

    private static void SameActor(IActorRef expected, IActorRef actual)
    {
        Assert.Equal(expected.Path, actual.Path);
        Assert.Equal(expected.Path.Uid, actual.Path.Uid);
        Assert.Equal(expected.Path.Address, actual.Path.Address);
    }

    // ---- the binding and the manifests ----

    [Fact]
    public void The_serializer_id_never_changes()
    {
        // Nodes of different versions must agree on it during a rolling update.
        Assert.Equal(7301, Sys.Serialization.FindSerializerForType(typeof(IWireMessage)).Identifier);
    }

    [Fact]
    public void Every_wire_message_type_has_its_own_manifest()
    {
        var types = typeof(IWireMessage).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IWireMessage).IsAssignableFrom(t))
            .ToList();
        Assert.True(types.Count >= 23, "every wire message type is counted here");

        var serializer = Assert.IsType<WireSerializer>(Sys.Serialization.FindSerializerForType(typeof(IWireMessage)));
        var manifests = types.Select(t =>
        {
            Assert.IsType<WireSerializer>(Sys.Serialization.FindSerializerForType(t));
            return serializer.Manifest(RuntimeHelpers.GetUninitializedObject(t));
        }).ToList();
        Assert.Equal(manifests.Count, manifests.Distinct().Count());
    }

    [Fact]
    public void A_message_that_is_not_a_wire_message_is_refused()
    {
        var serializer = new WireSerializer((ExtendedActorSystem)Sys);
        Assert.Throws<ArgumentException>(() => serializer.Manifest("not a wire message"));
        Assert.Throws<ArgumentException>(() => serializer.ToBinary("not a wire message"));
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary([1, 2, 3], "??"));
    }

    // ---- voice ----

    [Theory]
    [InlineData(1)]
    [InlineData(160)]
    [InlineData(1500)]
    public void A_voice_frame_to_a_room_round_trips(int payloadLength)
    {
        var message = new VoiceIn(new string('r', 64), uint.MaxValue, Payload(payloadLength), DateTime.UtcNow.Ticks);
        var back = RoundTrip(message);
        Assert.Equal((message.Room, message.Speaker, message.ReceivedAt), (back.Room, back.Speaker, back.ReceivedAt));
        Assert.Equal(message.Payload, back.Payload);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(1500)]
    public void A_voice_frame_to_a_relay_round_trips(int payloadLength)
    {
        var message = new VoiceOut("team.red:general", 0x01020304, Payload(payloadLength), long.MaxValue);
        var back = RoundTrip(message);
        Assert.Equal((message.Room, message.Speaker, message.ReceivedAt), (back.Room, back.Speaker, back.ReceivedAt));
        Assert.Equal(message.Payload, back.Payload);
    }

    [Fact]
    public void A_batch_of_voice_frames_round_trips_in_order()
    {
        var frames = new[]
        {
            new VoiceOut("lobby", 1, Payload(100), 42),
            new VoiceOut(new string('r', 64), uint.MaxValue, Payload(1500), long.MaxValue),
            new VoiceOut("lobby", 2, [], 0),
        };
        var back = RoundTrip(new VoiceBatch(frames));
        Assert.Equal(frames.Length, back.Frames.Length);
        for (int i = 0; i < frames.Length; i++)
        {
            Assert.Equal((frames[i].Room, frames[i].Speaker, frames[i].ReceivedAt), (back.Frames[i].Room, back.Frames[i].Speaker, back.Frames[i].ReceivedAt));
            Assert.Equal(frames[i].Payload, back.Frames[i].Payload);
        }
    }

    [Fact]
    public void A_voice_frame_with_an_empty_payload_round_trips()
    {
        var back = RoundTrip(new VoiceOut("r", 0, []));
        Assert.Empty(back.Payload);
        Assert.Equal(("r", 0u), (back.Room, back.Speaker));
    }

    [Fact]
    public void A_voice_frame_costs_only_its_room_speaker_timestamp_and_payload_on_the_wire()
    {
        var serializer = Sys.Serialization.FindSerializerFor(new VoiceIn("r", 1, []));
        Assert.Equal(1 + 5 + 4 + 8 + 1500, serializer.ToBinary(new VoiceIn("lobby", 1, Payload(1500))).Length);
        Assert.Equal(1 + 64 + 4 + 8 + 1, serializer.ToBinary(new VoiceOut(new string('r', 64), 1, [9])).Length);
    }

    [Fact]
    public void A_deserialized_voice_payload_does_not_share_the_wire_buffer()
    {
        var serializer = Sys.Serialization.FindSerializerFor(new VoiceIn("r", 1, []));
        var bytes = serializer.ToBinary(new VoiceIn("r", 1, [1, 2, 3]));
        var back = (VoiceIn)Sys.Serialization.Deserialize(bytes, serializer.Identifier, "VI");
        Array.Fill(bytes, (byte)0xFF);
        Assert.Equal(new byte[] { 1, 2, 3 }, back.Payload);
    }

    // ---- rooms ----

    public static TheoryData<long?> Sinces() => [null, 0L, 1L, long.MaxValue];

    [Theory]
    [MemberData(nameof(Sinces))]
    public void A_join_round_trips_with_or_without_since(long? since)
    {
        var message = new JoinRoom("lobby", 42, "alice", TestActor, RemoteRef("/user/relay"), 7, since, 99);
        var back = RoundTrip(message);
        SameActor(message.Hub, back.Hub);
        SameActor(message.Relay, back.Relay);
        Assert.Equal(message, back with { Hub = message.Hub, Relay = message.Relay });
        Assert.Equal(since, back.Since);
    }

    [Fact]
    public void A_rejoin_round_trips_with_a_remote_hub_a_local_relay_its_members_and_peers()
    {
        MemberInfo[] members = [new(9, "bob"), new(10, "bea")];
        MemberInfo[] peers = [new(1, "alice"), new(uint.MaxValue, new string('p', 64))];
        var message = new RejoinRoom(new string('z', 64), RemoteRef("/user/hub"), TestActor, members, long.MaxValue, peers);
        var back = RoundTrip(message);
        SameActor(message.Hub, back.Hub);
        SameActor(message.Relay, back.Relay);
        Assert.Equal(members, back.Members);
        Assert.Equal(peers, back.Peers);
        Assert.Equal((message.Room, message.LastSeq), (back.Room, back.LastSeq));
    }

    [Fact]
    public void A_rejoin_answer_round_trips_with_renamed_members()
    {
        var back = RoundTrip(new RoomRejoined("lobby", 12, [new(1, "alice"), new(5, "bob")], [(4, 5)]));
        Assert.Equal(("lobby", 12L), (back.Room, back.Seq));
        Assert.Equal([new MemberInfo(1, "alice"), new MemberInfo(5, "bob")], back.Members);
        Assert.Equal([(4u, 5u)], back.Renamed);
    }

    [Fact]
    public void A_route_round_trips_with_remote_and_local_relays()
    {
        var relays = new[] { RemoteRef("/user/relay"), TestActor };
        var back = RoundTrip(new RoomRoute("lobby", relays));
        Assert.Equal("lobby", back.Room);
        Assert.Equal(2, back.Relays.Length);
        for (int i = 0; i < relays.Length; i++) SameActor(relays[i], back.Relays[i]);
        Assert.Empty(RoundTrip(new RoomRoute("lobby", [])).Relays);
    }

    [Fact]
    public void A_start_probe_and_its_empty_answer_round_trip()
    {
        Assert.Equal(new ProbeRoom("lobby"), RoundTrip(new ProbeRoom("lobby")));
        Assert.Equal(new NoMembers("lobby"), RoundTrip(new NoMembers("lobby")));
        Assert.Equal(new RoomMoving("lobby"), RoundTrip(new RoomMoving("lobby")));
        Assert.Equal(new RoomMovingSeen("lobby"), RoundTrip(new RoomMovingSeen("lobby")));
    }

    public static TheoryData<bool?> Recovereds() => [null, false, true];

    [Theory]
    [MemberData(nameof(Recovereds))]
    public void A_join_answer_round_trips_with_its_members_replay_and_recovered(bool? recovered)
    {
        MemberInfo[] members = [new(1, "alice"), new(uint.MaxValue, "bob"), new(3, new string('u', 64))];
        byte[][] replay =
        [
            ServerMessages.Said("lobby", 1, "alice", Unicode, 5, null),
            [],
            ServerMessages.Said("lobby", 2, "bob", new string('x', 4096), 6, "r"),
        ];
        var message = new RoomJoined("lobby", 42, 3, 6, members, replay, recovered, new RoomView("open", "member", "request", [], 0, 0, null), RoomVoice.Open("lobby"));
        var back = RoundTrip(message);
        Assert.Equal((message.Room, message.Request, message.Member, message.Seq, message.Recovered),
            (back.Room, back.Request, back.Member, back.Seq, back.Recovered));
        Assert.Equal(members, back.Members);
        Assert.Equal(replay.Length, back.Replay.Length);
        for (int i = 0; i < replay.Length; i++) Assert.Equal(replay[i], back.Replay[i]);
    }

    [Fact]
    public void A_join_answer_with_no_members_and_no_replay_round_trips()
    {
        var back = RoundTrip(new RoomJoined("r", 0, 0, 0, [], [], null, new RoomView("open", "member", "request", [], 0, 0, null), RoomVoice.Open("r")));
        Assert.Equal(("r", 0L, 0u, 0L, (bool?)null), (back.Room, back.Request, back.Member, back.Seq, back.Recovered));
        Assert.Empty(back.Members);
        Assert.Empty(back.Replay);
    }

    [Fact]
    public void A_join_refusal_round_trips()
    {
        var message = new JoinRefused("lobby", long.MaxValue, ErrorCodes.RoomFull, Unicode);
        Assert.Equal(message, RoundTrip(message));
    }

    [Fact]
    public void A_leave_round_trips()
    {
        var message = new LeaveRoom("lobby", uint.MaxValue);
        Assert.Equal(message, RoundTrip(message));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("say-1")]
    public void Chat_text_round_trips_with_or_without_ref(string? reference)
    {
        var message = new Say("lobby", 5, Unicode, reference);
        Assert.Equal(message, RoundTrip(message));
    }

    [Fact]
    public void Chat_text_of_the_maximum_length_round_trips()
    {
        var message = new Say("lobby", 5, string.Concat(Enumerable.Repeat("\U0001F600", 2048)), "r");
        Assert.Equal(message, RoundTrip(message));
        Assert.Equal(new Say("lobby", 5, "", null), RoundTrip(new Say("lobby", 5, "", null)));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(long.MaxValue)]
    public void Room_text_round_trips_with_its_bytes_and_the_speakers_copy(long seq)
    {
        var json = ServerMessages.Said("lobby", 1, "alice", Unicode, seq, null);
        var mine = ServerMessages.Said("lobby", 1, "alice", Unicode, seq, "r");
        var back = RoundTrip(new RoomText("lobby", seq, json, 1, mine));
        Assert.Equal(("lobby", seq, 1u), (back.Room, back.Seq, back.Speaker));
        Assert.Equal(json, back.Json);
        Assert.Equal(mine, back.SpeakerJson);
        var plain = RoundTrip(new RoomText("lobby", seq, [], uint.MaxValue, null));
        Assert.Empty(plain.Json);
        Assert.Null(plain.SpeakerJson);
    }

    [Fact]
    public void A_room_info_question_round_trips()
    {
        var message = new GetRoomInfo("team.red:general");
        Assert.Equal(message, RoundTrip(message));
    }

    [Fact]
    public void A_room_info_answer_round_trips_with_its_members()
    {
        RoomMemberInfo[] members =
        [
            new(1, "alice", "akka.tcp://akkavoice@10.0.0.1:4053"),
            new(uint.MaxValue, "bob", "akka.tcp://akkavoice@node-\u00e9.example:4053"),
        ];
        var message = new RoomInfo("lobby", "akka.tcp://akkavoice@10.0.0.1:4053", 77, members);
        var back = RoundTrip(message);
        Assert.Equal((message.Room, message.Home, message.Seq), (back.Room, back.Home, back.Seq));
        Assert.Equal(members, back.Members);
    }

    [Fact]
    public void A_room_info_answer_with_no_members_round_trips()
    {
        var back = RoundTrip(new RoomInfo("lobby", "", 0, []));
        Assert.Equal(("lobby", "", 0L), (back.Room, back.Home, back.Seq));
        Assert.Empty(back.Members);
    }

    // ---- users ----

    [Fact]
    public void Registering_users_round_trips_for_local_and_remote_hubs()
    {
        foreach (var hub in new[] { TestActor, RemoteRef("/user/hub") })
        {
            var back = RoundTrip(new RegisterUsers(hub, ["alice", new string('u', 64)]));
            Assert.Equal(["alice", new string('u', 64)], back.Users);
            SameActor(hub, back.Hub);
        }
    }

    [Fact]
    public void Unregistering_a_user_round_trips()
    {
        var back = RoundTrip(new UnregisterUser("alice", RemoteRef("/user/hub")));
        Assert.Equal("alice", back.User);
        SameActor(RemoteRef("/user/hub"), back.Hub);
    }

    [Fact]
    public void A_hub_ref_round_trips_to_the_very_same_local_actor()
    {
        var probe = fixture.Kit.CreateTestProbe();
        var back = RoundTrip(new RegisterUsers(probe.Ref, ["alice"]));
        back.Hub.Tell("hello");
        probe.ExpectMsg("hello");
    }

    [Fact]
    public void A_registration_answer_round_trips()
    {
        Assert.Equal(["alice", "bob"], RoundTrip(new UsersRegistered(["alice", "bob"])).Users);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("d-1")]
    public void A_direct_message_round_trips_with_or_without_ref(string? reference)
    {
        var message = new SendDirect("bob", "alice", Unicode, reference, 17);
        Assert.Equal(message, RoundTrip(message));
    }

    [Theory]
    [InlineData(true, null)]
    [InlineData(false, null)]
    [InlineData(true, "d-1")]
    [InlineData(false, "d-2")]
    public void A_direct_result_round_trips(bool delivered, string? reference)
    {
        var message = new DirectResult("bob", delivered, reference, long.MaxValue);
        Assert.Equal(message, RoundTrip(message));
    }

    [Fact]
    public void A_roster_change_round_trips_with_members_joined_and_left()
    {
        var back = RoundTrip(new RosterChanged("lobby", [new(7, "bob"), new(8, new string('u', 64))], [new(uint.MaxValue, "carol")]));
        Assert.Equal("lobby", back.Room);
        Assert.Equal([new MemberInfo(7, "bob"), new MemberInfo(8, new string('u', 64))], back.Joined);
        Assert.Equal([new MemberInfo(uint.MaxValue, "carol")], back.Left);
    }

    [Fact]
    public void Direct_text_round_trips_with_its_bytes()
    {
        var json = Encoding.UTF8.GetBytes($$"""{"type":"direct","from":"alice","text":{{System.Text.Json.JsonSerializer.Serialize(Unicode)}}}""");
        var back = RoundTrip(new DirectText("bob", json));
        Assert.Equal("bob", back.To);
        Assert.Equal(json, back.Json);
        Assert.Empty(RoundTrip(new DirectText("bob", [])).Json);
    }

    [Fact]
    public void Dead_node_evidence_round_trips()
    {
        var sent = new DeadNodeEvidence("akka.tcp://akkavoice@10.0.0.2:4053", long.MinValue + 7, "akka.tcp://akkavoice@10.0.0.1:4053", "its remoting port refused connections");
        Assert.Equal(sent, RoundTrip(sent));
    }
}
