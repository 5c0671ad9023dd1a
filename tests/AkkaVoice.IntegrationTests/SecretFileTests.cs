using System.Net.Http.Headers;
using AkkaVoice.IntegrationTests.Support;
using Xunit;

namespace AkkaVoice.IntegrationTests;

/// <summary>
/// PROTOCOL.md section 6: every secret can come from a file (flag or environment), the way Kubernetes mounts a
/// Secret; the node uses it, and it appears in no log line and no /admin answer.
/// </summary>
[Collection("processes")]
public sealed class SecretFileTests
{
    [Fact]
    public async Task Secrets_from_files_are_used_and_never_logged_nor_shown_by_admin()
    {
        var certificate = ClusterCertificate.Make();
        var folder = certificate.Folder;
        var jwtSecret = "jwt-secret-from-a-file-" + Guid.NewGuid().ToString("N");
        var adminToken = "admin-token-from-a-file-" + Guid.NewGuid().ToString("N");
        File.WriteAllText(Path.Combine(folder, "jwt"), jwtSecret + "\n");
        File.WriteAllText(Path.Combine(folder, "admin"), adminToken + "\n");
        var password = File.ReadAllText(certificate.PasswordFile).Trim();
        try
        {
            await using var node = NodeProcess.Start(
                new Dictionary<string, string> { ["AKKAVOICE_ADMIN_TOKEN_FILE"] = Path.Combine(folder, "admin") }, null,
                ["--jwt-secret-file", Path.Combine(folder, "jwt"), .. certificate.Flags]);
            await node.WaitReadyAsync();

            // The token signed with the file's secret is accepted, and /admin wants the file's token.
            await using (var client = await AkkaVoice.Client.VoiceClient.ConnectAsync(new Uri($"ws://127.0.0.1:{node.HttpPort}/ws"),
                Jwt.Hs256(jwtSecret, "alice", TimeSpan.FromMinutes(5))))
                Assert.Equal("alice", (await client.ExpectAsync("welcome")).Str("user"));
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await node.Http.GetAsync("admin/cluster")).StatusCode);
            node.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
            var answers = new List<string>();
            foreach (var path in new[] { "admin/cluster", "admin/shards", "admin/rooms/none", "metrics" })
                answers.Add(await (await node.Http.GetAsync(path)).Content.ReadAsStringAsync());
            Assert.Contains("akka.ssl.tcp://", answers[0]);

            foreach (var secret in new[] { jwtSecret, adminToken, password })
            {
                Assert.DoesNotContain(secret, node.Log);
                Assert.All(answers, a => Assert.DoesNotContain(secret, a));
            }
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [Fact]
    public async Task Remoting_on_an_address_other_than_loopback_without_a_certificate_refuses_to_start()
    {
        await using var node = NodeProcess.Start(null, "--bind", "0.0.0.0");
        Assert.Equal(2, await node.WaitExitAsync(TimeSpan.FromSeconds(30)));
        await Wait.UntilAsync(() => node.Log.Contains("--allow-insecure-remoting"), TimeSpan.FromSeconds(5), "the refusal in the log");
        Assert.Contains("--tls-cert", node.Log);
        Assert.Contains("0.0.0.0", node.Log);
    }
}
