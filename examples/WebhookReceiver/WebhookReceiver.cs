using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace AkkaVoice.Examples.WebhookReceiver;

/// <summary>One member of a room as the receiver holds it.</summary>
public sealed record Member(uint Id, string User, string Role);

/// <summary>
/// An application's side of AkkaVoice webhooks (PROTOCOL section 10): checks each request's signature, drops repeats
/// by event id, and keeps each room's member set by applying the events in the order they arrive. A room's events
/// come in order, so: <c>member.joined</c> adds, <c>member.left</c> removes, <c>room.finished</c> empties the room,
/// and <c>room.rehomed</c> (its home crashed; events may have been lost with it) replaces the set with the room's
/// own list. Thread-safe; keep one per process.
/// </summary>
public sealed class WebhookReceiver(string secret, TimeSpan? maxAge = null)
{
    private readonly byte[] key = Encoding.UTF8.GetBytes(secret);
    private readonly TimeSpan maxAge = maxAge ?? TimeSpan.FromMinutes(5);
    private readonly object gate = new();
    private readonly Dictionary<string, Dictionary<uint, Member>> rooms = new(StringComparer.Ordinal);
    private readonly HashSet<string> seen = [];
    private readonly Dictionary<string, List<string>> events = new(StringComparer.Ordinal);

    /// <summary>Requests whose <c>id</c> had been applied already (a retry whose first delivery did arrive).</summary>
    public int Duplicates { get; private set; }

    /// <summary>Events that do not fit the member set held (a join of a member already in, a leave of one not in): out of order, or lost before.</summary>
    public List<string> Inconsistencies { get; } = [];

    /// <summary>
    /// Checks <c>AkkaVoice-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256(secret, "&lt;t&gt;.&lt;body&gt;")&gt;</c>:
    /// the MAC over the exact bytes received, and a time no older than five minutes.
    /// </summary>
    public bool Verify(string? header, ReadOnlySpan<byte> body, DateTimeOffset now)
    {
        if (header is null) return false;
        string? t = null, v1 = null;
        foreach (var part in header.Split(','))
        {
            var kv = part.Trim().Split('=', 2);
            if (kv.Length != 2) continue;
            if (kv[0] == "t") t = kv[1];
            else if (kv[0] == "v1") v1 = kv[1];
        }
        if (t is null || v1 is null || !long.TryParse(t, out var seconds)) return false;
        if (Math.Abs(now.ToUnixTimeSeconds() - seconds) > maxAge.TotalSeconds) return false;
        var signed = new byte[t.Length + 1 + body.Length];
        Encoding.ASCII.GetBytes(t, signed);
        signed[t.Length] = (byte)'.';
        body.CopyTo(signed.AsSpan(t.Length + 1));
        byte[] given;
        try
        {
            given = Convert.FromHexString(v1);
        }
        catch (FormatException)
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(key, signed), given);
    }

    /// <summary>Applies one event (a verified body); false for a repeat of an event already applied.</summary>
    public bool Apply(JsonElement e)
    {
        var id = e.GetProperty("id").GetString()!;
        var room = e.GetProperty("room").GetString()!;
        var name = e.GetProperty("event").GetString()!;
        lock (gate)
        {
            if (!seen.Add(id))
            {
                Duplicates++;
                return false;
            }
            if (!events.TryGetValue(room, out var log)) events[room] = log = [];
            log.Add(name + (e.TryGetProperty("member", out var m) ? " " + m.GetUInt32() : ""));
            if (!rooms.TryGetValue(room, out var members)) rooms[room] = members = [];
            switch (name)
            {
                case "member.joined":
                {
                    var member = new Member(e.GetProperty("member").GetUInt32(), e.GetProperty("user").GetString()!, e.GetProperty("role").GetString()!);
                    if (!members.TryAdd(member.Id, member)) Inconsistencies.Add($"{room}: {id} joins member {member.Id}, already in");
                    break;
                }
                case "member.left":
                {
                    var member = e.GetProperty("member").GetUInt32();
                    if (!members.Remove(member)) Inconsistencies.Add($"{room}: {id} removes member {member}, not in");
                    break;
                }
                case "room.rehomed":
                    members.Clear();
                    foreach (var r in e.GetProperty("members").EnumerateArray())
                    {
                        var member = new Member(r.GetProperty("member").GetUInt32(), r.GetProperty("user").GetString()!, r.GetProperty("role").GetString()!);
                        members[member.Id] = member;
                    }
                    break;
                case "room.finished":
                    if (members.Count > 0) Inconsistencies.Add($"{room}: {id} finishes the room with {members.Count} members in");
                    rooms.Remove(room);
                    break;
            }
            return true;
        }
    }

    /// <summary>The members held for <paramref name="room"/>, by member id.</summary>
    public IReadOnlyDictionary<uint, Member> Members(string room)
    {
        lock (gate) return rooms.TryGetValue(room, out var members) ? new Dictionary<uint, Member>(members) : [];
    }

    /// <summary>The rooms with at least one member held.</summary>
    public IReadOnlyList<string> Rooms()
    {
        lock (gate) return rooms.Where(r => r.Value.Count > 0).Select(r => r.Key).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The events applied for <paramref name="room"/>, in order (<c>"member.joined 7"</c>, <c>"room.started"</c>, ...).</summary>
    public IReadOnlyList<string> Events(string room)
    {
        lock (gate) return events.TryGetValue(room, out var log) ? [.. log] : [];
    }

    /// <summary>Events applied, repeats not counted.</summary>
    public int Applied
    {
        get { lock (gate) return seen.Count; }
    }

    /// <summary>
    /// The endpoint: 401 for a bad or stale signature, 400 for a body that is not an event, 204 otherwise (a repeat
    /// too: it was delivered before). At most 1 MiB of body is read.
    /// </summary>
    public async Task<IResult> HandleAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted);
        if (buffer.Length > 1 << 20) return Results.StatusCode(413);
        var body = buffer.ToArray();
        if (!Verify(request.Headers["AkkaVoice-Signature"], body, DateTimeOffset.UtcNow)) return Results.Unauthorized();
        try
        {
            using var document = JsonDocument.Parse(body);
            Apply(document.RootElement);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return Results.BadRequest();
        }
        return Results.NoContent();
    }
}
