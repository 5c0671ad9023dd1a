using System.Diagnostics;
using Akka.Actor;
using AkkaVoice.Cluster.Rooms;
using Xunit;
using Xunit.Abstractions;

namespace AkkaVoice.Tests.Cluster;

/// <summary>
/// A stage's audience over three nodes: listeners joining and leaving cost the members already there no text but
/// the coalesced <c>audience</c> count (at most one a second), cost the room's node no text message per
/// listener, and a listener's frames go nowhere.
/// </summary>
public sealed class AudienceSpec(ITestOutputHelper output) : ClusterSpec(output, 3)
{
    private const int Listeners = 1500;

    [Fact]
    public async Task Listeners_joining_and_leaving_tell_the_others_only_the_coalesced_audience_count()
    {
        var room = RoomHomedOn(2, "audience");
        await using var host = Cluster.Connect(0, "host");
        host.Send($$$"""{"type":"join","room":"{{{room}}}","stage":{"seats":4,"seatMode":"free"}}""");
        await host.ExpectAsync("joined");
        long textBefore = Cluster.Nodes.Sum(n => n.Stats.NodeTextMessagesSent.Value);

        var clock = Stopwatch.StartNew();
        var listeners = new List<TestConnection>();
        for (int i = 0; i < Listeners; i++)
        {
            var listener = Cluster.Connect(i % 2, $"listener-{i}");
            listener.Send($$"""{"type":"join","room":"{{room}}"}""");
            listeners.Add(listener);
        }
        foreach (var l in listeners) await l.ExpectAsync("joined", TimeSpan.FromSeconds(30));
        await AwaitAssertAsync(() => Assert.Equal(Listeners, host.Texts.LastOrDefault(t => t.Type == "audience")?.Num("count")),
            TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));
        var joinedIn = clock.Elapsed;

        // A listener's frame is dropped at its own node.
        var first = listeners[0].Texts.First(t => t.Type == "joined");
        long relayed = Cluster.Nodes.Sum(n => n.Stats.NodeMessagesSent.Value);
        listeners[0].SendFrame((byte)first.Num("slot"), [1, 2, 3]);
        Assert.Equal("forbidden", (await listeners[0].ExpectAsync("error")).Str("code"));
        Assert.Equal(1, Cluster[0].Stats.FramesDroppedNotSeated.Value);
        Assert.Equal(relayed, Cluster.Nodes.Sum(n => n.Stats.NodeMessagesSent.Value));

        foreach (var l in listeners) await l.DisposeAsync();
        await AwaitAssertAsync(async () =>
        {
            Assert.Equal(0, host.Texts.LastOrDefault(t => t.Type == "audience")?.Num("count"));
            var state = await Cluster[1].Rooms.Ask<RoomState>(new GetRoomState(room), TimeSpan.FromSeconds(3));
            Assert.Equal(1, state.Members);
        }, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(200));
        var total = clock.Elapsed;

        var audience = host.Texts.Count(t => t.Type == "audience");
        long nodeText = Cluster.Nodes.Sum(n => n.Stats.NodeTextMessagesSent.Value) - textBefore;
        Output.WriteLine($"{Listeners} listeners joined in {joinedIn.TotalSeconds:F1} s and left in {(total - joinedIn).TotalSeconds:F1} s; " +
            $"the host got {audience} audience messages; node text messages: {nodeText} ({(double)nodeText / Listeners:F3} per listener)");
        Assert.DoesNotContain(host.Texts, t => t.Type is "member-joined" or "member-left");
        // At most one a second, plus the first of each burst.
        Assert.InRange(audience, 2, (int)total.TotalSeconds + 2);
        // Only the audience counts crossed nodes as text: one per node with members a second at most.
        Assert.InRange(nodeText, 1, 3 * ((long)total.TotalSeconds + 2));
        Assert.All(listeners.Take(20), l => Assert.DoesNotContain(l.Texts, t => t.Type is "member-joined" or "member-left"));
    }
}
