using AkkaVoice.Examples.WebhookReceiver;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AkkaVoice.IntegrationTests.Support;

/// <summary>
/// The example webhook receiver (examples/WebhookReceiver) served by Kestrel on a free loopback port, with the faults
/// the tests need: answering 503 while <see cref="Failing"/>, or holding every request unanswered while <see cref="Silent"/>.
/// </summary>
public sealed class ReceiverHost : IAsyncDisposable
{
    public const string Secret = "webhook-secret-for-tests-0123456789abcdef";

    private readonly WebApplication app;
    private volatile bool failing, silent;
    private int requests;

    private ReceiverHost(WebApplication app, int port)
    {
        this.app = app;
        Url = $"http://127.0.0.1:{port}/webhooks";
    }

    public WebhookReceiver Receiver { get; } = new(Secret);
    public string Url { get; }
    public bool Failing { get => failing; set => failing = value; }
    public bool Silent { get => silent; set => silent = value; }

    /// <summary>Requests received, refused and unanswered ones included.</summary>
    public int Requests => Volatile.Read(ref requests);

    /// <summary>The flags that point a node at this receiver.</summary>
    public string[] Flags => ["--webhook-url", Url, "--webhook-secret", Secret];

    public static async Task<ReceiverHost> StartAsync()
    {
        var port = TestNode.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        // One log line per request would drown the test output.
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var host = new ReceiverHost(app, port);
        app.MapPost("/webhooks", async (HttpRequest request) =>
        {
            Interlocked.Increment(ref host.requests);
            if (host.Silent) await Task.Delay(Timeout.Infinite, request.HttpContext.RequestAborted);
            return host.Failing ? Results.StatusCode(503) : await host.Receiver.HandleAsync(request);
        });
        await app.StartAsync();
        return host;
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        await app.StopAsync(timeout.Token);
        await app.DisposeAsync();
    }
}
