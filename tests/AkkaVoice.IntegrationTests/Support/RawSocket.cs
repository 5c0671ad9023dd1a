using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace AkkaVoice.IntegrationTests.Support;

/// <summary>
/// A bare <see cref="ClientWebSocket"/>, for what <see cref="AkkaVoice.Client.VoiceClient"/> always does
/// differently: offering other subprotocols, and a client that never reads (with a small TCP receive
/// buffer, so that the server's writes back up after a few kilobytes, as they would for a stalled phone).
/// </summary>
public static class RawSocket
{
    public static async Task<ClientWebSocket> ConnectAsync(Uri uri, string[]? subProtocols = null, int? receiveBufferSize = null)
    {
        var socket = new ClientWebSocket();
        foreach (var p in subProtocols ?? []) socket.Options.AddSubProtocol(p);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        if (receiveBufferSize is not { } size)
        {
            await socket.ConnectAsync(uri, timeout.Token);
            return socket;
        }
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, token) =>
            {
                var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = size };
                try
                {
                    await tcp.ConnectAsync(context.DnsEndPoint, token);
                    return new NetworkStream(tcp, ownsSocket: true);
                }
                catch
                {
                    tcp.Dispose();
                    throw;
                }
            },
        };
        await socket.ConnectAsync(uri, new HttpMessageInvoker(handler), timeout.Token);
        return socket;
    }

    /// <summary>Reads one whole text message and parses it.</summary>
    public static async Task<JsonElement> ReceiveJsonAsync(this ClientWebSocket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[64 * 1024];
        int count = 0;
        ValueWebSocketReceiveResult r;
        do
        {
            r = await socket.ReceiveAsync(buffer.AsMemory(count), timeout.Token);
            count += r.Count;
        } while (!r.EndOfMessage);
        if (r.MessageType != WebSocketMessageType.Text) throw new InvalidOperationException($"expected a text message, got {r.MessageType}");
        return JsonDocument.Parse(Encoding.UTF8.GetString(buffer, 0, count)).RootElement.Clone();
    }

    public static Task SendJsonAsync(this ClientWebSocket socket, object message) =>
        socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(message), WebSocketMessageType.Text, true, CancellationToken.None);

    /// <summary>
    /// Reads and discards everything until the server's close frame or the connection breaking;
    /// returns the close status, or null when the connection was aborted.
    /// </summary>
    public static async Task<WebSocketCloseStatus?> DrainUntilClosedAsync(this ClientWebSocket socket, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var r = await socket.ReceiveAsync(buffer.AsMemory(), cts.Token);
                if (r.MessageType == WebSocketMessageType.Close) return socket.CloseStatus;
            }
        }
        catch (WebSocketException)
        {
            return null;
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the connection was neither closed nor aborted within {timeout}");
        }
    }
}
