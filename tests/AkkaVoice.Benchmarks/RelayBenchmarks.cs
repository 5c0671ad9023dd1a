using AkkaVoice.Cluster;
using AkkaVoice.Cluster.Connections;
using AkkaVoice.Cluster.Relay;
using AkkaVoice.Protocol;
using BenchmarkDotNet.Attributes;

namespace AkkaVoice.Benchmarks;

/// <summary>
/// The node relay's fan-out of one frame to a room of 25 local members (what <see cref="NodeRelay"/> does per
/// message), then each member's socket writer taking it off its queue. Per frame: 24 enqueues and 24 dequeues.
/// </summary>
[MemoryDiagnoser]
public class RelayBenchmarks
{
    private const string Room = "standup-42";
    private readonly LocalMembers members = new();
    private readonly NodeStats stats = new();
    private readonly byte[] payload = new byte[100];
    private Outbound[] outbounds = [];

    [Params(25)]
    public int Members { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var limits = new Limits();
        outbounds = new Outbound[Members];
        for (int i = 0; i < Members; i++)
        {
            outbounds[i] = new Outbound(limits, stats);
            members.Add(new Membership(Room, 0, (uint)(i + 1), outbounds[i]));
        }
    }

    [Benchmark]
    public int FanOutAndDrain()
    {
        const uint speaker = 1;
        // NodeRelay.OnReceive for one VoiceOut.
        foreach (var m in members.Of(Room))
        {
            if (m.Member != speaker && m.Active) m.Outbound.EnqueueVoice(m, speaker, payload);
        }
        // Each connection's writer: take what is queued, then wait again (consuming the signal).
        int taken = 0;
        foreach (var o in outbounds)
        {
            int n = 0;
            while (o.TryDequeue(out _)) n++;
            // The writer's next wait consumes the signal its frames set (the speaker's own queue got none).
            if (n > 0) _ = o.Signal.WaitAsync();
            taken += n;
        }
        return taken;
    }
}
