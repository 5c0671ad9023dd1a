using Akka.Configuration;
using AkkaVoice.Cluster;
using AkkaVoice.Cluster.Connections;
using AkkaVoice.Cluster.Hub;
using AkkaVoice.Protocol;
using BenchmarkDotNet.Attributes;

namespace AkkaVoice.Benchmarks;

/// <summary>
/// The fan-out of one frame to a room of 25 local members (what a speaker's socket reader and the node
/// relay do per frame): each idle member's output takes it at once and frames it into its write buffer,
/// as the socket sink does, without the socket write itself. Per frame: 24 enqueues and 24 framed writes.
/// </summary>
[MemoryDiagnoser]
public class RelayBenchmarks
{
    /// <summary>Stands for the socket sink: copies each frame with its header into a write buffer, and writes nothing.</summary>
    private sealed class FramingSink : IOutboundSink
    {
        private readonly byte[] buffer = new byte[16 * 1024];
        private int count;

        public bool TryAdd(in OutboundItem item)
        {
            int length = VoiceFrames.ServerHeaderSize + item.Bytes.Length;
            if (count + 2 + length > buffer.Length) return false;
            buffer[count] = 0x82;
            buffer[count + 1] = (byte)length;
            VoiceFrames.WriteServerFrame(buffer.AsSpan(count + 2), item.Membership!.Slot, item.Speaker, item.Bytes);
            count += 2 + length;
            return true;
        }

        public ValueTask FlushAsync()
        {
            count = 0;
            return default;
        }

        public void Idle()
        {
        }
    }

    private readonly LocalRoom room = new("standup-42");
    private readonly NodeStats stats = new();
    private readonly byte[] payload = new byte[100];

    [Params(25)]
    public int Members { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var limits = VoiceSettings.FromConfig(ConfigurationFactory.ParseString(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "hocon", "akkavoice.conf")))).Limits;
        for (int i = 0; i < Members; i++)
        {
            var outbound = new Outbound(limits, stats);
            outbound.Attach(new FramingSink());
            room.Add(new Membership(room, null!, outbound, 0, (uint)(i + 1)));
        }
    }

    [Benchmark]
    public void FanOut() => room.FanOut(1, payload);
}
