using System.Text.Json;
using Akka.Configuration;
using AkkaVoice.Server;
using Xunit;

namespace AkkaVoice.IntegrationTests;

/// <summary>
/// Flags, their <c>AKKAVOICE_*</c> twins and the HOCON files, as the node binds them once at startup:
/// flags win over the environment, which wins over the files, and a bad value is refused by name.
/// </summary>
public sealed class SettingsTests
{
    private static string Refusal(params string[] args)
    {
        var e = Assert.ThrowsAny<Exception>(() => NodeSettings.FromArgs(args));
        Assert.True(e is ArgumentException or ConfigurationException or IOException, $"{e.GetType().Name}: {e.Message}");
        return e.Message;
    }

    [Fact]
    public void Without_flags_the_node_takes_the_defaults_of_hocon_akkavoice_conf()
    {
        var settings = NodeSettings.FromArgs([]);
        Assert.Equal(5000, settings.Node.HttpPort);
        Assert.Equal(4053, settings.Node.AkkaPort);
        Assert.Equal("127.0.0.1", settings.Node.Bind);
        Assert.Equal("127.0.0.1", settings.Node.Hostname);
        Assert.Empty(settings.Node.Seeds);
        Assert.Null(settings.Node.JwtSecret);
        Assert.Equal(TimeSpan.FromSeconds(3), settings.Server.CloseTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.Server.ShutdownTimeout);
    }

    [Fact]
    public void Flags_override_the_files_in_both_spellings()
    {
        var settings = NodeSettings.FromArgs(["--http-port=6001", "--akka-port", "6002", "--seeds", "akka.tcp://akkavoice@10.0.0.1:4053, akka.tcp://akkavoice@10.0.0.2:4053", "--routing", "broadcast"]);
        Assert.Equal(6001, settings.Node.HttpPort);
        Assert.Equal(6002, settings.Node.AkkaPort);
        Assert.Equal(["akka.tcp://akkavoice@10.0.0.1:4053", "akka.tcp://akkavoice@10.0.0.2:4053"], settings.Node.Seeds);
        Assert.Equal(AkkaVoice.Cluster.Routing.Broadcast, settings.Voice.Routing);
    }

    [Theory]
    [InlineData(new[] { "--http-port", "eighty" }, "--http-port must be a port number (0-65535), not 'eighty'")]
    [InlineData(new[] { "--akka-port=70000" }, "--akka-port must be a port number (0-65535), not '70000'")]
    [InlineData(new[] { "--routing", "everywhere" }, "--routing must be interest, via-room or broadcast, not 'everywhere'")]
    [InlineData(new[] { "--seeds", "10.0.0.1:4053" }, "--seeds must list Akka addresses like akka.tcp://akkavoice@host:4053, not '10.0.0.1:4053'")]
    [InlineData(new[] { "--colour", "blue" }, "unknown flag --colour; known: --http-port")]
    [InlineData(new[] { "--http-port" }, "--http-port needs a value")]
    [InlineData(new[] { "5000" }, "unexpected argument '5000'")]
    [InlineData(new[] { "--config", "missing.conf" }, "HOCON file 'missing.conf' not found")]
    public void A_bad_flag_is_refused_with_its_name(string[] args, string expected) => Assert.StartsWith(expected, Refusal(args));

    [Fact]
    public void A_bad_key_in_a_config_file_is_refused_with_its_full_name()
    {
        var file = Path.Combine(Path.GetTempPath(), $"akkavoice-{Guid.NewGuid():N}.conf");
        File.WriteAllText(file, "akkavoice.shutdown.close-timeout = 10s\n");
        try
        {
            Assert.StartsWith("akkavoice.shutdown.close-timeout must be shorter than akka.coordinated-shutdown.phases.",
                Refusal("--config", file));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Each_secret_comes_from_its_flag_or_its_file_not_both()
    {
        var file = Path.Combine(Path.GetTempPath(), $"akkavoice-secret-{Guid.NewGuid():N}");
        File.WriteAllText(file, "an-admin-token-read-from-a-file\r\n");
        try
        {
            Assert.Equal("an-admin-token-read-from-a-file", NodeSettings.FromArgs(["--admin-token-file", file]).Node.AdminToken);
            Assert.Equal("give --admin-token or --admin-token-file, not both", Refusal("--admin-token", "x", "--admin-token-file", file));
            foreach (var secret in NodeOptions.Secrets.Where(s => s is not ("api-token" or "webhook-secret")))
                Assert.StartsWith($"--{secret}-file {file}.missing cannot be read", Refusal($"--{secret}-file", file + ".missing"));
            File.WriteAllText(file, "\n");
            Assert.EndsWith("is empty", Refusal("--tls-cert-password-file", file));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Remoting_in_clear_off_loopback_needs_allow_insecure_remoting_and_a_bare_switch_turns_it_on()
    {
        var refusal = Refusal("--bind", "0.0.0.0");
        Assert.Contains("--tls-cert", refusal);
        Assert.Contains("--allow-insecure-remoting", refusal);
        Assert.True(NodeSettings.FromArgs(["--bind", "0.0.0.0", "--allow-insecure-remoting"]).Node.AllowInsecureRemoting);
        Assert.True(NodeSettings.FromArgs(["--allow-insecure-remoting", "--bind", "10.1.2.3"]).Node.AllowInsecureRemoting);
        Assert.False(NodeSettings.FromArgs(["--bind", "::1"]).Node.AllowInsecureRemoting);
        Assert.Contains("--tls-cert", Refusal("--bind", "10.1.2.3", "--allow-insecure-remoting=false"));
    }

    [Fact]
    public void Edge_limits_and_trusted_proxies_bind_with_their_defaults()
    {
        var defaults = NodeSettings.FromArgs([]).Node;
        Assert.Equal(50_000, defaults.MaxConnections);
        Assert.Equal(0, defaults.MaxConnectionsPerIp);
        Assert.Empty(defaults.TrustedProxies);
        var set = NodeSettings.FromArgs(["--max-connections", "10", "--max-connections-per-ip=2", "--trusted-proxies", "10.0.0.0/8, 192.0.2.1"]).Node;
        Assert.Equal((10, 2), (set.MaxConnections, set.MaxConnectionsPerIp));
        Assert.True(set.TrustedProxies[1].Contains(System.Net.IPAddress.Parse("192.0.2.1")));
        Assert.StartsWith("--trusted-proxies must list", Refusal("--trusted-proxies", "proxy.local"));
        Assert.StartsWith("--max-connections must be", Refusal("--max-connections", "0"));
    }

    [Fact]
    public void TLS_seeds_written_the_plain_way_take_the_ssl_scheme() =>
        Assert.Equal(["akka.ssl.tcp://akkavoice@10.0.0.1:4053"],
            NodeSettings.FromArgs(["--tls-cert", "/cluster.p12", "--seeds", "akka.tcp://akkavoice@10.0.0.1:4053"]).Node.Seeds);
}

/// <summary>The executable itself: environment variables under flags, and a bad setting's exit.</summary>
[Collection("processes")]
public sealed class SettingsProcessTests
{
    [Fact]
    public async Task Flags_win_over_the_environment_and_the_environment_over_the_files()
    {
        // The environment names an HTTP port that is no port at all: the flag the node is started with must win.
        await using var node = NodeProcess.Start(new Dictionary<string, string>
        {
            ["AKKAVOICE_HTTP_PORT"] = "not-a-port",
            ["AKKAVOICE_ROUTING"] = "broadcast",
        });
        await node.WaitReadyAsync();
        Assert.Contains("routing Broadcast", node.Log);
        using var cluster = JsonDocument.Parse(await node.Http.GetStringAsync("admin/cluster"));
        Assert.Equal(node.AkkaAddress, cluster.RootElement.GetProperty("self").GetString());
    }

    [Fact]
    public async Task A_node_given_a_bad_setting_exits_2_with_the_key()
    {
        var file = Path.Combine(Path.GetTempPath(), $"akkavoice-{Guid.NewGuid():N}.conf");
        File.WriteAllText(file, "akkavoice.limits.members-per-room = 0\n");
        try
        {
            await using var node = NodeProcess.Start(null, "--config", file);
            Assert.Equal(2, await node.WaitExitAsync(TimeSpan.FromSeconds(60)));
            Assert.Contains("Cannot start: akkavoice.limits.members-per-room must be at least 1, not 0", node.Log);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
