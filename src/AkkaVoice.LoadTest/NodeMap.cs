using System.Net.Http.Headers;
using System.Text.Json;
using Akka.Actor;
using AkkaVoice.Cluster.Directory;

namespace AkkaVoice.LoadTest;

/// <summary>
/// Decides which node each member connects to. For room-affine placement it computes a room's home the
/// way the cluster does (<see cref="RoomDirectory"/> over the Up members, by their stable names), so no room has to exist first,
/// and maps the home's akka address back to one of the <c>--nodes</c> URLs: by position in
/// <c>--akka-nodes</c> when given, else by asking each node for its own address.
/// </summary>
public sealed class NodeMap : IDisposable
{
    private readonly LoadOptions options;
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly RoomDirectory directory;
    private Dictionary<string, int>? indexByAkka;
    private List<(Address Address, string Name)>? upMembers;

    public NodeMap(LoadOptions options)
    {
        this.options = options;
        directory = new RoomDirectory(options.ShardCount);
        if (options.AdminToken is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.AdminToken);
    }

    public int Count => options.Nodes.Count;

    /// <summary>Learns the cluster's members and each node's akka address (needed only for affine placement).</summary>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        if (options.Placement is not (Placement.Affine or Placement.Away)) return;
        indexByAkka = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < options.Nodes.Count; i++)
        {
            var address = options.AkkaNodes?[i] ?? (await GetJsonAsync(options.Nodes[i], "/admin/cluster", cancellationToken)).GetProperty("self").GetString()!;
            indexByAkka[Key(Address.Parse(address))] = i;
        }
        var cluster = await GetJsonAsync(options.Nodes[0], "/admin/cluster", cancellationToken);
        upMembers = [.. cluster.GetProperty("members").EnumerateArray()
            .Where(m => m.GetProperty("status").GetString() == "Up")
            .Select(m =>
            {
                var address = Address.Parse(m.GetProperty("address").GetString()!);
                var roles = m.TryGetProperty("roles", out var r) ? r.EnumerateArray().Select(x => x.GetString() ?? "").ToArray() : [];
                return (address, RoomDirectory.NameOf(address, roles));
            })];
        foreach (var (m, _) in upMembers)
        {
            if (!indexByAkka.ContainsKey(Key(m)))
                throw new InvalidOperationException($"cluster member {m} is not one of --nodes; every Up member must be listed (rooms could be homed there)");
        }
    }

    /// <summary>The index in <c>--nodes</c> that member <paramref name="member"/> of room number <paramref name="roomIndex"/> connects to.</summary>
    public int NodeFor(int roomIndex, string room, int member) => options.Placement switch
    {
        Placement.Spread => (roomIndex + member) % Count,
        Placement.Pair => (roomIndex + (member % 2)) % Count,
        Placement.Affine => HomeIndex(room),
        Placement.Away => (HomeIndex(room) + 1) % Count,
        _ => throw new InvalidOperationException(),
    };

    /// <summary>The node index hosting <paramref name="room"/> by the cluster's own rule.</summary>
    public int HomeIndex(string room)
    {
        if (upMembers is not { Count: > 0 }) throw new InvalidOperationException("no Up members");
        var home = RoomDirectory.HomeOfShard(directory.ShardOf(room), upMembers, m => m.Name, m => m.Address);
        return indexByAkka![Key(home.Address)];
    }

    /// <summary>The home node the cluster reports for a room that has members (GET /admin/rooms/{room}), as an index in <c>--nodes</c>.</summary>
    public async Task<int?> ReportedHomeIndexAsync(string room, CancellationToken cancellationToken)
    {
        var info = await GetJsonAsync(options.Nodes[0], "/admin/rooms/" + Uri.EscapeDataString(room), cancellationToken);
        var home = info.GetProperty("home").GetString();
        return home is not null && indexByAkka!.TryGetValue(Key(Address.Parse(home)), out var i) ? i : null;
    }

    private async Task<JsonElement> GetJsonAsync(Uri node, string path, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(new Uri(node, path), cancellationToken);
        response.EnsureSuccessStatusCode();
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        return JsonDocument.Parse(bytes).RootElement.Clone();
    }

    private static string Key(Address a) => $"{a.Host}:{a.Port}";

    public void Dispose() => http.Dispose();
}
