using AkkaVoice.Cluster;
using AkkaVoice.Cluster.Connections;
using AkkaVoice.Cluster.Hub;
using AkkaVoice.Protocol;
using Xunit;

namespace AkkaVoice.Tests.Connections;

public sealed class LocalRoomTests
{
    private readonly NodeStats stats = new();

    private sealed class CountingSink : IOutboundSink
    {
        public List<OutboundItem> Items { get; } = [];
        public bool TryAdd(in OutboundItem item) { Items.Add(item); return true; }
        public ValueTask FlushAsync() => default;
        public void Idle() { }
    }

    private (Outbound, CountingSink) NewOutput()
    {
        var outbound = new Outbound(TestSettings.Limits, stats);
        var sink = new CountingSink();
        outbound.Attach(sink);
        return (outbound, sink);
    }

    [Fact]
    public void A_room_nobody_here_joined_is_not_found()
    {
        var rooms = new LocalRooms();
        Assert.Null(rooms.Find("lobby"));
        Assert.Equal(0, rooms.Count);
    }

    [Fact]
    public void A_frame_fans_out_to_every_local_member_but_the_speaker_with_the_same_payload()
    {
        var room = new LocalRoom("lobby");
        var outputs = Enumerable.Range(0, 3).Select(_ => NewOutput()).ToArray();
        var members = outputs.Select((o, i) => new Membership(room, null!, o.Item1, (byte)i, (uint)(i + 1))).ToArray();
        foreach (var m in members) room.Add(m);

        var payload = new byte[] { 1, 2, 3 };
        room.FanOut(speaker: 2, payload);

        Assert.Same(payload, outputs[0].Item2.Items.Single().Bytes);
        Assert.Empty(outputs[1].Item2.Items);
        Assert.Same(payload, outputs[2].Item2.Items.Single().Bytes);
    }

    [Fact]
    public void A_member_removed_or_deactivated_gets_no_more_frames()
    {
        var room = new LocalRoom("lobby");
        var (a, sinkA) = NewOutput();
        var (b, sinkB) = NewOutput();
        var ma = new Membership(room, null!, a, 0, 1);
        var mb = new Membership(room, null!, b, 0, 2);
        room.Add(ma);
        room.Add(mb);

        ma.Deactivate();
        room.Remove(mb);
        room.FanOut(9, [1]);

        Assert.Empty(sinkA.Items);
        Assert.Empty(sinkB.Items);
        Assert.Equal([ma], room.Members);
    }

}
