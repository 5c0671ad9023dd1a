using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using AkkaVoice.Cluster;
using AkkaVoice.Cluster.Hub;
using AkkaVoice.Cluster.Rooms;

namespace AkkaVoice.Server.Api;

/// <summary>
/// <c>GET /api/v1/rooms</c>: one page of every room in the cluster that has members or a configuration, in room-id
/// order, without gathering every room in one place. Each node keeps its rooms with local members sorted
/// (<see cref="RoomIndex"/>); a page asks every node for at most <c>limit</c> ids after <c>after</c>, adds the
/// configured rooms in that range, merges, keeps the first <c>limit</c> and asks each of those rooms for its figures.
/// A page costs O(nodes × (log rooms + limit)) on the nodes plus <c>limit</c> room asks, whatever the number of rooms.
/// </summary>
public sealed class RoomListing(ActorSystem system, IRequiredActor<RoomActor> region, ServerSettings settings, VoiceSettings voice)
{
    private readonly RoomConfigReader configs = new(system, voice.ShardCount);

    public async Task<IResult> PageAsync(HttpRequest request)
    {
        var prefix = request.Query["prefix"].ToString();
        var after = request.Query["after"].ToString();
        if (prefix.Length > Protocol.Ids.MaxLength || after.Length > Protocol.Ids.MaxLength)
            throw ApiException.BadField($"prefix and after are at most {Protocol.Ids.MaxLength} characters");
        var limit = ApiRequest.Limit(request, 100, 1000);

        var candidates = await CandidatesAsync(prefix, after, limit);
        var rooms = await region.GetAsync();
        var states = await Task.WhenAll(candidates.Select(room => rooms.Ask<object>(new GetRoomState(room), settings.AdminQueryTimeout)));
        return Results.Json(new
        {
            rooms = states.OfType<RoomState>().Select(s => new { room = s.Room, kind = s.Kind, members = s.Members, audience = s.Audience, speakers = s.Speakers, home = s.Home }),
            // Set whenever the page is full: the next page may be empty.
            next = candidates.Count == limit ? candidates[^1] : null,
        }, ApiJson.Options);
    }

    /// <summary>The first <paramref name="limit"/> room ids after <paramref name="after"/> over every node's index.</summary>
    private async Task<List<string>> CandidatesAsync(string prefix, string after, int limit)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        var provider = ((ExtendedActorSystem)system).Provider;
        var ask = new ListLocalRooms(prefix, after, limit);
        // The configured rooms are replicated to every node: read here, shard by shard, in parallel.
        var configured = Task.WhenAll(configs.Shards.Select(shard => configs.ReadShardAsync(shard)));
        var pages = await Task.WhenAll(cluster.State.Members
            .Where(m => m.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Leaving)
            .Select(m =>
            {
                var address = m.Address.Equals(cluster.SelfAddress) ? provider.DefaultAddress : m.Address;
                var index = provider.ResolveActorRef(new RootActorPath(address) / "user" / RoomIndex.Name);
                return index.Ask<LocalRoomPage>(ask, settings.AdminQueryTimeout);
            }));
        var merged = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var page in pages) merged.UnionWith(page.Rooms);
        foreach (var shard in await configured)
        {
            foreach (var room in shard.Keys)
            {
                if (string.CompareOrdinal(room, after) <= 0 || !room.StartsWith(prefix, StringComparison.Ordinal)) continue;
                // Only what can still make the page: the set never holds more than limit + 1 ids past the first pass.
                if (merged.Count >= limit && string.CompareOrdinal(room, merged.Max) >= 0) continue;
                merged.Add(room);
                if (merged.Count > limit) merged.Remove(merged.Max!);
            }
        }
        return merged.Take(limit).ToList();
    }
}
