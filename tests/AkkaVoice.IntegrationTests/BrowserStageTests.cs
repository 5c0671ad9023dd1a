using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace AkkaVoice.IntegrationTests;

/// <summary>
/// A stage room in the voice app (PROTOCOL.md section 8) in two real browsers, Debian's chromium and
/// firefox-esr, with fake microphones: a host creates a stage, a listener raises a hand and is put on a seat,
/// and only then is its voice heard; the host mutes it (its voice stops) and kicks it.
/// </summary>
[Collection("processes")]
public sealed class BrowserStageTests(ITestOutputHelper output) : IAsyncLifetime
{
    private NodeProcess? node;
    private PulseServer? pulse;
    private readonly List<IBrowserPage> pages = [];
    private string root = "";

    public async Task InitializeAsync()
    {
        root = Directory.CreateTempSubdirectory("akkavoice-stage-app-").FullName;
        if (HeadlessChromium.Executable() is null && HeadlessFirefox.Executable() is null) return;
        node = NodeProcess.Start();
        await node.WaitReadyAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var page in pages) await page.DisposeAsync();
        if (node is not null) await node.DisposeAsync();
        if (pulse is not null) await pulse.DisposeAsync();
        try { Directory.Delete(root, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task In_chromium_a_listener_put_on_a_seat_is_heard_only_then_and_the_host_mutes_and_kicks_it()
    {
        if (HeadlessChromium.Executable() is null)
        {
            output.WriteLine("chromium is not installed (apt-get install chromium): the Chromium stage checks did not run");
            return;
        }
        var speech = Path.Combine(root, "speech.wav");
        await BrowserAppTests.MakeSpeechAsync(speech, output);
        await RunAsync("chromium", async url =>
            (await HeadlessChromium.StartAsync(url,
            [
                "--window-size=1000,700", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                $"--use-file-for-fake-audio-capture={speech}", "--autoplay-policy=no-user-gesture-required",
            ]))!);
    }

    [Fact]
    public async Task In_firefox_a_listener_put_on_a_seat_is_heard_only_then_and_the_host_mutes_and_kicks_it()
    {
        if (HeadlessFirefox.Executable() is null || PulseServer.Executable() is null)
        {
            output.WriteLine("firefox-esr or pulseaudio is not installed (apt-get install firefox-esr pulseaudio): the Firefox stage checks did not run");
            return;
        }
        pulse = await PulseServer.StartAsync();
        await RunAsync("firefox", async url => (await HeadlessFirefox.StartAsync(url, pulse!))!);
    }

    private async Task RunAsync(string browser, Func<string, Task<IBrowserPage>> open)
    {
        var room = $"stage-{browser}";
        var started = DateTime.UtcNow;
        var host = await OpenAsync(open, $"{browser}-host", room, "&stage=4&seatMode=request");
        await WaitAsync(host, "akkavoice.state === 'joined' && akkavoice.kind === 'stage' && akkavoice.role === 'host' && akkavoice.seats.length === 4");
        Assert.Equal(4, (await host.EvaluateAsync("document.querySelectorAll('#seats li').length")).GetInt32());
        Assert.False((await host.EvaluateAsync("document.getElementById('stage-view').hidden")).GetBoolean());

        var listener = await OpenAsync(open, $"{browser}-listener", room, "");
        await WaitAsync(listener, "akkavoice.state === 'joined' && akkavoice.role === 'listener' && akkavoice.seat === null");
        await WaitAsync(host, "akkavoice.audience === 1 && document.getElementById('audience').textContent === '1 listening'");
        var member = (await listener.EvaluateAsync("akkavoice.member")).GetUInt32();

        // In the audience its microphone runs (a second of voice encoded) but nothing is sent or heard.
        await WaitAsync(listener, "akkavoice.captured >= 50", TimeSpan.FromSeconds(20));
        Assert.Equal(0, (await listener.EvaluateAsync("akkavoice.sent")).GetInt32());
        Assert.Equal(0, await HeardAsync(host, member));

        // A hand, through the page's own button; the host puts it on a seat from its list of hands.
        await listener.EvaluateAsync("document.getElementById('raise-hand').click()");
        await WaitAsync(host, $"akkavoice.hands.some(h => h.member === {member}) && document.querySelectorAll('#hands li').length === 1");
        await host.EvaluateAsync("[...document.querySelectorAll('#hands li button')].find(b => b.textContent.startsWith('Put on seat')).click()");
        await WaitAsync(listener, "akkavoice.seat === 0 && akkavoice.role === 'speaker'");
        await WaitAsync(host, $"akkavoice.seats[0].member === {member} && akkavoice.hands.length === 0 && akkavoice.audience === 0");

        // Now its voice is decoded at the host, with energy, and the seat shows it talking.
        await WaitAsync(host, $"(akkavoice.heard[{member}] ?? 0) >= 50 && akkavoice.level > 0.01", TimeSpan.FromSeconds(20));
        await WaitAsync(host, "document.querySelector('#seats li[data-seat=\"0\"]').classList.contains('talking')");
        var level = (await host.EvaluateAsync("akkavoice.level")).GetDouble();
        await host.ScreenshotAsync(Path.Combine(AppContext.BaseDirectory, $"stage-{browser}.png"));

        // Muted by the host: the listener learns it, the seat shows it, and its voice stops.
        await host.EvaluateAsync($"akkavoice.mute({member}, true)");
        await WaitAsync(listener, "akkavoice.muted === true");
        await WaitAsync(host, "akkavoice.seats[0].muted === true");
        var heardAtMute = await HeardAsync(host, member);
        var captured = (await listener.EvaluateAsync("akkavoice.captured")).GetInt32();
        await WaitAsync(listener, $"akkavoice.captured >= {captured + 50}", TimeSpan.FromSeconds(20));
        var heardAfter = await HeardAsync(host, member);
        Assert.True(heardAfter - heardAtMute <= 10, $"heard {heardAfter - heardAtMute} frames after the mute");

        // Kicked: out of the room, with the host's name; the seat is free again.
        await host.EvaluateAsync($"akkavoice.kick('{browser}-listener')");
        await WaitAsync(listener, $"akkavoice.state === 'closed' && akkavoice.kicked && akkavoice.kicked.by === '{browser}-host'");
        await WaitAsync(host, "akkavoice.seats[0].member === undefined || akkavoice.seats[0].member === null");
        output.WriteLine($"{browser}: listener heard once seated (level {level:F3}), {heardAfter - heardAtMute} frames after the mute, whole run {(DateTime.UtcNow - started).TotalSeconds:F1} s");
    }

    private async Task<IBrowserPage> OpenAsync(Func<string, Task<IBrowserPage>> open, string user, string room, string extra)
    {
        var page = await open($"http://127.0.0.1:{node!.HttpPort}/?user={user}&room={room}&autojoin=1{extra}");
        pages.Add(page);
        return page;
    }

    private static async Task<int> HeardAsync(IBrowserPage page, uint member) =>
        (await page.EvaluateAsync($"akkavoice.heard[{member}] ?? 0")).GetInt32();

    private static Task WaitAsync(IBrowserPage page, string condition, TimeSpan? timeout = null) =>
        BrowserAppTests.WaitForAsync(page, condition.Replace("akkavoice.", "window.akkavoice."), timeout);
}
