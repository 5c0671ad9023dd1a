using System.Diagnostics;
using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace AkkaVoice.IntegrationTests;

/// <summary>
/// The voice app of PROTOCOL.md section 7 in Debian's headless chromium with a fake microphone playing
/// speech, one page on each node of a real two-process cluster.
/// </summary>
[Collection("processes")]
public sealed class BrowserAppTests(ITestOutputHelper output) : IAsyncLifetime
{
    // Records the page's binary WebSocket traffic as hex, so that the test compares the bytes on the wire.
    private const string WireRecorder = """
        (() => {
          const hex = b => Array.from(b, x => x.toString(16).padStart(2, '0')).join('');
          const wire = { sent: [], received: [] };
          window.akkavoiceWire = wire;
          const send = WebSocket.prototype.send;
          WebSocket.prototype.send = function (data) {
            if (data instanceof Uint8Array && wire.sent.length < 3000) wire.sent.push(hex(data));
            return send.call(this, data);
          };
          const Native = window.WebSocket;
          window.WebSocket = class extends Native {
            constructor(...args) {
              super(...args);
              this.addEventListener('message', e => {
                if (e.data instanceof ArrayBuffer && wire.received.length < 3000) wire.received.push(hex(new Uint8Array(e.data)));
              });
            }
          };
        })();
        """;

    private readonly List<NodeProcess> nodes = [];
    private readonly List<HeadlessChromium> pages = [];
    private readonly List<HeadlessFirefox> firefoxPages = [];
    private string speech = "";
    private string profileRoot = "";

    public async Task InitializeAsync()
    {
        profileRoot = Directory.CreateTempSubdirectory("akkavoice-app-").FullName;
        speech = Path.Combine(profileRoot, "speech.wav");
        await MakeSpeechAsync(speech, output);
        try
        {
            nodes.Add(NodeProcess.Start());
            await nodes[0].WaitReadyAsync();
            nodes.Add(NodeProcess.Start(nodes[0]));
            await nodes[1].WaitReadyAsync();
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var page in pages) await page.DisposeAsync();
        foreach (var page in firefoxPages) await page.DisposeAsync();
        foreach (var node in nodes) await node.DisposeAsync();
        try { Directory.Delete(profileRoot, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Pages_on_two_nodes_hear_each_other_chat_both_ways_and_see_members_come_and_go()
    {
        if (!BrowserInstalled()) return;
        var b = await OpenAsync(nodes[1], "app-bob", "app-room");
        await WaitForAsync(b, "window.akkavoice.state === 'joined'");
        var a = await OpenAsync(nodes[0], "app-alice", "app-room");
        await WaitForAsync(a, "window.akkavoice.state === 'joined' && window.akkavoice.members.length === 2");
        await WaitForAsync(b, "window.akkavoice.members.length === 2");

        Assert.Equal(nodes[0].AkkaAddress, (await a.EvaluateAsync("window.akkavoice.node")).GetString());
        Assert.Equal(nodes[1].AkkaAddress, (await b.EvaluateAsync("window.akkavoice.node")).GetString());
        Assert.Equal(["app-alice", "app-bob"], await UsersAsync(a));
        Assert.Equal(["app-alice", "app-bob"], await UsersAsync(b));
        Assert.Equal(2, (await b.EvaluateAsync("document.querySelectorAll('#members li').length")).GetInt32());

        // B decodes A's speech with energy, from the very bytes A put on the wire.
        await WaitForAsync(b, "window.akkavoice.decoded >= 100 && window.akkavoice.level > 0.01", TimeSpan.FromSeconds(30));
        await WaitForAsync(a, "window.akkavoice.sent >= 100");
        var alice = (await a.EvaluateAsync("window.akkavoice.member")).GetUInt32();
        var sent = (await a.EvaluateAsync("window.akkavoiceWire.sent")).EnumerateArray().Select(e => e.GetString()![2..]).ToList();
        var fromAlice = (await b.EvaluateAsync("window.akkavoiceWire.received")).EnumerateArray().Select(e => e.GetString()!)
            .Where(f => Convert.ToUInt32(f[2..10], 16) == alice).Select(f => f[10..]).ToList();
        Assert.True(fromAlice.Count >= 100, $"B received {fromAlice.Count} frames of A");
        Assert.Equal(sent.Take(100), fromAlice.Take(100));
        Assert.All(sent.Take(100), p => Assert.InRange(p.Length / 2, 3, 400));
        var level = (await b.EvaluateAsync("window.akkavoice.level")).GetDouble();
        output.WriteLine($"A sent {sent.Count} frames ({sent.Take(100).Average(p => p.Length / 2.0):F0} bytes on average); B level {level:F3}");

        await a.EvaluateAsync("window.akkavoice.say('hello from alice')");
        await WaitForAsync(b, "window.akkavoice.chat.some(c => c.user === 'app-alice' && c.text === 'hello from alice')");
        await b.EvaluateAsync("window.akkavoice.say('hello from bob')");
        await WaitForAsync(a, "window.akkavoice.chat.some(c => c.user === 'app-bob' && c.text === 'hello from bob')");
        await WaitForAsync(b, "window.akkavoice.chat.length === 2 && document.querySelector('#chat').textContent.includes('hello from bob')");
        Assert.Equal("[1,2]", (await b.EvaluateAsync("JSON.stringify(window.akkavoice.chat.map(c => c.seq))")).GetString());

        await b.ScreenshotAsync(Path.Combine(AppContext.BaseDirectory, "app.png"));

        await a.DisposeAsync();
        pages.Remove(a);
        await WaitForAsync(b, "window.akkavoice.members.length === 1 && window.akkavoice.members[0].user === 'app-bob'", TimeSpan.FromSeconds(15));
        Assert.Equal(1, (await b.EvaluateAsync("document.querySelectorAll('#members li').length")).GetInt32());
    }

    [Fact]
    public async Task A_page_whose_node_stops_reconnects_to_the_other_node_and_is_heard_again()
    {
        if (!BrowserInstalled()) return;
        var b = await OpenAsync(nodes[1], "heal-bob", "heal-room");
        await WaitForAsync(b, "window.akkavoice.state === 'joined'");
        var a = await OpenAsync(nodes[0], "heal-alice", "heal-room", nodes[1]);
        await WaitForAsync(b, "window.akkavoice.members.length === 2 && window.akkavoice.decoded >= 25");
        await a.EvaluateAsync("window.akkavoice.say('before the move')");
        await WaitForAsync(b, "window.akkavoice.chat.length === 1");

        var watch = Stopwatch.StartNew();
        nodes[0].Terminate();
        Assert.Equal(0, await nodes[0].WaitExitAsync(TimeSpan.FromSeconds(60)));
        await WaitForAsync(a, $"window.akkavoice.state === 'joined' && window.akkavoice.node === '{nodes[1].AkkaAddress}'", TimeSpan.FromSeconds(60));
        var moved = watch.Elapsed;
        var alice = (await a.EvaluateAsync("window.akkavoice.member")).GetUInt32();
        await WaitForAsync(b, $"window.akkavoice.members.some(m => m.member === {alice})", TimeSpan.FromSeconds(15));

        var before = (await b.EvaluateAsync("window.akkavoice.decoded")).GetInt32();
        await WaitForAsync(b, $"window.akkavoice.decoded >= {before + 50} && window.akkavoice.level > 0.01", TimeSpan.FromSeconds(30));
        var heard = (await b.EvaluateAsync("window.akkavoiceWire.received")).EnumerateArray()
            .Count(e => Convert.ToUInt32(e.GetString()![2..10], 16) == alice);
        Assert.True(heard >= 50, $"B received {heard} frames of A after the move");
        Assert.Equal("before the move", (await a.EvaluateAsync("window.akkavoice.chat[0].text")).GetString());
        await a.EvaluateAsync("window.akkavoice.say('after the move')");
        await WaitForAsync(b, "window.akkavoice.chat.map(c => c.text).join('|') === 'before the move|after the move'");
        output.WriteLine($"page A rejoined on the other node {moved.TotalSeconds:F1} s after SIGTERM");
    }

    [Fact]
    public async Task In_firefox_pages_on_two_nodes_hear_each_other_and_chat()
    {
        if (HeadlessFirefox.Executable() is null || PulseServer.Executable() is null)
        {
            output.WriteLine("firefox-esr or pulseaudio is not installed (apt-get install firefox-esr pulseaudio): the Firefox checks did not run");
            return;
        }
        await using var pulse = await PulseServer.StartAsync();
        var b = await OpenFirefoxAsync(nodes[1], "fox-bob", "fox-room", pulse!);
        await WaitForAsync(b, "window.akkavoice.state === 'joined'");
        var a = await OpenFirefoxAsync(nodes[0], "fox-alice", "fox-room", pulse!);
        await WaitForAsync(a, "window.akkavoice.state === 'joined' && window.akkavoice.members.length === 2");

        // Both capture (Firefox has no MediaStreamTrackProcessor: Web Audio, resampled to 48 kHz), encode
        // Opus with WebCodecs, and decode each other's voice with energy, across the two nodes.
        await WaitForAsync(b, "window.akkavoice.decoded >= 100 && window.akkavoice.level > 0.01", TimeSpan.FromSeconds(30));
        await WaitForAsync(a, "window.akkavoice.decoded >= 100 && window.akkavoice.level > 0.01", TimeSpan.FromSeconds(30));
        var alice = (await a.EvaluateAsync("window.akkavoice.member")).GetUInt32();
        Assert.True((await b.EvaluateAsync($"window.akkavoice.heard[{alice}]")).GetInt32() >= 100);
        Assert.Equal("open", (await a.EvaluateAsync("window.akkavoice.kind")).GetString());
        Assert.True((await a.EvaluateAsync("document.getElementById('stage-view').hidden")).GetBoolean());

        await a.EvaluateAsync("window.akkavoice.say('hello from firefox')");
        await WaitForAsync(b, "window.akkavoice.chat.some(c => c.user === 'fox-alice' && c.text === 'hello from firefox')");
        await b.ScreenshotAsync(Path.Combine(AppContext.BaseDirectory, "app-firefox.png"));
        output.WriteLine($"firefox: B level {(await b.EvaluateAsync("window.akkavoice.level")).GetDouble():F3}, A level {(await a.EvaluateAsync("window.akkavoice.level")).GetDouble():F3}");
    }

    private async Task<HeadlessFirefox> OpenFirefoxAsync(NodeProcess node, string user, string room, PulseServer pulse)
    {
        var page = (await HeadlessFirefox.StartAsync($"http://127.0.0.1:{node.HttpPort}/?user={user}&room={room}&autojoin=1", pulse))!;
        firefoxPages.Add(page);
        return page;
    }

    private bool BrowserInstalled()
    {
        if (HeadlessChromium.Executable() is not null) return true;
        output.WriteLine("chromium is not installed (apt-get install chromium); the browser checks did not run");
        return false;
    }

    private async Task<HeadlessChromium> OpenAsync(NodeProcess node, string user, string room, params NodeProcess[] others)
    {
        var list = string.Join(",", new[] { node }.Concat(others).Select(n => $"http://127.0.0.1:{n.HttpPort}"));
        var url = $"http://127.0.0.1:{node.HttpPort}/?user={user}&room={room}&autojoin=1&nodes={Uri.EscapeDataString(list)}";
        var page = (await HeadlessChromium.StartAsync(url,
        [
            "--window-size=1000,640", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            $"--use-file-for-fake-audio-capture={speech}", "--autoplay-policy=no-user-gesture-required",
        ], WireRecorder))!;
        pages.Add(page);
        return page;
    }

    private static async Task<string[]> UsersAsync(HeadlessChromium page) =>
        [.. (await page.EvaluateAsync("window.akkavoice.members.map(m => m.user).sort()")).EnumerateArray().Select(e => e.GetString()!)];

    /// <summary>Speech from espeak-ng at 48 kHz mono (resampled by sox when installed); a voiced synthetic tone without espeak-ng.</summary>
    internal static async Task MakeSpeechAsync(string path, ITestOutputHelper output)
    {
        var raw = Path.Combine(Path.GetDirectoryName(path)!, "espeak.wav");
        if (await RunAsync("espeak-ng", "-w", raw, "This is the AkkaVoice browser test. One, two, three, four, five. The quick brown fox jumps over the lazy dog."))
        {
            if (!await RunAsync("sox", raw, "-r", "48000", "-c", "1", path)) File.Copy(raw, path);
            return;
        }
        output.WriteLine("espeak-ng is not installed: the fake microphone plays a synthetic voiced tone");
        WriteTone(path);
    }

    private static async Task<bool> RunAsync(string program, params string[] args)
    {
        try
        {
            var info = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var arg in args) info.ArgumentList.Add(arg);
            using var process = Process.Start(info)!;
            await process.WaitForExitAsync();
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    private static void WriteTone(string path)
    {
        const int rate = 48000, seconds = 6;
        using var writer = new BinaryWriter(File.Create(path));
        int samples = rate * seconds;
        writer.Write("RIFF"u8); writer.Write(36 + samples * 2); writer.Write("WAVE"u8);
        writer.Write("fmt "u8); writer.Write(16); writer.Write((short)1); writer.Write((short)1);
        writer.Write(rate); writer.Write(rate * 2); writer.Write((short)2); writer.Write((short)16);
        writer.Write("data"u8); writer.Write(samples * 2);
        for (int i = 0; i < samples; i++)
        {
            double t = (double)i / rate, syllable = 0.5 + 0.5 * Math.Sin(2 * Math.PI * 3 * t);
            double voice = Math.Sin(2 * Math.PI * 140 * t) + 0.5 * Math.Sin(2 * Math.PI * 280 * t) + 0.3 * Math.Sin(2 * Math.PI * 700 * t);
            writer.Write((short)(voice * syllable * 9000));
        }
    }

    internal static async Task WaitForAsync(IBrowserPage page, string condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var value = await page.EvaluateAsync($"!!(window.akkavoice && ({condition}))");
            if (value.ValueKind == JsonValueKind.True) return;
            if (DateTime.UtcNow > deadline)
            {
                var state = await page.EvaluateAsync("JSON.stringify(window.akkavoice) + ' ' + document.getElementById('problem')?.textContent");
                throw new TimeoutException($"page never satisfied {condition}; state: {state}");
            }
            await Task.Delay(200);
        }
    }
}
