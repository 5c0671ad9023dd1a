using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Management;
using Akka.Management.Cluster.Bootstrap;
using Akka.Management.Cluster.Bootstrap.ContactPoint;
using Akka.Management.Dsl;
using AkkaVoice.Cluster;
using Newtonsoft.Json;
using AkkaConfig = Akka.Configuration.Config;

namespace AkkaVoice.Server.Bootstrap;

/// <summary>
/// This node's cluster bootstrap contact point: <c>GET /bootstrap/seed-nodes</c> on the management port
/// (<c>akka.management.http</c>), served by the node's own Kestrel, and the start of
/// <see cref="ClusterBootstrap"/> with that endpoint as its self contact point.
/// </summary>
/// <remarks>
/// Akka.Management would serve this route itself from <c>AkkaManagement.Start()</c>, through Akka.Http.Shim
/// and the Ceen.Httpd server. Akka.Http.Shim 1.5.73 was built against Ceen.Httpd 0.9.9 and calls a
/// <c>HttpServer.ListenAsync(IPEndPoint, ...)</c> overload that 0.9.10, the version NuGet resolves here,
/// replaced with <c>ListenAsync(EndPoint, ...)</c>: the start fails with a MissingMethodException. The
/// answer below is the one Akka.Management's own route gives (its JSON types, serialized the same way),
/// so contact points served here and by Akka.Management understand each other; everything else about
/// bootstrap (discovery, probing, the join decision) is still Akka.Management's.
/// </remarks>
public sealed record ContactPoint(Uri SelfBaseUri, string BindHostname, int BindPort, string SeedNodesPath)
{
    /// <summary>The most members one answer lists, as Akka.Management's route does; joining one of them is enough.</summary>
    private const int MaxSeedNodesToExpose = 5;

    /// <summary>
    /// The contact point when this node forms its cluster through bootstrap, else null (seeds, or a cluster
    /// of its own). It advertises the same host as remoting (<c>--hostname</c>) and listens where Kestrel
    /// binds (<c>--bind</c>), on <c>akka.management.http.port</c>.
    /// </summary>
    public static ContactPoint? Resolve(NodeOptions options, AkkaConfig config)
    {
        // Explicit seeds win over bootstrap (which would refuse to run with seed-nodes set anyway).
        if (options.Seeds.Count > 0 || !new HoconSettings(config, "akkavoice.bootstrap").Bool("enabled")) return null;
        var http = AkkaManagementSettings.Create(config.WithFallback(ClusterBootstrap.DefaultConfiguration())).Http;
        var basePath = http.BasePath.Trim('/');
        var prefix = basePath.Length == 0 ? "" : "/" + basePath;
        return new ContactPoint(
            new Uri($"http://{UriHost(options.Hostname)}:{http.Port}{prefix}/"),
            options.Bind,
            http.EffectiveBindPort,
            prefix + "/bootstrap/seed-nodes");
    }

    private static string UriHost(string host) => host.Contains(':') ? "[" + host + "]" : host;

    /// <summary>The Kestrel URL the management port listens on.</summary>
    public string BindUrl => $"http://{UriHost(BindHostname)}:{BindPort}";

    /// <summary>
    /// Starts bootstrap: records the self contact point (what <c>AkkaManagement.Start()</c> would do) and
    /// starts <see cref="ClusterBootstrap"/>, which discovers the other contact points, probes them, and
    /// joins the cluster they report or, when there is none yet and this node has the lowest address, forms it.
    /// </summary>
    public async Task StartBootstrapAsync(ActorSystem system)
    {
        var bootstrap = ClusterBootstrap.Get(system);
        // Routes() is the public way to hand bootstrap its self contact point; the Ceen routes it returns are not used.
        _ = bootstrap.Routes(ManagementRouteProviderSettings.Create(SelfBaseUri, readOnly: true));
        await bootstrap.Start();
    }

    /// <summary>
    /// Answers bootstrap probes on the management port and nothing else there: every other request on that
    /// port is a 404, so the WebSocket and admin endpoints stay on the HTTP port only.
    /// </summary>
    public void Map(IApplicationBuilder app, Func<ActorSystem?> system)
    {
        app.Use(async (context, next) =>
        {
            if (context.Connection.LocalPort != BindPort)
            {
                await next(context);
                return;
            }
            if (!HttpMethods.IsGet(context.Request.Method) || context.Request.Path != SeedNodesPath)
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }
            if (system() is not { } running)
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return;
            }
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(SeedNodesJson(Akka.Cluster.Cluster.Get(running)), context.RequestAborted);
        });
    }

    /// <summary>
    /// This node and the members a newcomer may join: reachable, Up, WeaklyUp or Joining, in random order so
    /// that newcomers spread their joins. A node on its way out offers none, so nobody joins through it.
    /// </summary>
    public static string SeedNodesJson(Akka.Cluster.Cluster cluster)
    {
        var self = cluster.SelfMember;
        if (self.Status is MemberStatus.Down or MemberStatus.Exiting or MemberStatus.Leaving or MemberStatus.Removed)
            return JsonConvert.SerializeObject(new HttpBootstrapJsonProtocol.SeedNodes(self.Address, []));

        var state = cluster.State;
        var members = state.Members
            .Where(m => !state.Unreachable.Contains(m))
            .Where(m => m.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Joining)
            .OrderBy(_ => Random.Shared.Next())
            .Take(MaxSeedNodesToExpose)
            .Select(m => new HttpBootstrapJsonProtocol.ClusterMember(m.UniqueAddress.Address, m.UniqueAddress.Uid, m.Status, m.Roles))
            .ToImmutableList();
        return JsonConvert.SerializeObject(new HttpBootstrapJsonProtocol.SeedNodes(self.Address, members));
    }
}
