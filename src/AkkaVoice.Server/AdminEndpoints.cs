using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using AkkaVoice.Cluster.Rooms;
using AkkaVoice.Protocol;

namespace AkkaVoice.Server;

/// <summary>The operations endpoints of PROTOCOL.md section 5: health, readiness and the admin JSON.</summary>
public static class AdminEndpoints
{
    private static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(5);

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
        app.MapGet("/readyz", (AkkaService akka) => akka.Ready
            ? Results.Text("ready\n")
            : Results.Text(akka.Stopping ? "shutting down\n" : "not ready\n", statusCode: 503));

        var admin = app.MapGroup("/admin").AddEndpointFilter(async (ctx, next) =>
            ctx.HttpContext.RequestServices.GetRequiredService<Security>().AdminAllowed(ctx.HttpContext.Request)
                ? await next(ctx)
                : Results.Problem("this endpoint needs Authorization: Bearer <admin token>", statusCode: 401));

        admin.MapGet("/cluster", (AkkaService akka) =>
        {
            var cluster = Akka.Cluster.Cluster.Get(akka.Node.System);
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

        admin.MapGet("/shards", async (AkkaService akka) =>
        {
            var stats = await akka.Node.Rooms.Ask<ClusterShardingStats>(new GetClusterShardingStats(QueryTimeout), QueryTimeout + TimeSpan.FromSeconds(1));
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

        admin.MapGet("/rooms/{room}", async (string room, AkkaService akka) =>
        {
            if (!Ids.IsValid(room)) return Results.Problem($"room must be 1-{Ids.MaxLength} characters of A-Z a-z 0-9 _ . - :", statusCode: 400);
            var info = await akka.Node.Rooms.Ask<RoomInfo>(new GetRoomInfo(room), QueryTimeout);
            if (info.Members.Length == 0) return Results.Problem($"room {room} has no members", statusCode: 404);
            return Results.Json(new
            {
                room = info.Room,
                shard = akka.Node.Directory.ShardOf(room),
                home = info.Home,
                members = info.Members.Select(m => new { member = m.Member, user = m.User, node = m.Node }),
                nodes = info.Members.Select(m => m.Node).Distinct().Order(StringComparer.Ordinal),
            });
        });
    }
}
