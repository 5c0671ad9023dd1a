using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using AkkaVoice.Cluster;
using AkkaVoice.Cluster.Connections;
using AkkaVoice.Protocol;

namespace AkkaVoice.Tests.Cluster;

/// <summary>What a test connection received: a text message or a voice frame.</summary>
public abstract record Received;

public sealed record ReceivedText(string Type, JsonElement Json) : Received
{
    public string? Str(string name) => Json.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    public long Num(string name) => Json.GetProperty(name).GetInt64();
}

public sealed record ReceivedFrame(byte Slot, uint Member, byte[] Payload) : Received;

/// <summary>
/// A client connection without a socket: it feeds a real <see cref="Session"/> on a node the way the
/// socket reader does, and is its outbound's sink the way the socket is. Lets multi-node
/// tests exercise the whole path (session, hub, room, relay) in one process.
/// </summary>
public sealed class TestConnection : IAsyncDisposable, IOutboundSink
{
    private readonly Channel<Received> received = Channel.CreateUnbounded<Received>();

    public TestConnection(VoiceNode node, string user, JwtIdentity? identity = null)
    {
        Session = new Session(node, user, identity);
        Session.Outbound.Attach(this);
    }

    public Session Session { get; }

    public int FramesReceived;

    /// <summary>Every text message received, in order, including those the Expect/Next methods skipped.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<ReceivedText> Texts { get; } = new();

    /// <summary>The members of <paramref name="room"/> as this connection has been told: its last joined, then member-joined/left.</summary>
    public HashSet<string> RosterOf(string room)
    {
        var roster = new HashSet<string>();
        foreach (var t in Texts.Where(t => t.Str("room") == room))
        {
            switch (t.Type)
            {
                case "joined":
                    roster = t.Json.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("user").GetString()!).ToHashSet();
                    break;
                case "member-joined":
                    roster.Add(t.Str("user")!);
                    break;
                case "member-left":
                    roster.Remove(t.Str("user")!);
                    break;
            }
        }
        return roster;
    }

    public void Send(string json) => Session.OnText(Encoding.UTF8.GetBytes(json));

    public void SendFrame(byte slot, byte[] payload) => Session.OnBinary([slot, .. payload]);

    public async Task<Received> NextAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        try
        {
            return await received.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"nothing received by {Session.User} within {timeout ?? TimeSpan.FromSeconds(10)}");
        }
    }

    /// <summary>Skips frames and other text until a text message of <paramref name="type"/> arrives.</summary>
    public async Task<ReceivedText> ExpectAsync(string type, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) throw new TimeoutException($"{Session.User} got no '{type}'");
            if (await NextAsync(left) is ReceivedText t && t.Type == type) return t;
        }
    }

    /// <summary>Skips frames and other text until a text message of one of <paramref name="types"/> arrives.</summary>
    public async Task<ReceivedText> ExpectAsyncAny(string[] types, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) throw new TimeoutException($"{Session.User} got none of {string.Join(", ", types)}");
            if (await NextAsync(left) is ReceivedText t && types.Contains(t.Type)) return t;
        }
    }

    /// <summary>The next voice frame, skipping text.</summary>
    public async Task<ReceivedFrame> NextFrameAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) throw new TimeoutException($"{Session.User} got no frame");
            if (await NextAsync(left) is ReceivedFrame f) return f;
        }
    }

    public async Task<ReceivedText> JoinAsync(string room, long? since = null)
    {
        Send(since is null ? $$"""{"type":"join","room":"{{room}}"}""" : $$"""{"type":"join","room":"{{room}}","since":{{since}}}""");
        return await ExpectAsync("joined");
    }

    bool IOutboundSink.TryAdd(in OutboundItem item)
    {
        if (item.Membership is { } m)
        {
            Interlocked.Increment(ref FramesReceived);
            received.Writer.TryWrite(new ReceivedFrame(m.Slot, item.Speaker, item.Bytes));
            return true;
        }
        var json = JsonDocument.Parse(item.Bytes).RootElement.Clone();
        var text = new ReceivedText(json.GetProperty("type").GetString()!, json);
        Texts.Enqueue(text);
        received.Writer.TryWrite(text);
        return true;
    }

    ValueTask IOutboundSink.FlushAsync() => default;

    void IOutboundSink.Idle()
    {
    }

    public ValueTask DisposeAsync()
    {
        Session.Close();
        Session.Outbound.RequestClose(1000, "test over");
        return ValueTask.CompletedTask;
    }
}
