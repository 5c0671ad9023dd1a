using AkkaVoice.Server;
using Xunit;

namespace AkkaVoice.IntegrationTests;

/// <summary><c>--node-name</c> becomes the cluster role the room directory weighs a node by.</summary>
public sealed class NodeNameTests
{
    private static readonly string Hocon = Path.Combine(AppContext.BaseDirectory, "hocon");

    [Fact]
    public void A_node_name_from_the_flag_or_the_environment_is_carried_as_a_name_role()
    {
        var fromFlag = NodeOptions.Parse(["--node-name", "akkavoice-1"], _ => null).BuildConfig(Hocon);
        Assert.Equal(["name:akkavoice-1"], fromFlag.GetStringList("akka.cluster.roles"));
        Assert.Equal("akkavoice-1", fromFlag.GetString("akkavoice.node-name"));

        var fromEnvironment = NodeOptions.Parse([], e => e == "AKKAVOICE_NODE_NAME" ? "akkavoice-2" : null).BuildConfig(Hocon);
        Assert.Equal(["name:akkavoice-2"], fromEnvironment.GetStringList("akka.cluster.roles"));
    }

    [Fact]
    public void Without_a_name_the_node_has_no_name_role()
    {
        var config = new NodeOptions().BuildConfig(Hocon);
        Assert.DoesNotContain(config.GetStringList("akka.cluster.roles") ?? [], r => r.StartsWith("name:", StringComparison.Ordinal));
    }

    [Fact]
    public void A_name_role_joins_the_roles_a_hocon_file_sets_and_replaces_an_old_name()
    {
        var file = Path.Combine(Path.GetTempPath(), $"roles-{Guid.NewGuid():N}.conf");
        File.WriteAllText(file, """akka.cluster.roles = ["voice", "name:stale"]""");
        try
        {
            var config = (NodeOptions.Parse(["--node-name", "pod-7"], _ => null) with { ConfigFiles = [file] }).BuildConfig(Hocon);
            Assert.Equal(["voice", "name:pod-7"], config.GetStringList("akka.cluster.roles"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("slash/name")]
    [InlineData("quote\"d")]
    public void A_bad_node_name_is_refused_with_the_reason(string name)
    {
        var e = Assert.Throws<ArgumentException>(() => NodeOptions.Parse(["--node-name", name], _ => null).BuildConfig(Hocon));
        Assert.Contains("--node-name", e.Message);
    }
}
