using Akka.Actor;
using AkkaVoice.Cluster;
using AkkaVoice.Cluster.Relay;
using AkkaVoice.Cluster.Rooms;
using AkkaVoice.Tests.Cluster;
using Xunit;
using Xunit.Abstractions;

namespace AkkaVoice.Tests.Relay;

/// <summary>The outbox between rooms and other nodes' relays: every frame arrives, in order, in fewer messages when it is busy.</summary>
public sealed class RelayOutboxSpec(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(TestCluster.NodeSetup(), "akkavoice", output)
{
    [Fact]
    public void A_lone_frame_goes_out_at_once_as_itself()
    {
        var stats = new NodeStats();
        var outbox = Sys.ActorOf(RelayOutbox.Props(stats));
        var relay = CreateTestProbe();
        var frame = new VoiceOut("r", 1, [1, 2, 3]);

        outbox.Tell(new RelayFrames([relay.Ref], frame));

        Assert.Same(frame, relay.ExpectMsg<VoiceOut>());
        Assert.Equal(1, stats.NodeBatchesSent.Value);
    }

    [Fact]
    public void A_burst_reaches_each_relay_whole_and_in_order_in_fewer_messages()
    {
        const int Frames = 1000;
        var stats = new NodeStats();
        var outbox = Sys.ActorOf(RelayOutbox.Props(stats));
        var relays = new[] { CreateTestProbe(), CreateTestProbe() };

        for (uint i = 0; i < Frames; i++)
        {
            outbox.Tell(new RelayFrames([.. relays.Select(r => r.Ref)], new VoiceOut("r", i, [(byte)i])));
        }

        int messages = 0;
        foreach (var relay in relays)
        {
            var speakers = new List<uint>();
            while (speakers.Count < Frames)
            {
                var message = relay.ExpectMsg<object>();
                messages++;
                speakers.AddRange(message switch
                {
                    VoiceOut one => [one.Speaker],
                    VoiceBatch batch => batch.Frames.Select(f => f.Speaker),
                    _ => throw new InvalidOperationException($"unexpected {message}"),
                });
            }
            Assert.Equal(Enumerable.Range(0, Frames).Select(i => (uint)i), speakers);
            relay.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        }
        Assert.Equal(messages, stats.NodeBatchesSent.Value);
        // The burst is told far faster than the outbox takes it, so frames pile up behind each flush.
        Assert.True(messages < Frames, $"{messages} messages for {2 * Frames} frames");
    }
}
