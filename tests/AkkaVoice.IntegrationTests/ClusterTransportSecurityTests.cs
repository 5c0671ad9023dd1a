using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using AkkaVoice.IntegrationTests.Support;
using Xunit;
using Xunit.Abstractions;

namespace AkkaVoice.IntegrationTests;

/// <summary>Two node processes on loopback with mutual TLS on remoting, both presenting one cluster certificate.</summary>
public sealed class TlsCluster : IAsyncLifetime
{
    public ClusterCertificate Certificate { get; } = ClusterCertificate.Make();
    public NodeProcess[] Nodes { get; private set; } = [];

    public async Task InitializeAsync()
    {
        var first = NodeProcess.Start(null, Certificate.Flags);
        NodeProcess? second = null;
        try
        {
            await first.WaitReadyAsync();
            // The second takes its certificate from the environment, the way the container image does.
            second = NodeProcess.Start(
                new Dictionary<string, string> { ["AKKAVOICE_TLS_CERT"] = Certificate.Pkcs12, ["AKKAVOICE_TLS_CERT_PASSWORD_FILE"] = Certificate.PasswordFile },
                first);
            await second.WaitReadyAsync();
            Nodes = [first, second];
            await Wait.UntilAsync(async () => (await MembersAsync(first)).Count(m => m.Status == "Up") == 2, TimeSpan.FromSeconds(30), "both TLS nodes Up");
        }
        catch (Exception e)
        {
            var logs = first.Log + "\n---\n" + second?.Log;
            await first.DisposeAsync();
            if (second is not null) await second.DisposeAsync();
            throw new InvalidOperationException($"the TLS cluster did not start: {e.Message}\n{logs}", e);
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var node in Nodes) await node.DisposeAsync();
        Directory.Delete(Certificate.Folder, true);
    }

    public static async Task<IReadOnlyList<(string Address, string Status)>> MembersAsync(NodeProcess node)
    {
        using var doc = JsonDocument.Parse(await node.Http.GetStringAsync("admin/cluster"));
        return [.. doc.RootElement.GetProperty("members").EnumerateArray().Select(m => (m.GetProperty("address").GetString()!, m.GetProperty("status").GetString()!))];
    }
}

/// <summary>
/// PROTOCOL.md section 11: with <c>--tls-cert</c> a node accepts a peer only when it presents the cluster's
/// certificate, checked on both ends; a node with another certificate, with none, or a plain TCP client
/// speaking Akka's wire protocol joins nothing and delivers nothing, and the refusing node says so in its log.
/// </summary>
[Collection("processes")]
public sealed class ClusterTransportSecurityTests(TlsCluster cluster, ITestOutputHelper output) : IClassFixture<TlsCluster>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task The_two_nodes_of_the_cluster_speak_over_TLS_and_carry_voice_between_them()
    {
        var (a, b) = (cluster.Nodes[0], cluster.Nodes[1]);
        Assert.All(await TlsCluster.MembersAsync(a), m => Assert.StartsWith("akka.ssl.tcp://", m.Address));
        await AssertVoiceAsync(a, b);
    }

    [Fact]
    public async Task A_node_with_another_clusters_certificate_cannot_join_and_both_ends_refuse_it()
    {
        var other = ClusterCertificate.Make();
        try
        {
            await AssertCannotJoinAsync(other.Flags, "Refused remoting peer", "is not the cluster's");
        }
        finally
        {
            Directory.Delete(other.Folder, true);
        }
    }

    [Fact]
    public async Task A_node_without_a_certificate_cannot_join() =>
        await AssertCannotJoinAsync([], "not an SSL/TLS record", null);

    [Fact]
    public async Task A_plain_tcp_client_speaking_the_akka_wire_protocol_is_cut_off_before_it_can_associate()
    {
        var seed = cluster.Nodes[0];
        var before = await TlsCluster.MembersAsync(seed);
        var logged = seed.Log.Length;
        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(IPAddress.Loopback, seed.AkkaPort);
            var stream = tcp.GetStream();
            await stream.WriteAsync(AkkaWire.Associate("intruder", 1));
            await stream.WriteAsync(AkkaWire.Payload(Encoding.UTF8.GetBytes("a message for the cluster")));
            Assert.True(await AkkaWire.ClosedByPeerAsync(stream, Patience), "the TLS node kept the plain connection open");
        }
        await Wait.UntilAsync(() => seed.Log[logged..].Contains("not an SSL/TLS record"), Patience, "a log line of the refusal");
        Assert.Equal(before, await TlsCluster.MembersAsync(seed));
        await AssertVoiceAsync(cluster.Nodes[0], cluster.Nodes[1]);
    }

    private async Task AssertCannotJoinAsync(string[] flags, string refusal, string? alsoOnTheStranger)
    {
        var seed = cluster.Nodes[0];
        var before = await TlsCluster.MembersAsync(seed);
        var logged = seed.Log.Length;
        await using var stranger = NodeProcess.Start(seed, flags);
        await Wait.UntilAsync(() => seed.Log[logged..].Contains(refusal), Patience, $"'{refusal}' in the seed's log");
        if (alsoOnTheStranger is not null)
            await Wait.UntilAsync(() => stranger.Log.Contains(alsoOnTheStranger), Patience, $"'{alsoOnTheStranger}' in the stranger's log");
        output.WriteLine(string.Join("\n", seed.Log[logged..].Split('\n').Where(l => l.Contains("WRN")).Take(3)));
        // The stranger has tried (and been refused) at least once; its join attempts go on every few seconds.
        Assert.Equal(before, await TlsCluster.MembersAsync(seed));
        Assert.DoesNotContain(await TlsCluster.MembersAsync(cluster.Nodes[1]), m => m.Address.EndsWith(":" + stranger.AkkaPort));
        // The stranger's own view, when it serves HTTP at all (a refused outbound handshake may stop its actor system).
        string? view = null;
        try
        {
            view = await stranger.Http.GetStringAsync("admin/cluster");
        }
        catch (HttpRequestException)
        {
        }
        if (view is not null)
        {
            using var doc = JsonDocument.Parse(view);
            Assert.DoesNotContain(doc.RootElement.GetProperty("members").EnumerateArray(), m => m.GetProperty("address").GetString()!.EndsWith(":" + seed.AkkaPort));
        }
        await AssertVoiceAsync(cluster.Nodes[0], cluster.Nodes[1]);
    }

    /// <summary>A member on each node shares a room; a frame from one reaches the other.</summary>
    internal static async Task AssertVoiceAsync(NodeProcess speakerNode, NodeProcess listenerNode)
    {
        var room = Names.Room("tls");
        await using var speaker = await speakerNode.ConnectAsync(Names.User("speaker"));
        await using var listener = await listenerNode.ConnectAsync(Names.User("listener"));
        var slot = (byte)(await speaker.JoinAsync(room)).Num("slot");
        await listener.JoinAsync(room);
        await speaker.ExpectAsync("member-joined");
        // The listener's node learns the route a moment after the join; frames before that go nowhere.
        await Wait.UntilAsync(async () =>
        {
            await speaker.SendFrameAsync(slot, ClientExtensions.Numbered(7));
            try
            {
                return ClientExtensions.NumberOf(await listener.NextFrameAsync(TimeSpan.FromMilliseconds(300))) == 7;
            }
            catch (TimeoutException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(20), "a voice frame from one node to the other");
    }
}

/// <summary>Frames of Akka.Remote's TCP wire protocol (DotNetty: a 4-byte little-endian length, then a protobuf PDU).</summary>
public static class AkkaWire
{
    /// <summary>An Associate PDU (AkkaProtocolMessage.instruction = ASSOCIATE with handshake info), framed.</summary>
    public static byte[] Associate(string host, int port)
    {
        var address = Concat(Text(1, "akkavoice"), Text(2, host), Varint(3, (ulong)port), Text(4, "akka.tcp"));
        var handshake = Concat(Bytes(1, address), [(2 << 3) | 1, .. BitConverter.GetBytes(0x0123456789abcdefUL)]);
        var control = Concat(Varint(1, 1), Bytes(2, handshake));
        return Frame(Bytes(2, control));
    }

    /// <summary>A payload PDU carrying <paramref name="payload"/>, framed.</summary>
    public static byte[] Payload(byte[] payload) => Frame(Bytes(1, payload));

    public static byte[] Frame(byte[] pdu)
    {
        var frame = new byte[4 + pdu.Length];
        BinaryPrimitives.WriteInt32LittleEndian(frame, pdu.Length);
        pdu.CopyTo(frame, 4);
        return frame;
    }

    /// <summary>True when the peer closes (or resets) the connection within <paramref name="timeout"/>.</summary>
    public static async Task<bool> ClosedByPeerAsync(NetworkStream stream, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[4096];
        try
        {
            while (await stream.ReadAsync(buffer, cts.Token) > 0)
            {
            }
            return true;
        }
        catch (IOException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    private static byte[] Text(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    private static byte[] Bytes(int field, byte[] value) => [.. Tag(field, 2), .. VarintBytes((ulong)value.Length), .. value];

    private static byte[] Varint(int field, ulong value) => [.. Tag(field, 0), .. VarintBytes(value)];

    private static byte[] Tag(int field, int wireType) => VarintBytes((ulong)((field << 3) | wireType));

    private static byte[] VarintBytes(ulong value)
    {
        var bytes = new List<byte>();
        do
        {
            var b = (byte)(value & 0x7f);
            value >>= 7;
            bytes.Add(value == 0 ? b : (byte)(b | 0x80));
        }
        while (value != 0);
        return [.. bytes];
    }
}
