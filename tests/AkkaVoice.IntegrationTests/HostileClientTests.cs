using System.Net.WebSockets;
using AkkaVoice.Client;
using AkkaVoice.IntegrationTests.Support;
using Xunit;

namespace AkkaVoice.IntegrationTests;

/// <summary>
/// PROTOCOL.md sections 2 and 4 (v1.1): a connection's own answers never close it, the text rate limit
/// refuses by message, and nothing one client sends closes, stalls or starves another.
/// </summary>
public sealed class HostileClientTests(DefaultNode fixture) : IClassFixture<DefaultNode>
{
    private readonly TestNode node = fixture.Node;

    [Fact]
    public async Task A_client_pipelining_ten_thousand_requests_gets_every_answer_and_stays_connected()
    {
        const int Requests = 10_000;
        var room = Names.Room();
        await using var client = await node.ClientAsync(Names.User("pipeliner"));

        var sending = Task.Run(async () =>
        {
            for (int i = 0; i < Requests; i++)
                await client.SendAsync(i % 2 == 0 ? new { type = "join", room, @ref = $"r{i}" } : new { type = "leave", room, @ref = $"r{i}" });
        });

        var answered = new HashSet<string>();
        var kinds = new Dictionary<string, int>();
        while (answered.Count < Requests)
        {
            var answer = await client.NextTextAsync(TimeSpan.FromSeconds(30));
            var reference = answer.Str("ref");
            Assert.True(reference is not null, $"an answer without its ref: {answer.Raw}");
            Assert.True(answered.Add(reference), $"a second answer for {reference}");
            var kind = answer.Type == "error" ? answer.Str("code")! : answer.Type;
            kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
        }
        await sending;

        Assert.Equal(WebSocketState.Open, client.Socket.State);
        Assert.True(kinds.GetValueOrDefault("rate-limited") > Requests / 2, string.Join(", ", kinds));
        Assert.True(kinds.GetValueOrDefault("joined") >= 1, string.Join(", ", kinds));
        await client.SendAsync(new { type = "ping", @ref = "still" });
        Assert.Equal("still", (await client.ExpectAsync("pong")).Str("ref"));
    }

    [Fact]
    public async Task A_say_flood_from_one_member_closes_nobody_and_the_others_keep_talking()
    {
        var room = Names.Room();
        await using var flooder = await node.ClientAsync(Names.User("flooder"));
        await using var reader = await node.ClientAsync(Names.User("reader"));
        await using var other = await node.ClientAsync(Names.User("other"));
        await flooder.JoinStrictAsync(room);
        await reader.JoinStrictAsync(room);
        await other.JoinStrictAsync(room);

        var text = new string('x', 4000);
        for (int i = 0; i < 3000; i++) await flooder.SendTextAsync($$"""{"type":"say","room":"{{room}}","text":"{{text}}","ref":"f{{i}}"}""");

        // The others hear at most the burst and the rate's worth of the flood, and are neither closed nor starved.
        await other.SendAsync(new { type = "say", room, text = "still here", @ref = "o" });
        var mine = await other.ExpectAsync("said", TimeSpan.FromSeconds(30));
        while (mine.Str("ref") != "o") mine = await other.ExpectAsync("said", TimeSpan.FromSeconds(30));
        TextEvent heard;
        do heard = await reader.ExpectAsync("said", TimeSpan.FromSeconds(30));
        while (heard.Str("text") != "still here");

        foreach (var c in new[] { flooder, reader, other })
        {
            await c.SendAsync(new { type = "ping", @ref = "alive" });
            TextEvent pong;
            do pong = await c.NextTextAsync(TimeSpan.FromSeconds(30));
            while (pong.Type != "pong");
            Assert.Equal(WebSocketState.Open, c.Socket.State);
        }
    }

    [Fact]
    public async Task Directs_to_users_that_never_existed_leave_no_directory_entries_behind()
    {
        await using var sender = await node.ClientAsync(Names.User("sender"));
        // The sender itself is the one user this test's node knows, once its registration is in.
        await Wait.UntilAsync(async () => await DirectoryUsersAsync() == 1, TimeSpan.FromSeconds(10), "the sender registered in the directory");

        int offline = 0;
        for (int i = 0; i < 300; i++)
        {
            await sender.SendAsync(new { type = "direct", to = Names.User("stranger"), text = "hello?", @ref = $"d{i}" });
            var answer = await sender.ExpectAsync("error");
            if (answer.Str("code") == "user-offline") offline++;
            else
            {
                Assert.Equal("rate-limited", answer.Str("code"));
                await Task.Delay(60);
            }
        }

        Assert.True(offline > 60, $"{offline} user-offline answers");
        Assert.Equal(1, await DirectoryUsersAsync());
    }

    private async Task<long> DirectoryUsersAsync()
    {
        var text = await node.Http.GetStringAsync("/metrics");
        var line = text.Split('\n').Single(l => l.StartsWith("akkavoice_directory_users ", StringComparison.Ordinal));
        return (long)double.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
