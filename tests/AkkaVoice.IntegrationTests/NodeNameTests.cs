using AkkaVoice.Server;
using Xunit;

namespace AkkaVoice.IntegrationTests;

/// <summary><c>--node-name</c> becomes the cluster role the room directory weighs a node by.</summary>
public sealed class NodeNameTests
{
    [Fact]
    public void A_node_name_from_the_flag_or_the_environment_is_carried_as_a_name_role()
    {
        var fromFlag = NodeSettings.FromArgs(["--node-name", "akkavoice-1"]).Node;
        Assert.Equal(["name:akkavoice-1"], fromFlag.Roles);
        Assert.Equal("akkavoice-1", fromFlag.NodeName);

        var fromHocon = NodeSettings.FromArgs([], Akka.Configuration.ConfigurationFactory.ParseString("akkavoice.node-name = akkavoice-2")).Node;
        Assert.Equal(["name:akkavoice-2"], fromHocon.Roles);
    }

    [Fact]
    public async Task A_node_started_with_a_name_shows_its_name_role_in_the_cluster()
    {
        await using var node = await TestNode.StartAsync(hocon: "akkavoice.node-name = \"pod-3\"");
        var cluster = await node.Http.GetStringAsync("admin/cluster");
        Assert.Contains("\"roles\":[\"name:pod-3\"]", cluster);
    }

    [Fact]
    public void Without_a_name_the_node_has_no_name_role()
    {
        var node = NodeSettings.FromArgs([]).Node;
        Assert.Null(node.NodeName);
        Assert.DoesNotContain(node.Roles, r => r.StartsWith("name:", StringComparison.Ordinal));
    }

    [Fact]
    public void A_name_role_joins_the_roles_a_hocon_file_sets_and_replaces_an_old_name()
    {
        var file = Path.Combine(Path.GetTempPath(), $"roles-{Guid.NewGuid():N}.conf");
        File.WriteAllText(file, """akka.cluster.roles = ["voice", "name:stale"]""");
        try
        {
            var node = NodeSettings.FromArgs(["--node-name", "pod-7", "--config", file]).Node;
            Assert.Equal(["voice", "name:pod-7"], node.Roles);
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
        var e = Assert.Throws<ArgumentException>(() => NodeSettings.FromArgs(["--node-name", name]));
        Assert.Contains("--node-name", e.Message);
    }
}
