using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using AkkaVoice.IntegrationTests.Support;

namespace AkkaVoice.IntegrationTests;

/// <summary>
/// Debian's chromium, headless, driven over the Chrome DevTools Protocol: enough to load a page,
/// evaluate JavaScript in it and take a screenshot. Null from <see cref="StartAsync"/> when no chromium is installed.
/// </summary>
public sealed class HeadlessChromium : IBrowserPage
{
    private readonly Process process;
    private readonly ClientWebSocket socket = new();
    private readonly string profile;
    private int nextId;

    private HeadlessChromium(Process process, string profile)
    {
        this.process = process;
        this.profile = profile;
    }

    public static string? Executable() =>
        new[] { Environment.GetEnvironmentVariable("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser" }
            .FirstOrDefault(p => !string.IsNullOrEmpty(p) && File.Exists(p));

    /// <summary>
    /// Opens <paramref name="url"/> in a fresh profile. <paramref name="extraArgs"/> come after the defaults (a later
    /// switch wins); <paramref name="initScript"/> runs in every document before the page's own scripts.
    /// </summary>
    public static async Task<HeadlessChromium?> StartAsync(string url, IEnumerable<string>? extraArgs = null, string? initScript = null)
    {
        if (Executable() is not { } exe) return null;
        int port = TestNode.FreePort();
        var profile = Directory.CreateTempSubdirectory("akkavoice-chromium-").FullName;
        var info = new ProcessStartInfo(exe) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[]
                 {
                     "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1400,900", $"--user-data-dir={profile}", $"--remote-debugging-port={port}",
                     "--remote-allow-origins=*",
                 }.Concat(extraArgs ?? []).Append(initScript is null ? url : "about:blank"))
            info.ArgumentList.Add(arg);
        var process = Process.Start(info)!;
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var browser = new HeadlessChromium(process, profile);
        try
        {
            await browser.AttachAsync(port);
            if (initScript is not null)
            {
                await browser.CallAsync("Page.enable", new { });
                await browser.CallAsync("Page.addScriptToEvaluateOnNewDocument", new { source = initScript });
                await browser.CallAsync("Page.navigate", new { url });
            }
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
        using var http = new HttpClient();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                var targets = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/json/list")).RootElement;
                var page = targets.EnumerateArray().FirstOrDefault(t => t.GetProperty("type").GetString() == "page");
                if (page.ValueKind == JsonValueKind.Object)
                {
                    await socket.ConnectAsync(new Uri(page.GetProperty("webSocketDebuggerUrl").GetString()!), CancellationToken.None);
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException("chromium did not open its debugging port");
            await Task.Delay(100);
        }
    }

    /// <summary>Evaluates a JavaScript expression in the page and returns its value (JSON).</summary>
    public async Task<JsonElement> EvaluateAsync(string expression)
    {
        var result = await CallAsync("Runtime.evaluate", new { expression, returnByValue = true });
        return result.GetProperty("result").TryGetProperty("value", out var value) ? value : default;
    }

    public async Task ScreenshotAsync(string path)
    {
        var result = await CallAsync("Page.captureScreenshot", new { format = "png" });
        await File.WriteAllBytesAsync(path, Convert.FromBase64String(result.GetProperty("data").GetString()!));
    }

    private async Task<JsonElement> CallAsync(string method, object parameters)
    {
        int id = ++nextId;
        await BrowserProtocol.SendAsync(socket, id, method, parameters);
        var buffer = new byte[1 << 16];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var reply = await BrowserProtocol.ReceiveAsync(socket, buffer, timeout.Token);
            if (reply.TryGetProperty("id", out var replyId) && replyId.GetInt32() == id)
            {
                if (reply.TryGetProperty("error", out var error)) throw new InvalidOperationException($"{method}: {error}");
                return reply.GetProperty("result").Clone();
            }
        }
    }

    public ValueTask DisposeAsync() => new(BrowserProtocol.StopAsync(socket, process, profile));
}
