using System.Net;
using System.Net.Sockets;
using AkkaVoice.Cluster.Directory;
using Xunit;

namespace AkkaVoice.Tests.Directory;

/// <summary>The port probe's three answers and the dead-node detector's majority.</summary>
public sealed class DeadNodeRuleTests
{
    [Fact]
    public async Task A_port_nobody_listens_on_refuses()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        Assert.Equal(PortAnswer.Refused, await RemotingPortProbe.ProbeAsync("127.0.0.1", port, TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task A_listening_port_accepts_even_when_its_process_never_takes_the_connection()
    {
        // A stopped or overloaded process: the kernel completes the handshake from the listen backlog.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(backlog: 8);
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        Assert.Equal(PortAnswer.Accepted, await RemotingPortProbe.ProbeAsync("127.0.0.1", port, TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task A_port_whose_handshakes_are_dropped_is_silence_not_a_refusal()
    {
        // A listener whose accept queue is full drops further SYNs, as a firewall's drop rule does: no answer at all.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(backlog: 0);
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var held = new List<Socket>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                held.Add(socket);
                using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
                try { await socket.ConnectAsync(IPAddress.Loopback, port, cts.Token); } catch (OperationCanceledException) { }
            }

            Assert.Equal(PortAnswer.Silent, await RemotingPortProbe.ProbeAsync("127.0.0.1", port, TimeSpan.FromMilliseconds(300)));
        }
        finally
        {
            foreach (var socket in held) socket.Dispose();
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 2)]
    [InlineData(4, 3)]
    [InlineData(5, 3)]
    public void A_majority_of_the_members_that_count_must_agree(int voters, int quorum) =>
        Assert.Equal(quorum, DeadNodeRule.Quorum(voters));
}
