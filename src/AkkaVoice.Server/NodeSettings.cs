using Akka.Configuration;
using AkkaVoice.Cluster;

namespace AkkaVoice.Server;

/// <summary>
/// Everything a node is started with, bound once before anything starts: where it listens
/// (<see cref="NodeOptions"/>), how it runs rooms (<see cref="VoiceSettings"/>, with its limits and
/// healing timings), the host's own timings (<see cref="ServerSettings"/>), and the HOCON the actor
/// system layers under the options Akka.Hosting applies.
/// </summary>
public sealed record NodeSettings(NodeOptions Node, VoiceSettings Voice, ServerSettings Server, Config Hocon)
{
    /// <summary>The flags' sources: <c>AKKAVOICE_*</c> environment variables, then the flags, which win.</summary>
    public static IConfigurationBuilder AddSources(IConfigurationBuilder configuration, string[] args)
    {
        NodeOptions.CheckArguments(args);
        return configuration.AddEnvironmentVariables("AKKAVOICE_").AddCommandLine(NodeOptions.ExpandSwitches(args), NodeOptions.SwitchMappings);
    }

    /// <summary>The settings of a node started with <paramref name="args"/> in this process's environment.</summary>
    public static NodeSettings FromArgs(string[] args, Config? overrides = null) =>
        Load(AddSources(new ConfigurationBuilder(), args).Build(), DefaultHoconDirectory, overrides);

    /// <summary>The hocon/ folder next to the binary.</summary>
    public static string DefaultHoconDirectory => Path.Combine(AppContext.BaseDirectory, "hocon");

    /// <summary>
    /// Reads hocon/akkavoice.conf under the <c>--config</c> files (and <paramref name="overrides"/> over
    /// them all), then binds and checks every record; throws an <see cref="ArgumentException"/> for a bad
    /// flag, a <see cref="ConfigurationException"/> for a bad key and an <see cref="IOException"/> for a
    /// missing file, each naming what is wrong.
    /// </summary>
    public static NodeSettings Load(IConfiguration flags, string hoconDirectory, Config? overrides = null)
    {
        var hocon = ConfigurationFactory.ParseString(File.ReadAllText(Path.Combine(hoconDirectory, "akkavoice.conf")));
        foreach (var file in NodeOptions.ConfigFilesOf(flags).Reverse())
        {
            var path = Path.IsPathRooted(file) || File.Exists(file) ? file : Path.Combine(hoconDirectory, file);
            if (!File.Exists(path)) throw new FileNotFoundException($"HOCON file '{file}' not found (looked in {hoconDirectory})");
            hocon = ConfigurationFactory.ParseString(File.ReadAllText(path)).WithFallback(hocon);
        }
        if (overrides is not null) hocon = overrides.WithFallback(hocon);

        var voice = VoiceSettings.FromConfig(hocon);
        if (NodeOptions.RoutingOf(flags) is { } routing) voice = voice with { Routing = routing };
        return new NodeSettings(NodeOptions.From(flags, hocon), voice, ServerSettings.FromConfig(hocon), hocon);
    }
}
