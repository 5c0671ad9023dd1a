using AkkaVoice.Protocol;
using BenchmarkDotNet.Attributes;

namespace AkkaVoice.Benchmarks;

/// <summary>The per-message work of a connection: parsing a control message, framing a voice frame for a receiver.</summary>
[MemoryDiagnoser]
public class ProtocolBenchmarks
{
    private static readonly byte[] Join = """{"type":"join","room":"standup-42","ref":"r1"}"""u8.ToArray();
    private readonly byte[] payload = new byte[100];
    private readonly byte[] frame = new byte[VoiceFrames.ServerHeaderSize + 1500];

    [Benchmark]
    public ClientCommand ParseJoin() => ClientMessages.Parse(Join, out _);

    [Benchmark]
    public int WriteServerFrame() => VoiceFrames.WriteServerFrame(frame, 3, 123456, payload);
}
