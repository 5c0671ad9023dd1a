using AkkaVoice.Server;
using Xunit;

namespace AkkaVoice.IntegrationTests;

/// <summary>The webhook and API flags as a node binds them: a URL needs a secret of at least 32 bytes, or the node does not start.</summary>
public sealed class WebhookSettingsTests
{
    private const string Secret = "0123456789abcdef0123456789abcdef";

    [Theory]
    [InlineData(new[] { "--webhook-url", "http://127.0.0.1:9/hook" }, "--webhook-secret of at least 32 bytes is required")]
    [InlineData(new[] { "--webhook-url", "http://127.0.0.1:9/hook", "--webhook-secret", "short" }, "--webhook-secret of at least 32 bytes is required")]
    [InlineData(new[] { "--webhook-url", "ftp://127.0.0.1/hook", "--webhook-secret", Secret }, "--webhook-url must list absolute http or https URLs")]
    [InlineData(new[] { "--webhook-url", "http://a/h,/relative", "--webhook-secret", Secret }, "not '/relative'")]
    public void A_webhook_url_without_a_good_secret_or_a_bad_url_is_refused(string[] args, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => NodeSettings.FromArgs(args));
        Assert.Contains(message, e.Message);
        Assert.DoesNotContain(Secret, e.Message);
    }

    [Fact]
    public void The_flags_and_their_environment_twins_set_the_urls_secret_and_api_token()
    {
        var settings = NodeSettings.FromArgs(["--webhook-url", "http://a.example/h, https://b.example/h?t=1", "--webhook-secret", Secret, "--api-token", "tok"]);
        Assert.Equal(["http://a.example/h", "https://b.example/h?t=1"], settings.Node.Webhooks!.Urls.Select(u => u.ToString()));
        Assert.Equal("tok", settings.Node.ApiToken);
        Assert.Equal(TimeSpan.FromSeconds(5), settings.Node.Webhooks.AttemptTimeout);
        Assert.Equal(10_000, settings.Node.Webhooks.QueueLimit);
        Assert.Null(NodeSettings.FromArgs([]).Node.Webhooks);
    }

    [Fact]
    public async Task A_node_process_with_a_url_and_no_secret_exits_2_naming_the_flag()
    {
        await using var node = NodeProcess.Start(null, "--webhook-url", "http://127.0.0.1:9/hook");
        Assert.Equal(2, await node.WaitExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("--webhook-secret", node.Log);
    }
}
