using Akka.Configuration;
using AkkaVoice.Cluster;
using AkkaVoice.Protocol;

namespace AkkaVoice.Tests;

/// <summary>The settings a node runs with by default: hocon/akkavoice.conf, the only place defaults live.</summary>
public static class TestSettings
{
    public static Config Hocon => ConfigurationFactory.ParseString(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "hocon", "akkavoice.conf")));

    public static VoiceSettings Voice { get; } = VoiceSettings.FromConfig(Hocon);

    public static Limits Limits => Voice.Limits;
}
