using System.Buffers;
using System.Net.WebSockets;
using System.Text.Unicode;
using Microsoft.AspNetCore.Connections;
using AkkaVoice.Cluster.Connections;
using AkkaVoice.Protocol;

namespace AkkaVoice.Server;

/// <summary>
/// Pumps one WebSocket: a reader that checks sizes and UTF-8 and hands messages to the <see cref="Session"/>,
/// and one writer that drains the session's bounded outbound queue. A close asked for by either side, a
/// limit, or the node's shutdown ends both.
/// </summary>
public sealed partial class SocketConnection
{
    private TimeSpan CloseGrace => limits.CloseGrace;

    private readonly WebSocket socket;
    private readonly SharedWriteStream stream;
    private readonly Limits limits;
    private readonly ILogger logger;
    private readonly TaskCompletionSource completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource abort = new();
    private bool failedByWebSocket;

    /// <param name="stream">The stream under <paramref name="socket"/>: the writer sends its frames on it directly.</param>
    public SocketConnection(WebSocket socket, SharedWriteStream stream, Session session, ILogger logger)
    {
        this.socket = socket;
        this.stream = stream;
        Session = session;
        this.logger = logger;
        limits = session.Node.Settings.Limits;
    }

    public Session Session { get; }

    /// <summary>Completes when the socket is closed and the session is gone.</summary>
    public Task Completion => completion.Task;

    public async Task RunAsync()
    {
        var outbound = Session.Outbound;
        outbound.Attach(new SocketSink(stream, abort.Token));
        var closer = CloseWhenAskedAsync();
        try
        {
            await ReadLoopAsync();
            // The client closed, or a limit asked for a close: either way the closer sends the close frame.
            outbound.RequestClose((int)WebSocketCloseStatus.NormalClosure, "closing");
            if (await Task.WhenAny(closer, Task.Delay(CloseGrace)) != closer) socket.Abort();
            await closer;
            await AwaitPeerCloseAsync();
        }
        finally
        {
            abort.Cancel();
            // A socket that sent its close frame is disposed gracefully, so the frame is flushed before the TCP close.
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived) socket.Abort();
            Session.Close();
            var close = outbound.CloseRequest;
            LogClosed(Session.Id, Session.User, close?.Code ?? 0, close?.Reason ?? "socket gone");
            completion.TrySetResult();
        }
        // The WebSocket failed the connection on its own (invalid UTF-8 in a text message: 1007; a framing error: 1002):
        // it has sent its close frame and aborted. Tearing the TCP connection down at once resets it, and the peer
        // loses that close frame unread; hold the connection for the grace period, as a close of our own does.
        if (failedByWebSocket) await Task.Delay(CloseGrace);
    }

    /// <summary>Once a close is asked for (by the reader, a limit, or the node), lets the last write finish and sends the close frame.</summary>
    private async Task CloseWhenAskedAsync()
    {
        var outbound = Session.Outbound;
        await outbound.Closing;
        // Whoever asked for the close, the socket is gone within two grace periods even if the peer never answers.
        abort.CancelAfter(CloseGrace * 2);
        try
        {
            await outbound.StopWritingAsync().WaitAsync(CloseGrace, abort.Token);
            if (outbound.CloseRequest is { } close) await CloseAsync(close.Code, close.Reason);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ConnectionAbortedException or TimeoutException)
        {
        }
    }

    private async Task ReadLoopAsync()
    {
        int textLimit = limits.MaxTextMessageBytes;
        int binaryLimit = VoiceFrames.ClientHeaderSize + limits.MaxFramePayload;
        try
        {
            while (Session.Outbound.CloseRequest is null)
            {
                // Flow control: while the connection's answers are backed up, read nothing more from it.
                while (Session.Outbound.ReadPaused) await Session.Outbound.TextDrained.WaitAsync().AsTask().WaitAsync(abort.Token);
                // Wait for a message without holding a buffer: idle connections cost no receive memory.
                var first = await socket.ReceiveAsync(Memory<byte>.Empty, abort.Token);
                if (first.MessageType == WebSocketMessageType.Close) return;
                if (first.EndOfMessage)
                {
                    Dispatch(first.MessageType, []);
                    continue;
                }

                int limit = first.MessageType == WebSocketMessageType.Text ? textLimit : binaryLimit;
                var buffer = ArrayPool<byte>.Shared.Rent(limit + 1);
                try
                {
                    int count = 0;
                    while (true)
                    {
                        var r = await socket.ReceiveAsync(buffer.AsMemory(count), abort.Token);
                        if (r.MessageType == WebSocketMessageType.Close) return;
                        count += r.Count;
                        if (count > limit)
                        {
                            Session.Outbound.RequestClose((int)WebSocketCloseStatus.MessageTooBig,
                                first.MessageType == WebSocketMessageType.Text
                                    ? $"text message larger than {textLimit} bytes"
                                    : $"voice frame payload larger than {limits.MaxFramePayload} bytes");
                            return;
                        }
                        if (r.EndOfMessage) break;
                    }
                    if (!Dispatch(first.MessageType, buffer.AsSpan(0, count))) return;
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ConnectionAbortedException)
        {
            // The peer vanished or the keep-alive gave up on it: a normal end for a socket.
            failedByWebSocket = e is WebSocketException { WebSocketErrorCode: WebSocketError.Faulted };
        }
    }

    /// <summary>Hands one whole message to the session; false when it must end the connection.</summary>
    private bool Dispatch(WebSocketMessageType type, ReadOnlySpan<byte> message)
    {
        if (type == WebSocketMessageType.Binary)
        {
            Session.OnBinary(message);
            return true;
        }
        if (!Utf8.IsValid(message))
        {
            Session.Outbound.RequestClose((int)WebSocketCloseStatus.InvalidPayloadData, "text message is not valid UTF-8");
            return false;
        }
        Session.OnText(message);
        return true;
    }

    /// <summary>After our close frame, reads (and discards) until the peer's close frame, so ours is not lost to a reset.</summary>
    private async Task AwaitPeerCloseAsync()
    {
        if (socket.State != WebSocketState.CloseSent) return;
        using var timeout = new CancellationTokenSource(CloseGrace);
        var discard = new byte[256];
        try
        {
            while ((await socket.ReceiveAsync(discard.AsMemory(), timeout.Token)).MessageType != WebSocketMessageType.Close)
            {
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ConnectionAbortedException)
        {
        }
    }

    private async Task CloseAsync(int code, string reason)
    {
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived)) return;
        // A receiver stuck with a full TCP window cannot take the close frame either; give up after a grace period.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(abort.Token);
        timeout.CancelAfter(CloseGrace);
        await socket.CloseOutputAsync((WebSocketCloseStatus)code, reason, timeout.Token);
    }

    /// <summary>
    /// The socket as the outbound queue's sink: messages framed into one pooled buffer (<see cref="FrameBatch"/>)
    /// and sent in one write on the stream under the WebSocket. The WebSocket keeps the reading side,
    /// control frames and the close handshake.
    /// </summary>
    private sealed class SocketSink(SharedWriteStream stream, CancellationToken abort) : IOutboundSink
    {
        private readonly FrameBatch batch = new();

        public bool TryAdd(in OutboundItem item) => item.Membership is { } m
            ? batch.TryAddVoice(m.Slot, item.Speaker, item.Bytes)
            : batch.TryAddText(item.Bytes);

        public ValueTask FlushAsync()
        {
            var write = stream.WriteAsync(batch.Written, abort);
            if (!write.IsCompletedSuccessfully) return ClearAfterAsync(write);
            batch.Clear();
            return default;
        }

        private async ValueTask ClearAfterAsync(ValueTask write)
        {
            await write;
            batch.Clear();
        }

        public void Idle() => batch.Release();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connection {Session} of {User} closed (code {Code}: {Reason})")]
    private partial void LogClosed(string session, string user, int code, string reason);
}
