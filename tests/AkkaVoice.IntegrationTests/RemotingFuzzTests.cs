using System.Net;
using System.Net.Sockets;
using AkkaVoice.IntegrationTests.Support;
using Xunit;
using Xunit.Abstractions;

namespace AkkaVoice.IntegrationTests;

/// <summary>
/// PROTOCOL.md section 11: whatever a stranger sends to the remoting port (garbage, a 2 GiB length prefix,
/// thousands of connections that never finish a handshake) leaves the node up, serving voice, its memory
/// bounded and its cluster unchanged; with TLS and without.
/// </summary>
[Collection("processes")]
public sealed class RemotingFuzzTests(ITestOutputHelper output)
{
    private const int HalfOpen = 2000;
    private const long MaxGrowth = 50L * 1024 * 1024;

    [Fact]
    public async Task A_plain_node_answers_the_akka_associate_these_tests_send()
    {
        // The frames are Akka's own: a node without TLS takes the Associate and answers with its own.
        await using var node = NodeProcess.Start();
        await node.WaitReadyAsync();
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, node.AkkaPort);
        var stream = tcp.GetStream();
        await stream.WriteAsync(AkkaWire.Associate("127.0.0.1", 1));
        var head = new byte[4];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await stream.ReadExactlyAsync(head, timeout.Token);
        var length = BitConverter.ToInt32(head);
        Assert.InRange(length, 10, 1000);
        var pdu = new byte[length];
        await stream.ReadExactlyAsync(pdu, timeout.Token);
        Assert.Equal((2 << 3) | 2, pdu[0]); // instruction: a control message (its Associate)
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Garbage_a_2_GiB_length_prefix_and_2000_half_open_connections_leave_the_node_serving_voice(bool tls)
    {
        var certificate = tls ? ClusterCertificate.Make() : null;
        await using var node = NodeProcess.Start(null, certificate?.Flags ?? []);
        var sockets = new List<TcpClient>();
        try
        {
            await node.WaitReadyAsync();
            await ClusterTransportSecurityTests.AssertVoiceAsync(node, node);
            var before = node.RssBytes;

            // Garbage: random bytes on 20 connections.
            var random = new Random(19);
            for (int i = 0; i < 20; i++)
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync(IPAddress.Loopback, node.AkkaPort);
                var junk = new byte[64 * 1024];
                random.NextBytes(junk);
                try
                {
                    await tcp.GetStream().WriteAsync(junk);
                }
                catch (IOException)
                {
                    // The node may cut the connection mid-write: that is the point.
                }
            }

            // A length prefix of 2 GiB (and of int.MaxValue), then bytes the node must not buffer.
            foreach (var prefix in new[] { unchecked((int)0x80000000), int.MaxValue })
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync(IPAddress.Loopback, node.AkkaPort);
                var stream = tcp.GetStream();
                try
                {
                    await stream.WriteAsync(BitConverter.GetBytes(prefix));
                    for (int i = 0; i < 16; i++) await stream.WriteAsync(new byte[64 * 1024]);
                }
                catch (IOException)
                {
                }
                Assert.True(await AkkaWire.ClosedByPeerAsync(stream, TimeSpan.FromSeconds(10)), "the node kept a 2 GiB frame's connection open");
            }

            // Half-open: connections that never finish a handshake, held open while voice goes on.
            for (int i = 0; i < HalfOpen; i++)
            {
                var tcp = new TcpClient();
                sockets.Add(tcp);
                await tcp.ConnectAsync(IPAddress.Loopback, node.AkkaPort);
                if (i % 2 == 0) await tcp.GetStream().WriteAsync(new byte[] { 0x16, 0x03, 0x01 }); // the start of a TLS record, or of a length
            }

            await ClusterTransportSecurityTests.AssertVoiceAsync(node, node);
            var after = node.RssBytes;
            output.WriteLine($"tls {tls}: RSS {before / 1048576.0:F1} MB before, {after / 1048576.0:F1} MB with {HalfOpen} half-open connections held");
            Assert.False(node.HasExited);
            Assert.True(after - before < MaxGrowth, $"RSS grew by {(after - before) / 1048576.0:F1} MB");
            Assert.Single(await TlsCluster.MembersAsync(node));
        }
        finally
        {
            foreach (var tcp in sockets) tcp.Dispose();
            if (certificate is not null) Directory.Delete(certificate.Folder, true);
        }
    }
}
