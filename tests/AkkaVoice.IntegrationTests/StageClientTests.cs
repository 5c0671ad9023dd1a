using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using AkkaVoice.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Xunit;

namespace AkkaVoice.IntegrationTests;

/// <summary>
/// The healing client's stage calls and events (PROTOCOL.md section 8) against a real node, and close code
/// 4001 (the server API's disconnect) ending the client for good.
/// </summary>
public sealed class StageClientTests
{
    [Fact]
    public async Task A_host_and_a_listener_use_the_stage_calls_and_the_errors_arrive_with_their_codes()
    {
        await using var node = await TestNode.StartAsync();
        var seen = new ConcurrentQueue<StageEvent>();
        await using var host = Healing(node, "net-host", seen);
        await using var lena = Healing(node, "net-lena", seen);
        await host.ConnectAsync();
        await lena.ConnectAsync();
        var joined = await host.JoinAsync("net-stage", new StageOptions(4, SeatMode.Request));
        Assert.Equal("stage", joined.Str("kind"));
        var hostView = host.RoomOf("net-stage")!;
        Assert.Equal(("stage", Role.Host, SeatMode.Request, 4), (hostView.Kind, hostView.Role, hostView.Mode, hostView.Seats.Count));
        await lena.JoinAsync("net-stage");
        var lenaView = lena.RoomOf("net-stage")!;
        Assert.Equal(Role.Listener, lenaView.Role);
        await WaitAsync(() => host.RoomOf("net-stage")!.Audience == 1, "the host counts one listener");

        Assert.Equal("forbidden", (await Assert.ThrowsAsync<VoiceErrorException>(() => lena.TakeSeatAsync("net-stage", 0))).Code);
        Assert.Equal("bad-field", (await Assert.ThrowsAsync<VoiceErrorException>(() => host.TakeSeatAsync("net-stage", 33))).Code);
        await lena.RaiseHandAsync("net-stage");
        await WaitAsync(() => host.RoomOf("net-stage")!.Hands.Any(h => h.User == "net-lena"), "the host sees the hand");

        await host.InviteAsync("net-stage", lenaView.Member, 1);
        await WaitAsync(() => seen.OfType<StageEvent.Invited>().Any(i => i.Seat == 1), "lena is invited");
        var seats = await lena.TakeSeatAsync("net-stage");
        Assert.Equal("net-lena", seats.Single(s => s.Number == 1).User);
        Assert.Equal(1, lena.RoomOf("net-stage")!.Seat);
        Assert.Equal(Role.Speaker, lena.RoomOf("net-stage")!.Role);

        await host.MuteAsync("net-stage", lenaView.Member);
        await WaitAsync(() => lena.RoomOf("net-stage")!.Muted, "lena learns she is muted");
        await host.LockSeatAsync("net-stage", 3, true);
        await WaitAsync(() => lena.RoomOf("net-stage")!.Seats.Single(s => s.Number == 3).Locked, "lena sees seat 3 locked");

        var page = await host.RosterAsync("net-stage", limit: 1);
        Assert.Single(page.Members);
        Assert.NotNull(page.Next);
        var rest = await host.RosterAsync("net-stage", after: page.Next, limit: 10);
        Assert.Equal(["net-host", "net-lena"], page.Members.Concat(rest.Members).Select(m => m.User).Order());

        await host.KickAsync("net-stage", "net-lena", ban: 60, reason: "enough");
        await WaitAsync(() => seen.OfType<StageEvent.Kicked>().Any(k => k.Reason == "enough"), "lena is kicked");
        Assert.Null(lena.RoomOf("net-stage"));
        await WaitAsync(() => seen.OfType<StageEvent.MemberLeft>().Any(m => m.User == "net-lena" && m.Reason == "kicked"), "the host sees why");
        await host.CloseRoomAsync("net-stage");
        Assert.Null(host.RoomOf("net-stage"));
    }

    [Fact]
    public async Task A_speaker_whose_connection_drops_rejoins_and_takes_its_seat_back()
    {
        await using var node = await TestNode.StartAsync();
        var seen = new ConcurrentQueue<StageEvent>();
        await using var host = Healing(node, "net-host2", seen);
        await host.ConnectAsync();
        await host.JoinAsync("net-heal", new StageOptions(3, SeatMode.Free));
        // The same node twice: moving to the second drops the connection and heals it on the same node.
        var rejoined = new TaskCompletionSource<Rejoined>();
        await using var olga = new HealingVoiceClient(new HealingOptions { Nodes = [node.Ws("user=net-olga"), node.Ws("user=net-olga")], BackoffBase = TimeSpan.FromMilliseconds(50), BackoffMax = TimeSpan.FromMilliseconds(100) });
        olga.OnRejoined += r => rejoined.TrySetResult(r);
        await olga.ConnectAsync();
        await olga.JoinAsync("net-heal");
        await olga.TakeSeatAsync("net-heal", 2);
        var before = olga.RoomOf("net-heal")!.Member;
        await WaitAsync(() => host.RoomOf("net-heal")!.Seats[2].Member == before, "the host sees olga on seat 2");

        olga.MoveTo(1);
        var back = await rejoined.Task.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal((2, true, Role.Listener), (back.Seat, back.SeatBack, back.Role));
        var view = olga.RoomOf("net-heal")!;
        Assert.NotEqual(before, view.Member);
        Assert.Equal((2, Role.Speaker), (view.Seat, view.Role));
        await WaitAsync(() => host.RoomOf("net-heal")!.Seats[2].Member == view.Member, "the host sees her new membership on seat 2");
    }

    [Fact]
    public async Task A_healing_client_closed_with_4001_stops_with_the_reason_and_never_reconnects()
    {
        // A stand-in node: it welcomes, then closes the way the server API's disconnect does.
        int connections = 0;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        int port = TestNode.FreePort();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        await using var app = builder.Build();
        app.UseWebSockets();
        app.Map("/ws", async (HttpContext context) =>
        {
            Interlocked.Increment(ref connections);
            using var socket = await context.WebSockets.AcceptWebSocketAsync("akkavoice.v1");
            await socket.SendAsync(Encoding.UTF8.GetBytes("""{"type":"welcome","user":"pat","session":"s","node":"akka.tcp://akkavoice@127.0.0.1:1"}"""), WebSocketMessageType.Text, true, default);
            await socket.CloseOutputAsync((WebSocketCloseStatus)4001, "account suspended", default);
            try { await socket.ReceiveAsync(new byte[16], default); } catch (WebSocketException) { }
        });
        await app.StartAsync();

        var uri = new Uri($"ws://127.0.0.1:{port}/ws?user=pat");
        await using var pat = new HealingVoiceClient(new HealingOptions { Nodes = [uri, uri], BackoffBase = TimeSpan.FromMilliseconds(10), BackoffMax = TimeSpan.FromMilliseconds(20) });
        var closed = new TaskCompletionSource<Closed>();
        int reconnecting = 0;
        pat.OnClosed += c => closed.TrySetResult(c);
        pat.OnReconnecting += _ => Interlocked.Increment(ref reconnecting);
        await pat.ConnectAsync();
        var why = await closed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(new Closed(4001, "account suspended"), why);
        Assert.Equal(why, pat.ClosedBy);
        Assert.False(pat.IsConnected);
        await Task.Delay(300);
        Assert.Equal(0, reconnecting);
        Assert.Equal(1, connections);
    }

    private static HealingVoiceClient Healing(TestNode node, string user, ConcurrentQueue<StageEvent> seen)
    {
        var client = new HealingVoiceClient(new HealingOptions { Nodes = [node.Ws("user=" + user)] });
        client.OnStage += seen.Enqueue;
        return client;
    }

    private static async Task WaitAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("not seen: " + what);
            await Task.Delay(50);
        }
    }
}
