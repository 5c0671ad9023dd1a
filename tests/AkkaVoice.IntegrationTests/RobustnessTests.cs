using System.Net;
using System.Net.WebSockets;
using System.Text;
using AkkaVoice.Client;
using AkkaVoice.IntegrationTests.Support;
using Xunit;
using static AkkaVoice.IntegrationTests.Support.ClientExtensions;

namespace AkkaVoice.IntegrationTests;

/// <summary>PROTOCOL.md section 4, last line: nothing a client sends may crash a node or stall other connections.</summary>
public sealed class RobustnessTests(DefaultNode fixture) : IClassFixture<DefaultNode>
{
    private readonly TestNode node = fixture.Node;

    [Fact]
    public async Task Garbage_from_some_clients_leaves_the_other_clients_working()
    {
        var room = Names.Room();
        await using var alice = await node.ClientAsync(Names.User("alice"));
        await using var bob = await node.ClientAsync(Names.User("bob"));
        var aj = await alice.JoinStrictAsync(room);
        var slot = (byte)aj.Num("slot");
        await bob.JoinStrictAsync(room);
        await alice.NextOfTypeAsync("member-joined");

        var garbage = new[]
        {
            Task.Run(() => RandomBytesAsTextAsync(1)),
            Task.Run(() => RandomBytesAsTextAsync(2)),
            Task.Run(() => RandomBinaryAsync(3, room)),
            Task.Run(() => BadJsonFloodAsync(4)),
            Task.Run(() => BadJsonFloodAsync(5)),
        };

        // Meanwhile Alice and Bob talk, and every word and frame arrives in order.
        for (int i = 0; i < 50; i++)
        {
            await alice.SendFrameAsync(slot, Numbered(i));
            if (i % 5 == 0) await alice.SendAsync(new { type = "say", room, text = $"line {i}" });
            await Task.Delay(10);
        }
        var frames = new List<int>();
        var lines = new List<string>();
        while (frames.Count < 50 || lines.Count < 10)
        {
            switch (await bob.ReceiveAsync(Patience))
            {
                // The binary garbage client is in the room too, and some of its random frames hit its slot.
                case FrameEvent f when f.Member == (uint)aj.Num("member"): frames.Add(NumberOf(f)); break;
                case TextEvent { Type: "said" } t when t.Num("member") == aj.Num("member"): lines.Add(t.Str("text")!); break;
                case ClosedEvent c: Assert.Fail($"bob was closed: {c.Status} {c.Reason}"); break;
            }
        }
        Assert.Equal(Enumerable.Range(0, 50), frames);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"line {i * 5}"), lines);

        await Task.WhenAll(garbage);
        await alice.AssertAliveAsync();
        await bob.AssertAliveAsync();
        Assert.Equal(HttpStatusCode.OK, (await node.Http.GetAsync("healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await node.Http.GetAsync("readyz")).StatusCode);
        await using var late = await node.ClientAsync(Names.User());
        var members = (await late.JoinStrictAsync(room)).Json.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("member").GetInt64());
        Assert.Contains(aj.Num("member"), members);
    }

    /// <summary>Random bytes as text are not UTF-8: that one client is closed with 1007, nothing else happens.</summary>
    private async Task RandomBytesAsTextAsync(int seed)
    {
        var random = new Random(seed);
        await using var client = await node.ClientAsync(Names.User("garbage"));
        var bytes = new byte[random.Next(10, 2000)];
        random.NextBytes(bytes);
        bytes[0] = 0xff;
        await client.SendAsync(bytes, WebSocketMessageType.Text);
        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, (await client.WaitClosedAsync()).Status);
    }

    /// <summary>Random binary messages of every size up to the limit, on random slots: errors at most, never a close.</summary>
    private async Task RandomBinaryAsync(int seed, string room)
    {
        var random = new Random(seed);
        await using var client = await node.ClientAsync(Names.User("garbage"));
        await client.JoinStrictAsync(room);
        for (int i = 0; i < 400; i++)
        {
            var bytes = new byte[random.Next(0, 1502)];
            random.NextBytes(bytes);
            await client.SendAsync(bytes, WebSocketMessageType.Binary);
        }
        await client.AssertAliveAsync();
    }

    /// <summary>Thousands of malformed but valid UTF-8 text messages.</summary>
    private async Task BadJsonFloodAsync(int seed)
    {
        var random = new Random(seed);
        const string alphabet = "{}[]\":,\\ ntrufals0123456789.-+eE\u00e9\u4e2d\U0001F600abc\t\n";
        // Beginnings of real messages, so the parser gets past its first token; never the room Alice and Bob are in.
        string[] shapes =
        [
            "{\"type\":\"join\",\"room\":", "{\"type\":\"say\",\"room\":\"garbage\",\"text\":", "{\"type\":", "[", "{\"ref\":",
            "{\"type\":\"direct\",\"to\":", "{\"type\":\"leave\",\"room\":\"garbage\"}{", "\"\\u",
        ];
        await using var client = await node.ClientAsync(Names.User("garbage"));
        for (int i = 0; i < 1000; i++)
        {
            var text = new StringBuilder(shapes[random.Next(shapes.Length)]);
            int length = random.Next(0, 200);
            for (int j = 0; j < length; j++) text.Append(alphabet[random.Next(alphabet.Length)]);
            // Random cuts of the alphabet may split a surrogate pair; keep the text valid UTF-8 (that case has its own test).
            var valid = Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text.ToString()));
            await client.SendTextAsync(valid);
            // Read the errors as they come, so this client's own queue never fills.
            if (i % 50 == 49) await client.TextsUntilPongAsync();
        }
        await client.AssertAliveAsync();
    }
}
