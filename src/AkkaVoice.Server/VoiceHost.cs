using Akka.Configuration;
using AkkaVoice.Cluster;
using AkkaVoice.Server.Bootstrap;
using Prometheus;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace AkkaVoice.Server;

/// <summary>Builds and runs one AkkaVoice node: Serilog, HOCON, the Akka service, Kestrel and the endpoints.</summary>
public static class VoiceHost
{
    public static async Task<int> RunAsync(string[] args)
    {
        ConfigureLogging();
        NodeOptions options;
        Config config;
        try
        {
            options = NodeOptions.Parse(args, Environment.GetEnvironmentVariable);
            config = options.BuildConfig(Path.Combine(AppContext.BaseDirectory, "hocon"));
            // Read once here so that a bad setting stops the node at once with its name, before anything starts.
            VoiceSettings.FromConfig(config);
        }
        catch (Exception e) when (e is ArgumentException or ConfigurationException or IOException)
        {
            Log.Fatal("Cannot start: {Reason}", e.Message);
            await Log.CloseAndFlushAsync();
            return 2;
        }

        try
        {
            await using var app = Build(options, config);
            try
            {
                await app.StartAsync();
            }
            catch (IOException e)
            {
                // A port already in use (AkkaService probes both before anything binds): a reason, not a stack trace.
                Log.Fatal("Cannot start: {Reason}", e.Message);
                return 2;
            }
            await app.WaitForShutdownAsync();
            return 0;
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

    /// <summary>The web application of a node, not yet started.</summary>
    public static WebApplication Build(NodeOptions options, Config config)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Host.UseSerilog();
        var contactPoint = ContactPoint.Resolve(options, config);
        builder.WebHost.UseUrls(contactPoint is null
            ? [$"http://{options.Bind}:{options.HttpPort}"]
            : [$"http://{options.Bind}:{options.HttpPort}", contactPoint.BindUrl]);
        builder.WebHost.UseSockets(o => o.UnsafePreferInlineScheduling = config.GetBoolean("akkavoice.inline-io", true));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton<Connections>();
        builder.Services.AddSingleton<NodeStats>();
        builder.Services.AddSingleton(new Security(options, [.. config.GetStringList("akkavoice.allowed-origins") ?? []]));
        builder.Services.AddSingleton<AkkaService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AkkaService>());

        var app = builder.Build();
        var akka = app.Services.GetRequiredService<AkkaService>();
        contactPoint?.Map(app, () => akka.NodeOrNull?.System);
        app.MapApp();
        app.MapVoiceSocket();
        app.MapAdmin();
        app.MapMetrics("/metrics", MetricsExport.Register(app.Services.GetRequiredService<NodeStats>()));
        return app;
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
