using System.Net.WebSockets;
using AkkaVoice.Client;
using Xunit;

namespace AkkaVoice.IntegrationTests;

/// <summary>PROTOCOL.md sections 1-3 row by row, against a real node over real WebSockets.</summary>
public sealed class ContractTests : IAsyncLifetime
{
    private TestNode node = null!;

    public async Task InitializeAsync() => node = await TestNode.StartAsync();

    public async Task DisposeAsync() => await node.DisposeAsync();

    [Fact]
    public async Task The_first_message_is_welcome_with_user_session_and_node()
    {
        var (client, welcome) = await node.ConnectAsync("alice");
        await using var _ = client;
        Assert.Equal("alice", welcome.Str("user"));
        Assert.False(string.IsNullOrEmpty(welcome.Str("session")));
        Assert.StartsWith("akka.tcp://akkavoice@127.0.0.1:", welcome.Str("node"));
        Assert.Equal("akkavoice.v1", client.Socket.SubProtocol);
    }

    [Fact]
    public async Task Join_answers_joined_and_tells_the_others()
    {
        var (alice, _) = await node.ConnectAsync("alice");
        var (bob, _) = await node.ConnectAsync("bob");
        await using var a = alice;
        await using var b = bob;

        var aj = await alice.JoinAsync("r1");
        Assert.Equal(0, aj.Num("slot"));
        Assert.Equal(0, aj.Num("seq"));
        var bj = await bob.JoinAsync("r1");
        Assert.Equal(2, bj.Json.GetProperty("members").GetArrayLength());
        var joined = await alice.ExpectAsync("member-joined");
        Assert.Equal("bob", joined.Str("user"));
        Assert.Equal(bj.Num("member"), joined.Num("member"));
    }

    [Fact]
    public async Task A_voice_frame_reaches_the_others_with_the_receivers_slot_and_never_echoes()
    {
        var (alice, _) = await node.ConnectAsync("alice");
        var (bob, _) = await node.ConnectAsync("bob");
        await using var a = alice;
        await using var b = bob;
        await bob.JoinAsync("other");
        var aj = await alice.JoinAsync("r1");
        var bj = await bob.JoinAsync("r1");
        await alice.ExpectAsync("member-joined");

        await alice.SendFrameAsync((byte)aj.Num("slot"), new byte[] { 1, 2, 3 });
        var frame = Assert.IsType<FrameEvent>(await bob.ReceiveAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(1, frame.Slot);
        Assert.Equal((uint)aj.Num("member"), frame.Member);
        Assert.Equal(new byte[] { 1, 2, 3 }, frame.Payload);

        await alice.SendAsync(new { type = "ping", @ref = "p" });
        var pong = await alice.NextTextAsync();
        Assert.Equal("pong", pong.Type);
        Assert.Equal("p", pong.Str("ref"));
    }

    [Fact]
    public async Task An_oversized_frame_closes_with_1009()
    {
        var (alice, _) = await node.ConnectAsync("alice");
        await using var a = alice;
        await alice.JoinAsync("r1");
        await alice.SendFrameAsync(0, new byte[1501]);
        var closed = await WaitClosedAsync(alice);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, closed.Status);
    }

    [Fact]
    public async Task Invalid_utf8_closes_with_1007()
    {
        var (alice, _) = await node.ConnectAsync("alice");
        await using var a = alice;
        await alice.SendAsync(new byte[] { 0x7b, 0xff, 0x7d }, WebSocketMessageType.Text);
        var closed = await WaitClosedAsync(alice);
        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, closed.Status);
    }

    private static async Task<ClosedEvent> WaitClosedAsync(VoiceClient client)
    {
        while (true)
        {
            if (await client.ReceiveAsync(TimeSpan.FromSeconds(10)) is ClosedEvent c) return c;
        }
    }
}
