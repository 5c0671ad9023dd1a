using Akka.Configuration;
using AkkaVoice.Cluster;
using Xunit;

namespace AkkaVoice.Tests;

/// <summary>The node's settings come from hocon/akkavoice.conf only, and a value it cannot run with is refused by name.</summary>
public sealed class VoiceSettingsTests
{
    private static VoiceSettings With(string hocon) =>
        VoiceSettings.FromConfig(ConfigurationFactory.ParseString(hocon).WithFallback(TestSettings.Hocon));

    private static string Refusal(string hocon) => Assert.Throws<ConfigurationException>(() => With(hocon)).Message;

    [Fact]
    public void The_defaults_are_the_contracts_and_the_healing_timings_are_read_from_the_file()
    {
        var settings = TestSettings.Voice;
        Assert.Equal(Routing.Interest, settings.Routing);
        Assert.Equal(100, settings.ShardCount);
        Assert.Equal(100, settings.HistorySize);
        Assert.Equal(TimeSpan.FromMinutes(5), settings.RoomIdleTimeout);
        Assert.Equal(8, settings.Limits.RoomsPerConnection);
        Assert.Equal(200, settings.Limits.MembersPerRoom);
        Assert.Equal(1500, settings.Limits.MaxFramePayload);
        Assert.Equal(TimeSpan.FromSeconds(5), settings.Healing.RejoinGrace);
        Assert.Equal(TimeSpan.FromSeconds(1), settings.Healing.RetryInterval);
        Assert.Equal(TimeSpan.FromSeconds(1), settings.Healing.RoomProbeTimeout);

        var tuned = With("akkavoice { rejoin-grace = 750ms, shard-watch-interval = 3s, limits.close-grace = 4s }");
        Assert.Equal(TimeSpan.FromMilliseconds(750), tuned.Healing.RejoinGrace);
        Assert.Equal(TimeSpan.FromSeconds(3), tuned.Healing.ShardWatchInterval);
        Assert.Equal(TimeSpan.FromSeconds(4), tuned.Limits.CloseGrace);
    }

    [Theory]
    [InlineData("akkavoice.limits.members-per-room = 0", "akkavoice.limits.members-per-room must be at least 1, not 0")]
    [InlineData("akkavoice.limits.rooms-per-connection = 300", "akkavoice.limits.rooms-per-connection must be 1-256, not 300")]
    [InlineData("akkavoice.history-size = 50", "akkavoice.history-size must be at least 100, not 50")]
    [InlineData("akkavoice.shard-count = many", "akkavoice.shard-count must be a whole number, not 'many'")]
    [InlineData("akkavoice.rejoin-grace = 0s", "akkavoice.rejoin-grace must be longer than 0, not 0s")]
    [InlineData("akkavoice.retry-interval = soon", "akkavoice.retry-interval must be a duration such as 500ms, 5s or 2m, not 'soon'")]
    [InlineData("akkavoice.limits.voice-frames-per-second = -1", "akkavoice.limits.voice-frames-per-second must be positive, not -1")]
    [InlineData("akkavoice.routing = everywhere", "akkavoice.routing must be interest, via-room or broadcast, not 'everywhere'")]
    [InlineData("akkavoice.limits.keep-alive-timeout = 10s", "akkavoice.limits.keep-alive-timeout must be longer than keep-alive-interval")]
    public void A_value_the_node_cannot_run_with_is_refused_with_its_key_and_never_clamped(string hocon, string expected) =>
        Assert.StartsWith(expected, Refusal(hocon));

    [Fact]
    public void A_key_missing_from_the_files_is_refused_rather_than_defaulted_in_code()
    {
        var withoutRejoinGrace = ConfigurationFactory.ParseString(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "hocon", "akkavoice.conf"))
            .Replace("rejoin-grace = 5s", ""));
        var e = Assert.Throws<ConfigurationException>(() => VoiceSettings.FromConfig(withoutRejoinGrace));
        Assert.StartsWith("akkavoice.rejoin-grace is not set", e.Message);
    }
}
