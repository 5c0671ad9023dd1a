using System.Security.Cryptography;
using AkkaVoice.Cluster.Connections;
using AkkaVoice.Protocol;

namespace AkkaVoice.Server;

/// <summary>
/// <c>GET /ws</c> (PROTOCOL.md section 1): origin check, identity (JWT or development <c>?user=</c>),
/// the <c>akkavoice.v1</c> subprotocol, then one <see cref="SocketConnection"/> for the socket's life.
/// </summary>
public static partial class WebSocketEndpoint
{
    public const string SubProtocol = "akkavoice.v1";

    public static void MapVoiceSocket(this WebApplication app)
    {
        // Before the WebSocket middleware takes the upgrade feature, so that sockets run over a SharedWriteStream.
        app.Use((context, next) =>
        {
            SharedWriteAccept.Install(context.Features);
            return next(context);
        });
        app.UseWebSockets();
        app.Map("/ws", HandleAsync);
    }

    private static async Task HandleAsync(HttpContext context, NodeLifecycle akka, Connections connections, NodeOptions options,
        Security security, EdgeLimits edge, ILogger<SocketConnection> logger)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await Results.Problem("GET /ws must be a WebSocket upgrade", statusCode: 400).ExecuteAsync(context);
            return;
        }
        if (akka.Stopping || !akka.Ready)
        {
            await Results.Problem("this node is not ready for connections", statusCode: 503).ExecuteAsync(context);
            return;
        }
        var client = edge.ClientOf(context);
        using var slot = edge.TryTake(client, out var full);
        if (slot is null)
        {
            // Not logged: a flood of refusals would be one line each; akkavoice_connections_refused_total counts them.
            await Results.Problem(full, statusCode: 503).ExecuteAsync(context);
            return;
        }
        if (!security.OriginAllowed(context.Request.Headers.Origin))
        {
            LogRefused(logger, "origin not allowed", 403);
            context.Response.StatusCode = 403;
            return;
        }

        string user;
        JwtIdentity? identity = null;
        if (security.Jwt is { } jwt)
        {
            identity = jwt.Validate(TokenOf(context), out var why);
            if (identity is null)
            {
                LogRefused(logger, why, 401);
                context.Response.StatusCode = 401;
                return;
            }
            user = identity.User;
        }
        else
        {
            var requested = context.Request.Query["user"].ToString();
            if (requested.Length == 0) user = "guest-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(4)).ToLowerInvariant();
            else if (Ids.IsValid(requested)) user = requested;
            else
            {
                await Results.Problem($"user must be 1-{Ids.MaxLength} characters of A-Z a-z 0-9 _ . - :", statusCode: 400).ExecuteAsync(context);
                return;
            }
        }

        var limits = akka.Node.Settings.Limits;
        var offered = context.WebSockets.WebSocketRequestedProtocols;
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            SubProtocol = offered.Contains(SubProtocol) ? SubProtocol : null,
            KeepAliveInterval = limits.KeepAliveInterval,
            // A ping unanswered this long ends the connection; with the interval, a silent peer goes within ~45 s.
            KeepAliveTimeout = limits.KeepAliveTimeout - limits.KeepAliveInterval,
        });

        var stream = context.Features.Get<SharedWriteStream>() ?? throw new InvalidOperationException("the WebSocket was not accepted over a SharedWriteStream");
        var session = new Session(akka.Node, user, identity);
        var connection = new SocketConnection(socket, stream, session, logger);
        connections.Add(connection);
        LogOpened(logger, session.Id, user, client.ToString());
        try
        {
            await connection.RunAsync();
        }
        finally
        {
            connections.Remove(connection);
        }
    }

    private static string? TokenOf(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return header["Bearer ".Length..].Trim();
        var query = context.Request.Query["access_token"].ToString();
        return query.Length > 0 ? query : null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connection {Session} of {User} opened from {Remote}")]
    private static partial void LogOpened(ILogger logger, string session, string user, string remote);

    [LoggerMessage(Level = LogLevel.Information, Message = "WebSocket refused with {Status}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string reason, int status);
}
