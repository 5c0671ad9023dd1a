using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace AkkaVoice.LoadTest;

/// <summary>
/// <c>listing</c>: fills a running cluster with rooms (connections joining 8 rooms each, spread over the nodes), then
/// times <c>GET /api/v1/rooms</c>: the first page asked again and again from each node in turn (p50, p99, max), and a
/// full walk with limit 1000 (pages, time, and that every room came once, in order). Prints the figures.
/// <code>dotnet run -c Release --project src/AkkaVoice.LoadTest -- listing --nodes http://127.0.0.1:5000,http://127.0.0.1:5001,http://127.0.0.1:5002 --rooms 100000</code>
/// </summary>
public static class ListingBench
{
    private const int RoomsPerConnection = 8;

    public static async Task<int> RunAsync(string[] args)
    {
        var nodes = Arg(args, "--nodes", "http://127.0.0.1:5000").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(u => new Uri(u.TrimEnd('/') + "/")).ToArray();
        int rooms = int.Parse(Arg(args, "--rooms", "100000"));
        int firstPages = int.Parse(Arg(args, "--first-pages", "300"));
        var token = Arg(args, "--api-token", "");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        if (token.Length > 0) http.DefaultRequestHeaders.Authorization = new("Bearer", token);

        var clock = Stopwatch.StartNew();
        using var drain = new CancellationTokenSource();
        var readers = new List<Task>();
        var sockets = await FillAsync(nodes, rooms, s =>
        {
            // Read from the start: a connection that does not answer the server's pings is closed after 45 s.
            lock (readers) readers.Add(DrainAsync(s, drain.Token));
        });
        Console.WriteLine($"rooms: {rooms} on {nodes.Length} nodes through {sockets.Count} connections, joined in {clock.Elapsed.TotalSeconds:F1} s");

        // Warm-up: a few pages from each node (JIT, connection pools).
        for (int i = 0; i < 10; i++) await PageAsync(http, nodes[i % nodes.Length], "", 100);

        var first = new List<double>();
        for (int i = 0; i < firstPages; i++)
        {
            var t = Stopwatch.GetTimestamp();
            var page = await PageAsync(http, nodes[i % nodes.Length], "", 100);
            first.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            if (page.Rooms.Count != 100) throw new InvalidOperationException($"the first page held {page.Rooms.Count} rooms");
        }
        first.Sort();
        Console.WriteLine($"first page (limit 100), {firstPages} asks over {nodes.Length} nodes: p50 {Q(first, 0.5):F1} ms, p99 {Q(first, 0.99):F1} ms, max {first[^1]:F1} ms");

        foreach (var limit in new[] { 1000, 100 })
        {
            var seen = 0;
            string? previous = null, after = "";
            int pages = 0;
            var walk = Stopwatch.StartNew();
            var pageTimes = new List<double>();
            while (after is not null)
            {
                var t = Stopwatch.GetTimestamp();
                var page = await PageAsync(http, nodes[pages % nodes.Length], after, limit);
                pageTimes.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                pages++;
                foreach (var room in page.Rooms)
                {
                    if (previous is not null && string.CompareOrdinal(room, previous) <= 0) throw new InvalidOperationException($"{room} came after {previous}");
                    previous = room;
                    if (room.StartsWith("lst-", StringComparison.Ordinal)) seen++;
                }
                after = page.Next;
            }
            pageTimes.Sort();
            Console.WriteLine($"full walk (limit {limit}): {pages} pages, {seen} of {rooms} rooms, each once and in order, in {walk.Elapsed.TotalSeconds:F2} s " +
                              $"(page p50 {Q(pageTimes, 0.5):F1} ms, p99 {Q(pageTimes, 0.99):F1} ms)");
            if (seen != rooms) throw new InvalidOperationException($"the walk saw {seen} rooms, not {rooms}");
        }

        drain.Cancel();
        foreach (var s in sockets) s.Abort();
        await Task.WhenAll(readers);
        return 0;
    }

    private static double Q(List<double> sorted, double q) => sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static string Arg(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    private sealed record Page(List<string> Rooms, string? Next);

    private static async Task<Page> PageAsync(HttpClient http, Uri node, string after, int limit)
    {
        using var response = await http.GetAsync(new Uri(node, $"api/v1/rooms?limit={limit}&after={Uri.EscapeDataString(after)}"));
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{(int)response.StatusCode} {body}");
        var json = JsonDocument.Parse(body).RootElement;
        var rooms = json.GetProperty("rooms").EnumerateArray().Select(r => r.GetProperty("room").GetString()!).ToList();
        return new Page(rooms, json.TryGetProperty("next", out var next) ? next.GetString() : null);
    }

    /// <summary>Connections spread over the nodes, each joined to 8 rooms of its own (lst-000000 ...).</summary>
    private static async Task<List<ClientWebSocket>> FillAsync(Uri[] nodes, int rooms, Action<ClientWebSocket> joined)
    {
        int connections = (rooms + RoomsPerConnection - 1) / RoomsPerConnection;
        var sockets = new ClientWebSocket[connections];
        using var gate = new SemaphoreSlim(64);
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async c =>
        {
            await gate.WaitAsync();
            try
            {
                var node = nodes[c % nodes.Length];
                var socket = new ClientWebSocket();
                await socket.ConnectAsync(new Uri($"ws://{node.Host}:{node.Port}/ws?user=lst-u{c}"), CancellationToken.None);
                var buffer = new byte[64 * 1024];
                await socket.ReceiveAsync(buffer, CancellationToken.None); // welcome
                int mine = Math.Min(RoomsPerConnection, rooms - c * RoomsPerConnection);
                for (int r = 0; r < mine; r++)
                {
                    var join = $"{{\"type\":\"join\",\"room\":\"lst-{c * RoomsPerConnection + r:D6}\"}}";
                    await socket.SendAsync(Encoding.UTF8.GetBytes(join), WebSocketMessageType.Text, true, CancellationToken.None);
                }
                for (int joined = 0; joined < mine;)
                {
                    var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
                    var text = Encoding.UTF8.GetString(buffer, 0, result.Count);
                    if (text.Contains("\"type\":\"joined\"", StringComparison.Ordinal)) joined++;
                    else if (text.Contains("\"type\":\"error\"", StringComparison.Ordinal)) throw new InvalidOperationException(text);
                }
                sockets[c] = socket;
                joined(socket);
            }
            finally
            {
                gate.Release();
            }
        }));
        return [.. sockets];
    }

    /// <summary>Reads and drops what a connection gets (keep-alive pings are answered while a read is pending).</summary>
    private static async Task DrainAsync(ClientWebSocket socket, CancellationToken stop)
    {
        var buffer = new byte[4096];
        try
        {
            while (!stop.IsCancellationRequested && socket.State == WebSocketState.Open) await socket.ReceiveAsync(buffer, stop);
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
        }
    }
}
