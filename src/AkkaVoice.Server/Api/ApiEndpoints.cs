using Akka.Actor;
using Akka.Hosting;
using AkkaVoice.Cluster.Rooms;
using AkkaVoice.Cluster.Users;

namespace AkkaVoice.Server.Api;

/// <summary>
/// The server API of PROTOCOL section 9 under <c>/api/v1</c>, on every node, for rooms homed anywhere: each call is
/// checked here (token, body, fields) and then asked of the room through the shard region, or of the user's
/// directory entry and nodes, exactly as from the room's home. docs/server-api.md describes it.
/// </summary>
public static class ApiEndpoints
{
    public static void MapApi(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<NodeOptions>();
        if (options.ApiToken is null)
            app.Logger.LogWarning("The server API (/api/v1) is open: no API token is set (--api-token or AKKAVOICE_API_TOKEN)");

        var api = app.MapGroup("/api/v1").AddEndpointFilter(async (ctx, next) =>
        {
            if (!ctx.HttpContext.RequestServices.GetRequiredService<Security>().ApiAllowed(ctx.HttpContext.Request))
                return new ApiException(401, "unauthorized", "this API needs Authorization: Bearer <API token>").ToResult();
            try
            {
                return await next(ctx);
            }
            catch (ApiException e)
            {
                return e.ToResult();
            }
            catch (AskTimeoutException)
            {
                return new ApiException(503, "unavailable", "the cluster did not answer in time; try again").ToResult();
            }
        });

        api.MapGet("/rooms", (HttpRequest request, RoomListing listing) => listing.PageAsync(request));

        api.MapGet("/rooms/{room}", async (string room, ApiRooms rooms) =>
            State(await rooms.AskAsync(new GetRoomState(ApiRequest.PathId(room, "room")))));

        api.MapPut("/rooms/{room}", async (string room, HttpRequest request, ApiRooms rooms) =>
        {
            var id = ApiRequest.PathId(room, "room");
            var body = await ApiRequest.ReadAsync(request);
            var configure = new ConfigureRoom(id, body.String("kind"), body.Int("seats"), body.String("seatMode"), body.Ids("hosts"), body.Int("maxMembers"));
            return State(await rooms.AskAsync(configure));
        });

        api.MapDelete("/rooms/{room}", async (string room, ApiRooms rooms) =>
            await rooms.AskAsync(new DeleteRoom(ApiRequest.PathId(room, "room"))) is RoomDeleted { Existed: true }
                ? Results.NoContent()
                : throw ApiException.NotFound($"room {room} has neither members nor a configuration"));

        api.MapGet("/rooms/{room}/members", async (string room, HttpRequest request, ApiRooms rooms) =>
        {
            var id = ApiRequest.PathId(room, "room");
            var afterText = request.Query["after"].ToString();
            uint after = 0;
            if (afterText.Length > 0 && !uint.TryParse(afterText, System.Globalization.NumberStyles.None, null, out after))
                throw ApiException.BadField("after must be a member id (a whole number)");
            var page = (MemberPage)await rooms.AskAsync(new ListMembers(id, after, ApiRequest.Limit(request, 100, 1000)));
            return Results.Json(new
            {
                members = page.Members.Select(m => new { member = m.Member, user = m.User, role = m.Role, seat = m.Seat, muted = m.Muted, node = m.Node }),
                next = page.Next,
            }, ApiJson.Options);
        });

        api.MapPost("/rooms/{room}/kick", async (string room, HttpRequest request, ApiRooms rooms) =>
        {
            var id = ApiRequest.PathId(room, "room");
            var body = await ApiRequest.ReadAsync(request);
            var user = body.Id("user", required: true)!;
            var ban = body.Int("ban");
            if (ban is < 1 or > 86_400) throw ApiException.OutOfRange("ban must be 1-86400 seconds");
            var reason = body.String("reason");
            if (reason is { Length: > 1024 }) throw ApiException.OutOfRange("reason is over 1024 characters");
            var kicked = (UsersAffected)await rooms.AskAsync(new KickUser(id, user, ban, reason, "system"));
            return Results.Json(new { kicked = kicked.Count });
        });

        api.MapPost("/rooms/{room}/mute", async (string room, HttpRequest request, ApiRooms rooms) =>
        {
            var id = ApiRequest.PathId(room, "room");
            var body = await ApiRequest.ReadAsync(request);
            var muted = (UsersAffected)await rooms.AskAsync(new MuteUser(id, body.Id("user", required: true)!, body.Bool("muted", required: true)!.Value, "system"));
            return Results.Json(new { muted = muted.Count });
        });

        api.MapPost("/rooms/{room}/seats", async (string room, HttpRequest request, ApiRooms rooms) =>
        {
            var id = ApiRequest.PathId(room, "room");
            var body = await ApiRequest.ReadAsync(request);
            var seat = body.Int("seat", required: true)!.Value;
            if (seat < 0) throw ApiException.OutOfRange("seat must be 0 or more");
            var user = body.Id("user");
            var clear = body.Present("user") && user is null;
            return State(await rooms.AskAsync(new SetSeat(id, seat, user, clear, body.Bool("locked"), "system")));
        });

        api.MapPost("/rooms/{room}/say", async (string room, HttpRequest request, ApiRooms rooms) =>
        {
            var id = ApiRequest.PathId(room, "room");
            var body = await ApiRequest.ReadAsync(request);
            var text = body.Text("text");
            var sayId = body.String("id");
            if (sayId is { Length: 0 or > 64 }) throw ApiException.OutOfRange("id must be 1-64 characters");
            var said = (SaidSeq)await rooms.AskAsync(new SystemSay(id, text, sayId));
            return Results.Json(new { seq = said.Seq });
        });

        api.MapPost("/users/{user}/direct", async (string user, HttpRequest request, ApiUsers users) =>
        {
            var id = ApiRequest.PathId(user, "user");
            var body = await ApiRequest.ReadAsync(request);
            var text = body.Text("text");
            return Connections(id, await users.ReachAsync(id, new DirectToUser(id, text)));
        });

        api.MapPost("/users/{user}/disconnect", async (string user, HttpRequest request, ApiUsers users) =>
        {
            var id = ApiRequest.PathId(user, "user");
            var body = await ApiRequest.ReadAsync(request);
            var reason = body.String("reason") ?? "disconnected by the server";
            // A WebSocket close reason is at most 123 bytes of UTF-8.
            if (System.Text.Encoding.UTF8.GetByteCount(reason) > 123) throw ApiException.OutOfRange("reason is over 123 bytes of UTF-8");
            return Connections(id, await users.ReachAsync(id, new DisconnectUser(id, reason)));
        });

        api.Map("/{**rest}", () => ApiException.NotFound("no such call of /api/v1").ToResult());
    }

    private static IResult Connections(string user, int connections) => connections > 0
        ? Results.Json(new { connections })
        : throw ApiException.NotFound($"user {user} has no connection");

    /// <summary>GET's answer: the room, with its seats.</summary>
    private static IResult State(object answer)
    {
        var s = (RoomState)answer;
        return Results.Json(new
        {
            room = s.Room,
            kind = s.Kind,
            seatMode = s.SeatMode,
            seats = s.Seats.Select(seat => new
            {
                seat = seat.Seat,
                user = seat.User,
                member = seat.User is null ? (uint?)null : seat.Member,
                locked = seat.Locked,
                muted = seat.Muted,
            }),
            seatsVersion = s.SeatsVersion,
            hosts = s.Hosts,
            maxMembers = s.MaxMembers,
            members = s.Members,
            audience = s.Audience,
            home = s.Home,
        }, ApiJson.Options);
    }
}

/// <summary>JSON of the API's answers: absent optional fields are left out rather than written as null.</summary>
internal static class ApiJson
{
    public static readonly System.Text.Json.JsonSerializerOptions Options = new()
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };
}

/// <summary>Asks rooms through the shard region and turns their refusals into API errors.</summary>
public sealed class ApiRooms(IRequiredActor<RoomActor> region, ServerSettings settings)
{
    /// <summary>The room's answer; throws the <see cref="ApiException"/> of a <see cref="RoomNotFound"/> or <see cref="RoomRefused"/>.</summary>
    public async Task<object> AskAsync(IRoomMessage message)
    {
        var rooms = await region.GetAsync();
        var answer = await rooms.Ask<object>(message, settings.AdminQueryTimeout);
        return answer switch
        {
            RoomNotFound n => throw ApiException.NotFound(n.Message),
            RoomRefused r => throw ApiException.Of(r.Code, r.Message),
            _ => answer,
        };
    }
}

/// <summary>Reaches every connection of a user, on any node: its directory entry names the nodes, each node's hub acts.</summary>
public sealed class ApiUsers(IRequiredActor<UserDirectory> directory, ServerSettings settings)
{
    /// <summary>Sends <paramref name="message"/> to each hub with connections of <paramref name="user"/>; returns the connections reached.</summary>
    public async Task<int> ReachAsync(string user, object message)
    {
        var entries = await directory.GetAsync();
        var nodes = await entries.Ask<UserNodes>(new FindUser(user), settings.AdminQueryTimeout);
        // A hub that dies meanwhile reached nobody; its connections are closing anyway.
        var answers = await Task.WhenAll(nodes.Hubs.Select(async hub =>
        {
            try
            {
                return (await hub.Ask<ConnectionsReached>(message, settings.AdminQueryTimeout)).Connections;
            }
            catch (AskTimeoutException)
            {
                return 0;
            }
        }));
        return answers.Sum();
    }
}
