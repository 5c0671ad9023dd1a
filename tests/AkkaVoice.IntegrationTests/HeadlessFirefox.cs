using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using AkkaVoice.IntegrationTests.Support;

namespace AkkaVoice.IntegrationTests;

/// <summary>
/// Debian's firefox-esr, headless, driven over WebDriver BiDi (Firefox's own remote agent, no geckodriver),
/// with a fake microphone (<c>media.navigator.streams.fake</c>) and no permission prompt. Headless Firefox
/// plays audio only through a sound server, so each instance is given <see cref="PulseServer"/>'s null sink.
/// Null from <see cref="StartAsync"/> when firefox-esr is not installed.
/// </summary>
public sealed class HeadlessFirefox : IBrowserPage
{
    private const string Prefs = """
        user_pref("media.navigator.streams.fake", true);
        user_pref("media.navigator.permission.disabled", true);
        user_pref("media.autoplay.default", 0);
        user_pref("media.autoplay.block-webaudio", false);
        user_pref("browser.shell.checkDefaultBrowser", false);
        user_pref("browser.startup.homepage_override.mstone", "ignore");
        user_pref("datareporting.policy.dataSubmissionEnabled", false);
        user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
        user_pref("app.update.disabledForTesting", true);
        user_pref("network.captive-portal-service.enabled", false);
        user_pref("browser.safebrowsing.malware.enabled", false);
        user_pref("browser.safebrowsing.phishing.enabled", false);
        """;

    private readonly Process process;
    private ClientWebSocket socket = new();
    private readonly string profile;
    private readonly SemaphoreSlim calls = new(1, 1);
    private string context = "";
    private int nextId;

    private HeadlessFirefox(Process process, string profile)
    {
        this.process = process;
        this.profile = profile;
    }

    public static string? Executable() =>
        new[] { Environment.GetEnvironmentVariable("FIREFOX"), "/usr/bin/firefox-esr", "/usr/bin/firefox" }
            .FirstOrDefault(p => !string.IsNullOrEmpty(p) && File.Exists(p));

    /// <summary>Opens <paramref name="url"/> in a fresh profile.</summary>
    public static async Task<HeadlessFirefox?> StartAsync(string url, PulseServer pulse)
    {
        if (Executable() is not { } exe) return null;
        int port = TestNode.FreePort();
        var profile = Directory.CreateTempSubdirectory("akkavoice-firefox-").FullName;
        await File.WriteAllTextAsync(Path.Combine(profile, "user.js"), Prefs);
        var info = new ProcessStartInfo(exe) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { "--headless", "--no-remote", "--profile", profile, "--remote-debugging-port", port.ToString(), "--width", "1000", "--height", "640", "about:blank" })
            info.ArgumentList.Add(arg);
        info.Environment["MOZ_HEADLESS"] = "1";
        info.Environment["PULSE_SERVER"] = pulse.Address;
        info.Environment["HOME"] = profile;
        var process = Process.Start(info)!;
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var browser = new HeadlessFirefox(process, profile);
        try
        {
            await browser.AttachAsync(port);
            await browser.CallAsync("browsingContext.navigate", new { context = browser.context, url, wait = "complete" });
        }
        catch
        {
            await browser.DisposeAsync();
            throw;
        }
        return browser;
    }

    private async Task AttachAsync(int port)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/session"), CancellationToken.None);
                break;
            }
            catch (WebSocketException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                // A socket whose connect failed cannot be used again.
                socket.Dispose();
                socket = new ClientWebSocket();
                await Task.Delay(200);
            }
        }
        await CallAsync("session.new", new { capabilities = new { } });
        var tree = await CallAsync("browsingContext.getTree", new { });
        context = tree.GetProperty("contexts")[0].GetProperty("context").GetString()!;
    }

    /// <summary>Evaluates <paramref name="expression"/> (awaiting a promise) and returns its value as JSON, as Chromium's returnByValue does.</summary>
    public async Task<JsonElement> EvaluateAsync(string expression)
    {
        var result = await CallAsync("script.evaluate", new
        {
            expression = $"(async () => {{ const v = await ({expression}); return v === undefined ? undefined : JSON.stringify(v); }})()",
            target = new { context },
            awaitPromise = true,
        });
        if (result.GetProperty("type").GetString() == "exception")
            throw new InvalidOperationException($"{expression}: {result.GetProperty("exceptionDetails").GetProperty("text").GetString()}");
        var value = result.GetProperty("result");
        return value.GetProperty("type").GetString() == "string" ? JsonDocument.Parse(value.GetProperty("value").GetString()!).RootElement.Clone() : default;
    }

    public async Task ScreenshotAsync(string path)
    {
        var result = await CallAsync("browsingContext.captureScreenshot", new { context });
        await File.WriteAllBytesAsync(path, Convert.FromBase64String(result.GetProperty("data").GetString()!));
    }

    private async Task<JsonElement> CallAsync(string method, object parameters)
    {
        await calls.WaitAsync();
        try
        {
            int id = ++nextId;
            await BrowserProtocol.SendAsync(socket, id, method, parameters);
            var buffer = new byte[1 << 16];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (true)
            {
                var reply = await BrowserProtocol.ReceiveAsync(socket, buffer, timeout.Token);
                // Events (no id) and answers to other calls are skipped.
                if (!reply.TryGetProperty("id", out var replyId) || replyId.ValueKind != JsonValueKind.Number || replyId.GetInt32() != id) continue;
                if (reply.GetProperty("type").GetString() == "error")
                    throw new InvalidOperationException($"{method}: {reply.GetProperty("error").GetString()} {(reply.TryGetProperty("message", out var m) ? m.GetString() : "")}");
                return reply.GetProperty("result").Clone();
            }
        }
        finally
        {
            calls.Release();
        }
    }

    public ValueTask DisposeAsync() => new(BrowserProtocol.StopAsync(socket, process, profile));
}

/// <summary>
/// A PulseAudio server of the test's own with one null sink: the audio output headless Firefox needs for
/// Web Audio. Null from <see cref="StartAsync"/> when pulseaudio is not installed.
/// </summary>
public sealed class PulseServer : IAsyncDisposable
{
    private readonly Process process;
    private readonly string directory;

    private PulseServer(Process process, string directory)
    {
        this.process = process;
        this.directory = directory;
    }

    /// <summary>The value of <c>PULSE_SERVER</c> for the browsers that use it.</summary>
    public string Address => $"unix:{Path.Combine(directory, "native")}";

    public static string? Executable() => File.Exists("/usr/bin/pulseaudio") ? "/usr/bin/pulseaudio" : null;

    public static async Task<PulseServer?> StartAsync()
    {
        if (Executable() is not { } exe) return null;
        var directory = Directory.CreateTempSubdirectory("akkavoice-pulse-").FullName;
        var info = new ProcessStartInfo(exe) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[]
                 {
                     "-n", "--daemonize=no", "--exit-idle-time=-1", "--disable-shm=yes", "--log-target=stderr",
                     "--load=module-null-sink sink_name=akkavoice",
                     $"--load=module-native-protocol-unix socket={Path.Combine(directory, "native")} auth-anonymous=1",
                 })
            info.ArgumentList.Add(arg);
        info.Environment["HOME"] = directory;
        info.Environment["XDG_RUNTIME_DIR"] = directory;
        var process = Process.Start(info)!;
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var server = new PulseServer(process, directory);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!File.Exists(Path.Combine(directory, "native")))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                await server.DisposeAsync();
                throw new InvalidOperationException("pulseaudio did not open its socket");
            }
            await Task.Delay(50);
        }
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
        try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
    }
}
