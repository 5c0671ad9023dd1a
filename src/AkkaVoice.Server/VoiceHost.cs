using Akka.Cluster.Hosting;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Remote.Hosting;
using AkkaVoice.Cluster;
using Prometheus;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace AkkaVoice.Server;

/// <summary>Builds and runs one AkkaVoice node: Serilog, the settings, the actor system through Akka.Hosting, Kestrel and the endpoints.</summary>
public static class VoiceHost
{
    public static async Task<int> RunAsync(string[] args)
    {
        ConfigureLogging();
        WebApplication app;
        try
        {
            app = Build(args);
        }
        catch (Exception e) when (e is ArgumentException or ConfigurationException or IOException)
        {
            // A bad flag or setting stops the node at once with its name, before anything starts.
            Log.Fatal("Cannot start: {Reason}", e.Message);
            await Log.CloseAndFlushAsync();
            return 2;
        }

        try
        {
            await using (app)
            {
                try
                {
                    await app.StartAsync();
                }
                catch (IOException e)
                {
                    // A port already in use (NodeLifecycle probes both before anything binds): a reason, not a stack trace.
                    Log.Fatal("Cannot start: {Reason}", e.Message);
                    return 2;
                }
                await app.WaitForShutdownAsync();
                return 0;
            }
        }
        catch (Exception e)
        {
            Log.Fatal(e, "The node stopped on an error");
            return 1;
        }
        finally
        {
            await Log.CloseAndFlushAsync();
        }
    }

    /// <summary>
    /// The web application of a node started with <paramref name="args"/> (the flags of PROTOCOL.md section 6),
    /// not yet started; <paramref name="hocon"/> goes over the HOCON files (the tests' smaller limits).
    /// </summary>
    public static WebApplication Build(string[] args, Config? hocon = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        var settings = NodeSettings.Load(NodeSettings.AddSources(builder.Configuration, args).Build(), NodeSettings.DefaultHoconDirectory, hocon);
        var node = settings.Node;
        var contactPoint = Bootstrap.ContactPoint.Resolve(node, settings.Hocon);
        var tls = node.TlsCert is { } certificate ? ClusterTls.Load(certificate, node.TlsCertPassword) : null;

        builder.Host.UseSerilog();
        builder.WebHost.UseUrls(contactPoint is null
            ? [$"http://{node.Bind}:{node.HttpPort}"]
            : [$"http://{node.Bind}:{node.HttpPort}", contactPoint.BindUrl]);
        builder.WebHost.UseSockets(o => o.UnsafePreferInlineScheduling = settings.Server.InlineIo);
        // A request that has not sent its headers by then is dropped; it never held a connection slot (EdgeLimits).
        builder.WebHost.ConfigureKestrel(k => k.Limits.RequestHeadersTimeout = settings.Server.RequestHeadersTimeout);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.Server.ShutdownTimeout);
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(node);
        builder.Services.AddSingleton(settings.Voice);
        builder.Services.AddSingleton(new Cluster.Directory.RoomDirectory(settings.Voice.ShardCount));
        builder.Services.AddSingleton(settings.Server);
        builder.Services.AddSingleton<Connections>();
        builder.Services.AddSingleton<EdgeLimits>();
        builder.Services.AddSingleton<NodeStats>();
        builder.Services.AddSingleton(new Security(node, settings.Server.AllowedOrigins));
        builder.Services.AddSingleton<NodeLifecycle>();
        builder.Services.AddSingleton<Api.ApiRooms>();
        builder.Services.AddSingleton<Api.ApiUsers>();
        builder.Services.AddSingleton<Api.RoomListing>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<NodeLifecycle>());

        builder.Services.AddAkka("akkavoice", (akka, sp) =>
        {
            var lifecycle = sp.GetRequiredService<NodeLifecycle>();
            akka.AddHocon(settings.Hocon, HoconAddMode.Append)
                .WithRemoting(RemoteOptionsOf(node, tls))
                // Akka.Cluster.Hosting writes roles into HOCON as they are; a name role holds a ':' and must be quoted.
                .WithClustering(new ClusterOptions { SeedNodes = [.. node.Seeds], Roles = [.. node.Roles.Select(r => $"\"{r}\"")] })
                .WithVoiceNode(settings.Voice, sp.GetRequiredService<NodeStats>(), node.Webhooks, lifecycle.Started,
                    // With Kubernetes API discovery the pod API is a second witness of a dead process (docs/operations.md, "Crash recovery").
                    contactPoint is null ? null : system => Bootstrap.KubernetesPodRecords.Create(system, node.Hostname))
                .AddStartup((system, _) => lifecycle.JoinAsync(system));
        });

        var app = builder.Build();
        var lifecycle = app.Services.GetRequiredService<NodeLifecycle>();
        contactPoint?.Map(app, () => lifecycle.NodeOrNull?.System);
        app.MapApp();
        app.MapVoiceSocket();
        app.MapAdmin();
        Api.ApiEndpoints.MapApi(app);
        app.MapMetrics("/metrics", MetricsExport.Register(app.Services.GetRequiredService<NodeStats>()));
        return app;
    }

    private static RemoteOptions RemoteOptionsOf(NodeOptions node, ClusterTls? tls)
    {
        var remote = new RemoteOptions { HostName = node.Bind, PublicHostName = node.Hostname, Port = node.AkkaPort };
        if (tls is not null)
        {
            remote.EnableSsl = true;
            remote.Ssl = tls.Options();
        }
        return remote;
    }

    private static void ConfigureLogging()
    {
        var json = Environment.GetEnvironmentVariable("AKKAVOICE_LOG_FORMAT") == "json";
        var log = new LoggerConfiguration()
            .MinimumLevel.Information()
            // Request logs would carry query strings, and with them access tokens: keep ASP.NET quiet.
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.Hosting.Lifetime", LogEventLevel.Information)
            .Enrich.FromLogContext();
        Log.Logger = (json
                ? log.WriteTo.Console(new CompactJsonFormatter())
                : log.WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss.fff} {Level:u3}] {Message:lj}{NewLine}{Exception}"))
            .CreateLogger();
    }
}
