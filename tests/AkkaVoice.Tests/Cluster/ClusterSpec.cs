using Akka.Actor;
using AkkaVoice.Cluster;
using AkkaVoice.Cluster.Rooms;
using AkkaVoice.Cluster.Directory;
using Xunit;
using Xunit.Abstractions;

namespace AkkaVoice.Tests.Cluster;

/// <summary>
/// Base of the multi-node tests: a TestKit whose own system is node 0 of a real <see cref="TestCluster"/>.
/// Tests in this collection run one after another, so their clusters never compete for the machine.
/// </summary>
[Collection(Name)]
public abstract class ClusterSpec(ITestOutputHelper output, int size, string hocon = "")
    : Akka.TestKit.Xunit2.TestKit(TestCluster.NodeSetup(hocon), "akkavoice", output), IAsyncLifetime
{
    public const string Name = "multi-node";

    protected TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await TestCluster.StartAsync(size, Sys, hocon);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    /// <summary>A room id whose home, by the room directory, is node <paramref name="index"/>.</summary>
    protected string RoomHomedOn(int index, string prefix = "room")
    {
        var nodes = Cluster.Nodes.Select(n => n.SelfAddress).ToArray();
        for (int i = 0; ; i++)
        {
            var room = $"{prefix}-{i}";
            if (Cluster[0].Directory.HomeOfRoom(room, nodes)!.Equals(nodes[index])) return room;
        }
    }

    /// <summary>Where the room actor actually runs, asked of the room itself.</summary>
    protected async Task<string> HomeOfAsync(VoiceNode via, string room) =>
        (await via.Rooms.Ask<RoomInfo>(new GetRoomInfo(room), TimeSpan.FromSeconds(5))).Home;
}

[CollectionDefinition(ClusterSpec.Name, DisableParallelization = true)]
public sealed class MultiNodeCollection;
