using Akka.Actor;
using Akka.Configuration;
using AkkaVoice.Cluster.Rooms;
using AkkaVoice.Cluster.Serialization;
using BenchmarkDotNet.Attributes;

namespace AkkaVoice.Benchmarks;

/// <summary>A voice frame crossing nodes: the room's <see cref="VoiceOut"/> to a remote relay, serialized once per node.</summary>
[MemoryDiagnoser]
public class WireBenchmarks
{
    private ActorSystem system = null!;
    private WireSerializer serializer = null!;
    private VoiceOut frame = null!;
    private byte[] bytes = null!;

    [GlobalSetup]
    public void Setup()
    {
        // The project's own HOCON, as a node loads it, on a free port and without the Serilog logger.
        var config = ConfigurationFactory.ParseString("""
                akka.actor.provider = cluster
                akka.remote.dot-netty.tcp.port = 0
                akka.loglevel = WARNING
                akka.loggers = ["Akka.Event.DefaultLogger"]
                akka.logger-formatter = "Akka.Event.DefaultLogMessageFormatter, Akka"
                """)
            .WithFallback(ConfigurationFactory.ParseString(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "hocon", "akkavoice.conf"))));
        system = ActorSystem.Create("akkavoice", config);
        frame = new VoiceOut("standup-42", 17, new byte[100]);
        serializer = (WireSerializer)system.Serialization.FindSerializerFor(frame);
        bytes = serializer.ToBinary(frame);
    }

    [GlobalCleanup]
    public void Cleanup() => system.Terminate().Wait(TimeSpan.FromSeconds(10));

    [Benchmark]
    public byte[] VoiceOutToBinary() => serializer.ToBinary(frame);

    [Benchmark]
    public object VoiceOutFromBinary() => serializer.FromBinary(bytes, "VO");
}
