using System.Diagnostics;
using Xunit;
using Xunit.Abstractions;

namespace AkkaVoice.Tests.Cluster;

/// <summary>Rooms are soft state: when their node leaves or dies, they restart elsewhere and their members rejoin by themselves.</summary>
public sealed class RehomingSpec(ITestOutputHelper output) : ClusterSpec(output, 3)
{
    [Fact]
    public async Task A_graceful_leave_rehomes_the_room_and_remote_members_hear_each_other_within_two_seconds()
    {
        var room = RoomHomedOn(2);
        await using var alice = Cluster.Connect(0, "alice");
        await using var bob = Cluster.Connect(1, "bob");
        var a = await alice.JoinAsync(room);
        await bob.JoinAsync(room);
        await AwaitRoomHomeAsync(room, 2);

        var gap = await MeasureGapAsync(alice, (byte)a.Num("slot"), bob, () => Cluster.LeaveAsync(2));

        Output.WriteLine($"voice gap during graceful leave of the room's home: {gap.TotalMilliseconds:F0} ms");
        Assert.NotEqual(Cluster[2].SelfAddress.ToString(), await HomeOfAsync(Cluster[0], room));
        Assert.True(gap <= TimeSpan.FromSeconds(2), $"voice gap {gap} exceeds 2 s");
    }

    [Fact]
    public async Task Every_say_sent_while_the_room_moves_on_a_graceful_leave_is_answered_once_and_heard_once()
    {
        var room = RoomHomedOn(2, "moving");
        await using var alice = Cluster.Connect(0, "alice");
        await using var bob = Cluster.Connect(1, "bob");
        await alice.JoinAsync(room);
        await bob.JoinAsync(room);
        await AwaitRoomHomeAsync(room, 2);

        // Says under the connection's text limit (20 a second) from before the leave until after the room's new home runs.
        var leave = Cluster.LeaveAsync(2);
        int sent = 0;
        while (!leave.IsCompleted || sent < 40)
        {
            alice.Send($$"""{"type":"say","room":"{{room}}","text":"line {{sent}}","ref":"s{{sent}}"}""");
            sent++;
            await Task.Delay(60);
        }
        await leave;

        var answers = new List<ReceivedText>();
        while (answers.Count < sent) answers.Add(await alice.ExpectAsyncAny(["said", "error"], TimeSpan.FromSeconds(10)));
        Output.WriteLine($"{sent} says sent while node 2 left; {answers.Count(a => a.Type == "said")} answered with said");
        Assert.All(answers, a => Assert.Equal("said", a.Type));
        Assert.Equal(Enumerable.Range(0, sent).Select(i => $"s{i}"), answers.Select(a => a.Str("ref")));

        var heard = new List<ReceivedText>();
        while (heard.Count < sent) heard.Add(await bob.ExpectAsync("said", TimeSpan.FromSeconds(10)));
        Assert.Equal(Enumerable.Range(0, sent).Select(i => $"line {i}"), heard.Select(h => h.Str("text")));
        Assert.Equal(heard.Select(h => h.Num("seq")).Distinct().Count(), sent);
        Assert.NotEqual(Cluster[2].SelfAddress.ToString(), await HomeOfAsync(Cluster[0], room));
    }

    [Fact]
    public async Task The_oldest_node_leaving_moves_the_shard_coordinator_and_its_rooms_without_losing_voice()
    {
        // Node 0 is the oldest: it runs both shard coordinators, so its leave also hands the coordinators over
        // (where akka.net #8583 reports regions being stopped by mistake).
        var room = RoomHomedOn(0);
        await using var alice = Cluster.Connect(1, "alice");
        await using var bob = Cluster.Connect(2, "bob");
        var a = await alice.JoinAsync(room);
        await bob.JoinAsync(room);
        await AwaitRoomHomeAsync(room, 0);

        var gap = await MeasureGapAsync(alice, (byte)a.Num("slot"), bob, () => Cluster.LeaveAsync(0));
        Output.WriteLine($"voice gap while the oldest node (coordinator and room home) left: {gap.TotalMilliseconds:F0} ms");
        Assert.True(gap <= TimeSpan.FromSeconds(2), $"voice gap {gap} exceeds 2 s");

        // The surviving nodes still place new rooms.
        await using var carol = Cluster.Connect(2, "carol");
        await carol.JoinAsync("after-the-coordinator-moved");
    }

    [Fact]
    public async Task A_crashed_node_is_downed_its_rooms_come_back_and_its_members_leave()
    {
        var room = RoomHomedOn(2);
        await using var alice = Cluster.Connect(0, "alice");
        await using var bob = Cluster.Connect(1, "bob");
        var carol = Cluster.Connect(2, "carol");
        var a = await alice.JoinAsync(room);
        await bob.JoinAsync(room);
        var c = await carol.JoinAsync(room);
        await bob.ExpectAsync("member-joined");
        await AwaitRoomHomeAsync(room, 2);

        var gap = await MeasureGapAsync(alice, (byte)a.Num("slot"), bob, () => Cluster.CrashAsync(2), TimeSpan.FromSeconds(60));
        Output.WriteLine($"voice gap after a crash of the room's home: {gap.TotalMilliseconds:F0} ms");

        // Carol's node died with the room: the room comes back without her, and says so.
        await AwaitAssertAsync(() =>
        {
            Assert.Equal(["alice", "bob"], bob.RosterOf(room).Order());
            Assert.Equal(["alice", "bob"], alice.RosterOf(room).Order());
        }, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200));
        Assert.Contains(bob.Texts, t => t.Type == "member-left" && t.Num("member") == c.Num("member"));
        // The room itself is served again by a survivor once its shard has a new home.
        await AwaitAssertAsync(async () => Assert.NotEqual(Cluster[2].SelfAddress.ToString(), await HomeOfAsync(Cluster[0], room)),
            TimeSpan.FromSeconds(40), TimeSpan.FromMilliseconds(500));
    }

    /// <summary>Rooms land on their rendezvous home once every node's shard region has registered; wait for that.</summary>
    private Task AwaitRoomHomeAsync(string room, int index) =>
        AwaitAssertAsync(async () => Assert.Equal(Cluster[index].SelfAddress.ToString(), await HomeOfAsync(Cluster[1], room)),
            TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(250));

    /// <summary>
    /// Alice speaks every 20 ms while <paramref name="disruption"/> runs; returns the longest silence Bob
    /// heard, once he hears Alice again after it.
    /// </summary>
    private static async Task<TimeSpan> MeasureGapAsync(TestConnection speaker, byte slot, TestConnection listener, Func<Task> disruption, TimeSpan? timeout = null)
    {
        using var stop = new CancellationTokenSource();
        var talking = Task.Run(async () =>
        {
            using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
            while (await tick.WaitForNextTickAsync(stop.Token).ConfigureAwait(false)) speaker.SendFrame(slot, [7]);
        });
        try
        {
            await listener.NextFrameAsync();
            var clock = Stopwatch.StartNew();
            var disrupted = disruption();
            var deadline = timeout ?? TimeSpan.FromSeconds(30);
            TimeSpan last = clock.Elapsed, longest = TimeSpan.Zero;
            TimeSpan? over = null;
            // Listen until frames have flowed for a second after the disruption finished.
            while (over is null || last - over < TimeSpan.FromSeconds(1))
            {
                if (clock.Elapsed > deadline) throw new TimeoutException($"voice did not come back within {deadline}");
                try
                {
                    await listener.NextFrameAsync(TimeSpan.FromSeconds(1));
                }
                catch (TimeoutException)
                {
                    continue;
                }
                var now = clock.Elapsed;
                if (now - last > longest) longest = now - last;
                last = now;
                if (disrupted.IsCompleted) over ??= now;
            }
            await disrupted;
            return longest;
        }
        finally
        {
            stop.Cancel();
            try { await talking; } catch (OperationCanceledException) { }
        }
    }
}
