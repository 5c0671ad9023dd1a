using System.Diagnostics;
using System.Net;
using System.Text.Json;
using AkkaVoice.Client;
using AkkaVoice.IntegrationTests.Support;
using Xunit;
using Xunit.Abstractions;

namespace AkkaVoice.IntegrationTests;

/// <summary>
/// Webhooks end to end (PROTOCOL section 10): node processes sending to the example receiver, which fails, recovers,
/// never answers, or outlives a node killed with SIGKILL; and the server API (9) answering the same from every node.
/// Retry timings are shortened (first retry 200 ms, at most 1 s apart) so a failing receiver costs seconds in CI;
/// docs/webhooks.md records the run with the contract's timings.
/// </summary>
[Collection("processes")]
public sealed class WebhookClusterTests(ITestOutputHelper output)
{
    // Generous for a loaded CI machine; the figures the tests print are what docs/webhooks.md records.
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);

    /// <summary>A HOCON file with short retries, passed to the nodes with --config.</summary>
    private static string FastRetries()
    {
        var path = Path.Combine(Path.GetTempPath(), "akkavoice-fast-webhooks.conf");
        File.WriteAllText(path, "akkavoice.webhooks { first-retry = 200ms, max-retry-interval = 1s, attempt-timeout = 2s }\n");
        return path;
    }

    private static Task<NodeProcess[]> StartClusterAsync(int count, params string[] flags) => StartClusterAsync(count, true, flags);

    private static async Task<NodeProcess[]> StartClusterAsync(int count, bool fast, string[] flags)
    {
        var nodes = new List<NodeProcess>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                nodes.Add(NodeProcess.Start(nodes.FirstOrDefault(), fast ? [.. flags, "--config", FastRetries()] : flags));
                await nodes[^1].WaitReadyAsync();
            }
            return [.. nodes];
        }
        catch
        {
            foreach (var node in nodes) await node.DisposeAsync();
            throw;
        }
    }

    private static async Task<string> GetAsync(NodeProcess node, string path)
    {
        using var response = await node.Http.GetAsync(path);
        return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
    }

    /// <summary>The room's members as the API reports them: member id to user.</summary>
    private static async Task<SortedDictionary<uint, string>> RealMembersAsync(NodeProcess node, string room)
    {
        var members = new SortedDictionary<uint, string>();
        using var response = await node.Http.GetAsync($"api/v1/rooms/{room}/members?limit=1000");
        if (response.StatusCode == HttpStatusCode.NotFound) return members;
        response.EnsureSuccessStatusCode();
        foreach (var m in JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("members").EnumerateArray())
            members[m.GetProperty("member").GetUInt32()] = m.GetProperty("user").GetString()!;
        return members;
    }

    private static SortedDictionary<uint, string> HeldMembers(ReceiverHost receiver, string room) =>
        new(receiver.Receiver.Members(room).ToDictionary(m => m.Key, m => m.Value.User));

    private static async Task<double> SumAsync(NodeProcess[] nodes, string series)
    {
        double sum = 0;
        foreach (var node in nodes.Where(n => !n.HasExited)) sum += (await Metrics.ScrapeAsync(node.Http))[series];
        return sum;
    }

    /// <summary>Events of every kind with <paramref name="outcome"/>, over the nodes.</summary>
    private static async Task<double> OutcomeAsync(NodeProcess[] nodes, string outcome)
    {
        double sum = 0;
        foreach (var e in new[] { "room.started", "room.finished", "member.joined", "member.left", "seat.changed", "room.rehomed" })
            sum += await SumAsync(nodes, $"akkavoice_webhooks_total{{event=\"{e}\",outcome=\"{outcome}\"}}");
        return sum;
    }

    /// <summary>Waits for the receiver's member set of <paramref name="room"/> to equal the API's, and says how they differ if it does not.</summary>
    private async Task InStepAsync(NodeProcess node, ReceiverHost receiver, string room)
    {
        try
        {
            await Wait.UntilAsync(async () =>
            {
                try
                {
                    return (await RealMembersAsync(node, room)).SequenceEqual(HeldMembers(receiver, room));
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }, Settle, $"the receiver's {room} to equal its real members");
        }
        catch (TimeoutException)
        {
            output.WriteLine($"real: {string.Join(", ", await RealMembersAsync(node, room))}");
            output.WriteLine($"held: {string.Join(", ", HeldMembers(receiver, room))}");
            output.WriteLine($"events: {string.Join(", ", receiver.Receiver.Events(room))}");
            output.WriteLine($"inconsistencies: {string.Join("; ", receiver.Receiver.Inconsistencies)}");
            throw;
        }
    }

    private static async Task DisposeAllAsync(IEnumerable<IAsyncDisposable> things)
    {
        foreach (var thing in things) await thing.DisposeAsync();
    }

    [Fact]
    public async Task A_receiver_that_fails_for_a_while_then_recovers_gets_every_event_once_in_order_and_the_api_answers_alike_from_every_node()
    {
        await using var receiver = await ReceiverHost.StartAsync();
        receiver.Failing = true;
        var nodes = await StartClusterAsync(3, receiver.Flags);
        var clients = new List<VoiceClient>();
        try
        {
            string[] rooms = ["wh-a", "wh-b", "wh-c", "wh-d", "wh-e", "wh-f"];
            // Members come on every node; a third leave, a third of those come back into another room.
            for (int i = 0; i < 36; i++)
            {
                var client = await nodes[i % 3].ConnectAsync($"wh-user{i}");
                clients.Add(client);
                await client.JoinAsync(rooms[i % rooms.Length]);
            }
            for (int i = 0; i < 36; i += 3)
            {
                await clients[i].SendAsync(new { type = "leave", room = rooms[i % rooms.Length] });
                await clients[i].ExpectAsync("left");
                if (i % 2 == 0) await clients[i].JoinAsync(rooms[(i + 1) % rooms.Length]);
            }
            // Every member of wh-f goes: the room finishes.
            for (int i = 5; i < 36; i += 6)
            {
                if (i % 3 == 0) continue;
                await clients[i].SendAsync(new { type = "leave", room = "wh-f" });
                await clients[i].ExpectAsync("left");
            }

            await Wait.UntilAsync(async () => await OutcomeAsync(nodes, "retried") > 0, Settle, "retries");
            var waiting = await SumAsync(nodes, "akkavoice_webhook_queue");
            output.WriteLine($"queued while the receiver failed: {waiting}");
            Assert.True(waiting > 0);
            receiver.Failing = false;

            var clock = Stopwatch.StartNew();
            await Wait.UntilAsync(async () => await SumAsync(nodes, "akkavoice_webhook_queue") == 0, Settle, "the queues to drain");
            output.WriteLine($"drained {clock.ElapsedMilliseconds} ms after the receiver recovered; {receiver.Receiver.Applied} events applied");

            Assert.Equal(0, receiver.Receiver.Duplicates);
            Assert.Empty(receiver.Receiver.Inconsistencies);
            Assert.Equal(0, await OutcomeAsync(nodes, "dropped"));
            foreach (var room in rooms)
            {
                await InStepAsync(nodes[0], receiver, room);
                Assert.Equal("room.started", receiver.Receiver.Events(room)[0]);
            }
            Assert.Equal("room.finished", receiver.Receiver.Events("wh-f")[^1]);

            // The API answers the same from every node, whichever is the room's home.
            foreach (var path in rooms.SelectMany(r => new[] { $"api/v1/rooms/{r}", $"api/v1/rooms/{r}/members" })
                         .Append("api/v1/rooms?prefix=wh-").Append("api/v1/rooms?prefix=wh-&limit=2&after=wh-b"))
            {
                var answers = new List<string>();
                foreach (var node in nodes) answers.Add(await GetAsync(node, path));
                Assert.All(answers, a => Assert.Equal(answers[0], a));
            }
        }
        finally
        {
            await DisposeAllAsync(clients);
            await DisposeAllAsync(nodes);
        }
    }

    [Fact]
    public async Task A_receiver_that_never_answers_slows_neither_voice_nor_joins()
    {
        await using var receiver = await ReceiverHost.StartAsync();
        receiver.Silent = true;
        var nodes = await StartClusterAsync(2, receiver.Flags);
        var clients = new List<VoiceClient>();
        try
        {
            var speaker = await nodes[0].ConnectAsync("silent-speaker");
            var listener = await nodes[1].ConnectAsync("silent-listener");
            clients.AddRange([speaker, listener]);
            var slot = (byte)(await speaker.JoinAsync("silent-room")).Num("slot");
            await listener.JoinAsync("silent-room");

            // More rooms than the dispatcher sends at once, so every request slot is held by the silent receiver.
            var joins = Stopwatch.StartNew();
            for (int i = 0; i < 40; i++)
            {
                var c = await nodes[i % 2].ConnectAsync($"silent-user{i}");
                clients.Add(c);
                await c.JoinAsync($"silent-room{i}");
            }
            output.WriteLine($"40 connects and joins in {joins.ElapsedMilliseconds} ms");
            await Wait.UntilAsync(() => receiver.Requests >= 16, Settle, "the receiver to hold requests");

            var latencies = new List<double>();
            for (int n = 0; n < 200; n++)
            {
                var sent = Stopwatch.GetTimestamp();
                await speaker.SendFrameAsync(slot, ClientExtensions.Numbered(n));
                var frame = await listener.NextFrameAsync();
                latencies.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
                Assert.Equal(n, ClientExtensions.NumberOf(frame));
            }
            latencies.Sort();
            var p99 = latencies[(int)(latencies.Count * 0.99) - 1];
            output.WriteLine($"voice across nodes with a silent receiver: p50 {latencies[latencies.Count / 2]:F2} ms, p99 {p99:F2} ms, 0 of 200 lost");
            Assert.True(p99 < 250, $"p99 {p99} ms");
            Assert.True(await SumAsync(nodes, "akkavoice_webhook_queue") >= 40);
        }
        finally
        {
            await DisposeAllAsync(clients);
            await DisposeAllAsync(nodes);
        }
    }

    [Fact]
    public async Task After_a_node_is_killed_during_churn_the_receivers_member_sets_equal_the_real_ones()
    {
        await using var receiver = await ReceiverHost.StartAsync();
        var nodes = await StartClusterAsync(3, receiver.Flags);
        var clients = new List<VoiceClient>();
        try
        {
            // Rooms homed on the node that will die, with members on every node.
            var victim = nodes[2];
            var rooms = new List<string>();
            for (int i = 0; rooms.Count < 3 && i < 60; i++)
            {
                var room = $"kill-room{i}";
                var probe = await nodes[0].ConnectAsync($"kill-probe{i}");
                clients.Add(probe);
                await probe.JoinAsync(room);
                var info = JsonDocument.Parse(await nodes[0].Http.GetStringAsync($"api/v1/rooms/{room}")).RootElement;
                if (info.GetProperty("home").GetString() == victim.AkkaAddress) rooms.Add(room);
            }
            Assert.Equal(3, rooms.Count);
            foreach (var room in rooms)
            {
                for (int n = 0; n < 3; n++)
                {
                    var c = await nodes[n].ConnectAsync($"kill-{room}-{n}");
                    clients.Add(c);
                    await c.JoinAsync(room);
                }
            }
            foreach (var room in rooms) await InStepAsync(nodes[0], receiver, room);

            // Churn on the survivors while the home dies.
            using var stop = new CancellationTokenSource();
            var churn = Task.Run(async () =>
            {
                int k = 0;
                while (!stop.IsCancellationRequested)
                {
                    var node = nodes[k % 2];
                    try
                    {
                        await using var c = await node.ConnectAsync($"kill-churn{k}");
                        await c.JoinAsync(rooms[k % rooms.Count]);
                    }
                    catch (Exception) when (!stop.IsCancellationRequested)
                    {
                        // A join while the room is down may time out; the next one goes on.
                    }
                    k++;
                }
            });
            await Task.Delay(500);
            victim.Kill();
            var crash = Stopwatch.StartNew();
            await Task.Delay(3000);
            stop.Cancel();
            await churn;

            foreach (var room in rooms)
            {
                await InStepAsync(nodes[0], receiver, room);
                Assert.Contains("room.rehomed", receiver.Receiver.Events(room));
            }
            output.WriteLine($"member sets equal the real ones {crash.ElapsedMilliseconds} ms after the kill");
            foreach (var room in rooms) Assert.DoesNotContain($"kill-{room}-2", HeldMembers(receiver, room).Values);
        }
        finally
        {
            await DisposeAllAsync(clients);
            await DisposeAllAsync(nodes);
        }
    }

    /// <summary>
    /// The issue's measured run, with the contract's timings (first retry 1 s, at most 60 s apart): the receiver is down
    /// 60 s while 1,000 members join and leave across 3 nodes. Runs only with AKKAVOICE_MEASURE_WEBHOOKS=1 (about three
    /// minutes); docs/webhooks.md records its figures.
    /// <code>AKKAVOICE_MEASURE_WEBHOOKS=1 flock -x /tmp/akkavoice-measure.lock dotnet test tests/AkkaVoice.IntegrationTests --filter "FullyQualifiedName~Receiver_down_sixty_seconds" --logger "console;verbosity=detailed"</code>
    /// </summary>
    [Fact]
    public async Task Receiver_down_sixty_seconds_while_a_thousand_members_join_and_leave_loses_nothing()
    {
        if (Environment.GetEnvironmentVariable("AKKAVOICE_MEASURE_WEBHOOKS") != "1")
        {
            output.WriteLine("a measurement: set AKKAVOICE_MEASURE_WEBHOOKS=1 to run it");
            return;
        }
        await using var receiver = await ReceiverHost.StartAsync();
        var nodes = await StartClusterAsync(3, false, receiver.Flags);
        var clients = new List<VoiceClient>();
        try
        {
            receiver.Failing = true;
            var down = Stopwatch.StartNew();
            var rooms = Enumerable.Range(0, 50).Select(r => $"m-room{r}").ToArray();
            for (int i = 0; i < 1000; i++)
            {
                var c = await nodes[i % 3].ConnectAsync($"m-user{i}");
                clients.Add(c);
                await c.JoinAsync(rooms[i % rooms.Length]);
            }
            // Half of them leave again, while the receiver is still down.
            for (int i = 0; i < 1000; i += 2)
            {
                await clients[i].SendAsync(new { type = "leave", room = rooms[i % rooms.Length] });
                await clients[i].ExpectAsync("left");
            }
            output.WriteLine($"1,000 joins and 500 leaves in {down.Elapsed.TotalSeconds:F1} s");
            while (down.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(200);
            var queued = await SumAsync(nodes, "akkavoice_webhook_queue");
            receiver.Failing = false;
            var recovery = Stopwatch.StartNew();
            await Wait.UntilAsync(async () => await SumAsync(nodes, "akkavoice_webhook_queue") == 0, TimeSpan.FromSeconds(180), "the queues to drain");
            output.WriteLine($"receiver down {down.Elapsed.TotalSeconds - recovery.Elapsed.TotalSeconds:F0} s with {queued} events queued; all delivered " +
                             $"{recovery.Elapsed.TotalSeconds:F1} s after it came back; {receiver.Receiver.Applied} applied, {receiver.Receiver.Duplicates} repeats, " +
                             $"{receiver.Receiver.Inconsistencies.Count} out of order, {await OutcomeAsync(nodes, "retried")} retries, {await OutcomeAsync(nodes, "dropped")} dropped");
            Assert.Equal(0, await OutcomeAsync(nodes, "dropped"));
            Assert.Empty(receiver.Receiver.Inconsistencies);
            foreach (var room in rooms) await InStepAsync(nodes[1], receiver, room);
            output.WriteLine("every room's member set at the receiver equals /api/v1/rooms/{room}/members");
        }
        finally
        {
            await DisposeAllAsync(clients);
            await DisposeAllAsync(nodes);
        }
    }
}
