using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using AkkaVoice.Client;

namespace AkkaVoice.IntegrationTests;

/// <summary>
/// An AkkaVoice node as its own process on loopback (<c>dotnet AkkaVoice.Server.dll</c> with the flags of
/// PROTOCOL.md section 6), for end-to-end tests of a real multi-process cluster.
/// </summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder log = new();

    private NodeProcess(Process process, int httpPort, int akkaPort)
    {
        this.process = process;
        HttpPort = httpPort;
        AkkaPort = akkaPort;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/") };
    }

    public int HttpPort { get; }
    public int AkkaPort { get; }
    public string AkkaAddress => $"akka.tcp://akkavoice@127.0.0.1:{AkkaPort}";
    public HttpClient Http { get; }
    public string Log { get { lock (log) return log.ToString(); } }
    public bool HasExited => process.HasExited;

    /// <summary>The process's resident memory, from /proc.</summary>
    public long RssBytes
    {
        get
        {
            var line = File.ReadLines($"/proc/{process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
    }
    public int ExitCode => process.ExitCode;

    /// <summary>Starts a node on free ports; with <paramref name="seed"/> it joins that node's cluster.</summary>
    public static NodeProcess Start(NodeProcess? seed = null, params string[] extraArgs) => Start(new Dictionary<string, string>(), seed, extraArgs);

    /// <summary>Starts a node with <paramref name="environment"/> (for example <c>AKKAVOICE_*</c> variables) added to its environment.</summary>
    public static NodeProcess Start(IReadOnlyDictionary<string, string> environment, NodeProcess? seed = null, params string[] extraArgs) =>
        StartOn(TestNode.FreePort(), TestNode.FreePort(), environment, seed, [], extraArgs);

    /// <summary>
    /// Starts a node on the given ports (a restart on the same address), run through <paramref name="wrapper"/>
    /// when it is not empty (for example <c>ip netns exec NAME</c>).
    /// </summary>
    public static NodeProcess StartOn(int http, int akka, IReadOnlyDictionary<string, string> environment, NodeProcess? seed,
        IReadOnlyList<string> wrapper, params string[] extraArgs)
    {
        var info = new ProcessStartInfo(wrapper.Count > 0 ? wrapper[0] : "dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in wrapper.Skip(1).Concat(wrapper.Count > 0 ? ["dotnet"] : []))
            info.ArgumentList.Add(arg);
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "AkkaVoice.Server.dll"), "--http-port", http.ToString(), "--akka-port", akka.ToString() })
            info.ArgumentList.Add(arg);
        if (seed is not null)
        {
            info.ArgumentList.Add("--seeds");
            info.ArgumentList.Add(seed.AkkaAddress);
        }
        foreach (var arg in extraArgs) info.ArgumentList.Add(arg);
        info.Environment["AKKAVOICE_ENVIRONMENT_NOTE"] = "e2e";
        foreach (var (name, value) in environment) info.Environment[name] = value;
        var process = Process.Start(info)!;
        var node = new NodeProcess(process, http, akka);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (node.log) node.log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (node.log) node.log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    public async Task WaitReadyAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"node exited with {process.ExitCode}:\n{Log}");
            try
            {
                if ((await Http.GetAsync("readyz")).StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException)
            {
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"node on {HttpPort} not ready:\n{Log}");
            await Task.Delay(100);
        }
    }

    /// <summary>Waits until the node's output holds <paramref name="text"/> (for nodes the test cannot reach over HTTP).</summary>
    public async Task WaitLogAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Log.Contains(text))
        {
            if (process.HasExited) throw new InvalidOperationException($"node exited with {process.ExitCode} before logging '{text}':\n{Log}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"node on {AkkaPort} did not log '{text}' within {timeout}:\n{Log}");
            await Task.Delay(50);
        }
    }

    public Uri Ws(string user) => new($"ws://127.0.0.1:{HttpPort}/ws?user={user}");

    public async Task<VoiceClient> ConnectAsync(string user)
    {
        var client = await VoiceClient.ConnectAsync(Ws(user));
        await client.ExpectAsync("welcome");
        return client;
    }

    /// <summary>SIGTERM: the graceful stop of a rolling update.</summary>
    public void Terminate() => _ = kill(process.Id, 15);

    /// <summary>SIGSTOP: the process freezes with its sockets open, as a stuck VM or a long pause would.</summary>
    public void Pause() => _ = kill(process.Id, 19);

    /// <summary>SIGCONT: a paused process runs on.</summary>
    public void Resume() => _ = kill(process.Id, 18);

    /// <summary>SIGKILL: a crash.</summary>
    public void Kill() => process.Kill();

    public async Task<int> WaitExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cts.Token);
        return process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!process.HasExited)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
        process.Dispose();
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
