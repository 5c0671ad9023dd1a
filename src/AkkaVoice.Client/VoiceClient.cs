using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using AkkaVoice.Protocol;

namespace AkkaVoice.Client;

/// <summary>Something the server sent: a text message (parsed JSON), a voice frame, or the close.</summary>
public abstract record ServerEvent;

/// <summary>A text message; <see cref="Type"/> is its <c>type</c> field.</summary>
public sealed record TextEvent(string Type, JsonElement Json, string Raw) : ServerEvent
{
    public string? Str(string name) => Json.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    public long Num(string name) => Json.GetProperty(name).GetInt64();
}

/// <summary>A voice frame: the receiver's slot, the speaker's member id and the payload.</summary>
public sealed record FrameEvent(byte Slot, uint Member, byte[] Payload) : ServerEvent;

/// <summary>The server closed the connection (or it broke: status null).</summary>
public sealed record ClosedEvent(WebSocketCloseStatus? Status, string? Reason) : ServerEvent;

/// <summary>
/// A small client for the AkkaVoice protocol: connect, send text commands and voice frames, and read
/// what the server sends as typed events, in order. Used by the load generator and the tests.
/// </summary>
public sealed class VoiceClient : IAsyncDisposable
{
    private readonly ClientWebSocket socket;
    private readonly Channel<ServerEvent> events = Channel.CreateUnbounded<ServerEvent>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly SemaphoreSlim sendLock = new(1, 1);
    private readonly Task reader;
    private readonly bool keepFrames;

    private VoiceClient(ClientWebSocket socket, bool keepFrames, Action<FrameEvent>? onFrame)
    {
        this.socket = socket;
        this.keepFrames = keepFrames;
        OnFrame = onFrame;
        reader = Task.Run(ReadLoopAsync);
    }

    /// <summary>Called on the reader's thread for each voice frame (before it is queued, when frames are kept).</summary>
    public Action<FrameEvent>? OnFrame { get; }

    public WebSocket Socket => socket;

    /// <summary>Opens <paramref name="uri"/> (an <c>ws://host:port/ws?...</c> address) offering <c>akkavoice.v1</c>.</summary>
    public static async Task<VoiceClient> ConnectAsync(Uri uri, string? bearer = null, string? origin = null,
        bool keepFrames = true, Action<FrameEvent>? onFrame = null, CancellationToken cancellationToken = default)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("akkavoice.v1");
        if (bearer is not null) socket.Options.SetRequestHeader("Authorization", "Bearer " + bearer);
        if (origin is not null) socket.Options.SetRequestHeader("Origin", origin);
        await socket.ConnectAsync(uri, cancellationToken);
        return new VoiceClient(socket, keepFrames, onFrame);
    }

    /// <summary>Sends one text message as it is.</summary>
    public Task SendTextAsync(string json) => SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text);

    /// <summary>Sends a command object serialized as JSON.</summary>
    public Task SendAsync(object command) => SendAsync(JsonSerializer.SerializeToUtf8Bytes(command), WebSocketMessageType.Text);

    /// <summary>Sends one voice frame: the slot byte, then the payload.</summary>
    public async Task SendFrameAsync(byte slot, ReadOnlyMemory<byte> payload)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(payload.Length + 1);
        try
        {
            int n = VoiceFrames.WriteClientFrame(buffer, slot, payload.Span);
            await SendAsync(buffer.AsMemory(0, n), WebSocketMessageType.Binary);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Sends raw bytes as one message of the given type.</summary>
    public async Task SendAsync(ReadOnlyMemory<byte> bytes, WebSocketMessageType type)
    {
        await sendLock.WaitAsync();
        try
        {
            await socket.SendAsync(bytes, type, true, CancellationToken.None);
        }
        finally
        {
            sendLock.Release();
        }
    }

    /// <summary>The next event, or a <see cref="TimeoutException"/>.</summary>
    public async Task<ServerEvent> ReceiveAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            return await events.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"nothing received within {timeout}");
        }
        catch (ChannelClosedException)
        {
            throw new InvalidOperationException("the connection has ended and every event was read");
        }
    }

    /// <summary>The next text message, skipping voice frames; fails on a close.</summary>
    public async Task<TextEvent> NextTextAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            var e = await ReceiveAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero);
            switch (e)
            {
                case TextEvent t: return t;
                case ClosedEvent c: throw new InvalidOperationException($"connection closed ({c.Status}: {c.Reason}) while waiting for a text message");
            }
        }
    }

    /// <summary>Reads text messages until one of <paramref name="type"/> arrives.</summary>
    public async Task<TextEvent> ExpectAsync(string type, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) throw new TimeoutException($"no '{type}' within {timeout ?? TimeSpan.FromSeconds(10)}");
            var t = await NextTextAsync(left);
            if (t.Type == type) return t;
        }
    }

    /// <summary>Joins a room and returns the <c>joined</c> message.</summary>
    public async Task<TextEvent> JoinAsync(string room, long? since = null)
    {
        await SendAsync(since is null ? new { type = "join", room } : new { type = "join", room, since });
        return await ExpectAsync("joined");
    }

    public Task CloseAsync(WebSocketCloseStatus status = WebSocketCloseStatus.NormalClosure) =>
        socket.CloseOutputAsync(status, "bye", CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (socket.State == WebSocketState.Open)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", cts.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
        }
        socket.Abort();
        try { await reader; } catch (Exception) { }
        socket.Dispose();
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                int count = 0;
                ValueWebSocketReceiveResult r;
                do
                {
                    if (count == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
                    r = await socket.ReceiveAsync(buffer.AsMemory(count), CancellationToken.None);
                    count += r.Count;
                } while (!r.EndOfMessage && r.MessageType != WebSocketMessageType.Close);

                if (r.MessageType == WebSocketMessageType.Close)
                {
                    events.Writer.TryWrite(new ClosedEvent(socket.CloseStatus, socket.CloseStatusDescription));
                    // Complete the closing handshake, as RFC 6455 asks, so the server need not wait for it.
                    if (socket.State == WebSocketState.CloseReceived)
                        await socket.CloseOutputAsync(socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    return;
                }
                if (r.MessageType == WebSocketMessageType.Binary)
                {
                    if (!VoiceFrames.TryReadServerFrame(buffer.AsSpan(0, count), out var slot, out var member, out var payload)) continue;
                    var frame = new FrameEvent(slot, member, payload.ToArray());
                    OnFrame?.Invoke(frame);
                    if (keepFrames) events.Writer.TryWrite(frame);
                    continue;
                }
                var raw = Encoding.UTF8.GetString(buffer, 0, count);
                var json = JsonDocument.Parse(raw).RootElement.Clone();
                var type = json.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "";
                events.Writer.TryWrite(new TextEvent(type, json, raw));
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            events.Writer.TryWrite(new ClosedEvent(socket.CloseStatus, socket.CloseStatusDescription ?? e.Message));
        }
        finally
        {
            events.Writer.TryComplete();
        }
    }
}
