using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using AkkaVoice.Cluster.Rooms;
using Directory = AkkaVoice.Cluster.Directory;
using AkkaVoice.Protocol;

namespace AkkaVoice.Server;

/// <summary>The operations endpoints of PROTOCOL.md section 5: health, readiness and the admin JSON.</summary>
public static class AdminEndpoints
{
    private static string ReadDashboard()
    {
        using var stream = typeof(AdminEndpoints).Assembly.GetManifestResourceStream("dashboard.html")
            ?? throw new InvalidOperationException("dashboard.html is not embedded");
        return new StreamReader(stream).ReadToEnd();
    }

    public static void MapAdmin(this WebApplication app)
    {
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        // The dashboard is static; it reads the admin API with the token given as ?token= when one is set.
        var dashboard = ReadDashboard();
        app.MapGet("/dashboard", () => Results.Content(dashboard, "text/html; charset=utf-8"));
        app.MapGet("/readyz", (NodeLifecycle node) => node.Ready
            ? Results.Text("ready\n")
            : Results.Text(node.Stopping ? "shutting down\n" : "not ready\n", statusCode: 503));

        var admin = app.MapGroup("/admin").AddEndpointFilter(async (ctx, next) =>
            ctx.HttpContext.RequestServices.GetRequiredService<Security>().AdminAllowed(ctx.HttpContext.Request)
                ? await next(ctx)
                : Results.Problem("this endpoint needs Authorization: Bearer <admin token>", statusCode: 401));

        admin.MapGet("/cluster", (ActorSystem system) =>
        {
            var cluster = Akka.Cluster.Cluster.Get(system);
            var state = cluster.State;
            return Results.Json(new
            {
                self = cluster.SelfAddress.ToString(),
                leader = state.Leader?.ToString(),
                members = state.Members.Select(m => new
                {
                    address = m.Address.ToString(),
                    status = m.Status.ToString(),
                    roles = m.Roles.ToArray(),
                    reachable = !state.Unreachable.Contains(m),
                }),
            });
        });

        admin.MapGet("/shards", async (IRequiredActor<RoomActor> rooms, ServerSettings settings) =>
        {
            var stats = await ShardingStatsAsync(rooms, settings);
            var regions = stats.Regions
                .OrderBy(r => r.Key.ToString(), StringComparer.Ordinal)
                .Select(r => new
                {
                    address = r.Key.ToString(),
                    shards = r.Value.Stats.OrderBy(s => int.TryParse(s.Key, out var n) ? n : int.MaxValue)
                        .Select(s => new { id = s.Key, rooms = s.Value }),
                })
                .ToArray();
            return Results.Json(new { rooms = stats.Regions.Values.Sum(r => r.Stats.Values.Sum()), regions });
        });

        // Drain: the named node (this one when none is named) leaves gracefully, handing its rooms off.
        admin.MapPost("/leave", (string? address, ActorSystem system, IHostApplicationLifetime lifetime) =>
        {
            var cluster = Akka.Cluster.Cluster.Get(system);
            if (string.IsNullOrEmpty(address) || address == cluster.SelfAddress.ToString())
            {
                // The same path as SIGTERM: coordinated shutdown closes the sockets with 1001, leaves the cluster, and the process exits 0.
                lifetime.StopApplication();
                return Results.Accepted(value: new { leaving = cluster.SelfAddress.ToString() });
            }
            Address target;
            try
            {
                target = Address.Parse(address);
            }
            catch (Exception e) when (e is UriFormatException or ArgumentException)
            {
                return Results.Problem($"'{address}' is not an Akka address like akka.tcp://akkavoice@host:port", statusCode: 400);
            }
            if (!cluster.State.Members.Any(m => m.Address.Equals(target)))
                return Results.Problem($"{address} is not a member of this cluster", statusCode: 404);
            cluster.Leave(target);
            return Results.Accepted(value: new { leaving = target.ToString() });
        });

        // Rebalancing is continuous: the coordinator moves every shard that is not on its rendezvous home,
        // a few at a time, every rebalance interval. This shows what is still to move.
        admin.MapGet("/rebalance", async (ActorSystem system, IRequiredActor<RoomActor> rooms, ServerSettings settings) =>
        {
            var cluster = Akka.Cluster.Cluster.Get(system);
            var up = cluster.State.Members.Where(m => m.Status == MemberStatus.Up).ToArray();
            var stats = await ShardingStatsAsync(rooms, settings);
            var pending = stats.Regions
                .SelectMany(r => r.Value.Stats.Keys.Select(shard => (shard, from: r.Key, to: Directory.RoomDirectory.HomeOfShardAmong(shard, up))))
                .Where(m => m.to is not null && !m.to.Equals(m.from))
                .OrderBy(m => int.TryParse(m.shard, out var n) ? n : int.MaxValue)
                .Select(m => new { shard = m.shard, from = m.from.ToString(), to = m.to!.ToString() })
                .ToArray();
            return Results.Json(new { pending, shards = stats.Regions.Values.Sum(r => r.Stats.Count) });
        });

        admin.MapGet("/rooms/{room}", async (string room, IRequiredActor<RoomActor> rooms, Directory.RoomDirectory directory, ServerSettings settings) =>
        {
            if (!Ids.IsValid(room)) return Results.Problem($"room must be 1-{Ids.MaxLength} characters of A-Z a-z 0-9 _ . - :", statusCode: 400);
            var region = await rooms.GetAsync();
            var info = await region.Ask<RoomInfo>(new GetRoomInfo(room), settings.AdminQueryTimeout);
            if (info.Members.Length == 0) return Results.Problem($"room {room} has no members", statusCode: 404);
            return Results.Json(new
            {
                room = info.Room,
                shard = directory.ShardOf(room),
                home = info.Home,
                members = info.Members.Select(m => new { member = m.Member, user = m.User, node = m.Node }),
                nodes = info.Members.Select(m => m.Node).Distinct().Order(StringComparer.Ordinal),
            });
        });
    }

    /// <summary>The room region's shards per node, as the coordinator reports them.</summary>
    private static async Task<ClusterShardingStats> ShardingStatsAsync(IRequiredActor<RoomActor> rooms, ServerSettings settings)
    {
        var region = await rooms.GetAsync();
        var timeout = settings.AdminQueryTimeout;
        return await region.Ask<ClusterShardingStats>(new GetClusterShardingStats(timeout), timeout + TimeSpan.FromSeconds(1));
    }
}
