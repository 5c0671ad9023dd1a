using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AkkaVoice.IntegrationTests.Support;

/// <summary>An HTTP response read off the wire: status, headers (lower-case names) and body.</summary>
public sealed record RawResponse(int Status, IReadOnlyDictionary<string, string> Headers, byte[] Body);

/// <summary>
/// Sends a WebSocket upgrade request by hand and reads exactly what comes back, so a test can see the
/// status a refused upgrade gets and that nothing else is sent with it.
/// </summary>
public static class RawHttp
{
    public static async Task<RawResponse> UpgradeAsync(int port, string pathAndQuery, params (string Name, string Value)[] headers)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        var stream = tcp.GetStream();
        var request = new StringBuilder()
            .Append($"GET {pathAndQuery} HTTP/1.1\r\n")
            .Append($"Host: 127.0.0.1:{port}\r\n")
            .Append("Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n")
            .Append($"Sec-WebSocket-Key: {Convert.ToBase64String(Guid.NewGuid().ToByteArray())}\r\n");
        foreach (var (name, value) in headers) request.Append($"{name}: {value}\r\n");
        request.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request.ToString()));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var received = new List<byte>();
        var buffer = new byte[4096];
        int headerEnd;
        while ((headerEnd = IndexOf(received, "\r\n\r\n"u8)) < 0)
        {
            int n = await stream.ReadAsync(buffer, timeout.Token);
            if (n == 0) throw new IOException("the server closed before sending a whole response head");
            received.AddRange(buffer.AsSpan(0, n));
        }
        var head = Encoding.ASCII.GetString(received.GetRange(0, headerEnd).ToArray()).Split("\r\n");
        var status = int.Parse(head[0].Split(' ')[1]);
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in head.Skip(1))
        {
            var colon = line.IndexOf(':');
            map[line[..colon].Trim().ToLowerInvariant()] = line[(colon + 1)..].Trim();
        }
        var body = received.Skip(headerEnd + 4).ToList();
        if (status == 101) return new RawResponse(status, map, []);

        if (map.TryGetValue("content-length", out var length))
        {
            while (body.Count < int.Parse(length))
            {
                int n = await stream.ReadAsync(buffer, timeout.Token);
                if (n == 0) break;
                body.AddRange(buffer.AsSpan(0, n));
            }
        }
        else if (map.TryGetValue("transfer-encoding", out var te) && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            while (IndexOf(body, "0\r\n\r\n"u8) < 0)
            {
                int n = await stream.ReadAsync(buffer, timeout.Token);
                if (n == 0) break;
                body.AddRange(buffer.AsSpan(0, n));
            }
        }
        return new RawResponse(status, map, body.ToArray());
    }

    private static int IndexOf(List<byte> haystack, ReadOnlySpan<byte> needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Count; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return i;
        }
        return -1;
    }
}
