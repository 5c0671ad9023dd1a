using System.Diagnostics;
using System.Net.WebSockets;
using System.Text.Json;

namespace AkkaVoice.IntegrationTests.Support;

/// <summary>
/// What the two headless browsers' remote protocols (Chromium's DevTools, Firefox's WebDriver BiDi) share: a JSON
/// request out, one whole JSON message in, and the browser process with its profile gone at the end.
/// </summary>
internal static class BrowserProtocol
{
    public static Task SendAsync(WebSocket socket, int id, string method, object parameters) =>
        socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(new { id, method, @params = parameters }), WebSocketMessageType.Text, true, CancellationToken.None);

    /// <summary>The next whole message, parsed.</summary>
    public static async Task<JsonElement> ReceiveAsync(WebSocket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        using var message = new MemoryStream();
        ValueWebSocketReceiveResult r;
        do
        {
            r = await socket.ReceiveAsync(buffer.AsMemory(), cancellationToken);
            message.Write(buffer, 0, r.Count);
        } while (!r.EndOfMessage);
        return JsonDocument.Parse(message.ToArray()).RootElement;
    }

    /// <summary>Closes the protocol socket, kills the browser's process tree and deletes its profile.</summary>
    public static async Task StopAsync(WebSocket socket, Process process, string profile)
    {
        socket.Abort();
        socket.Dispose();
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
        try { Directory.Delete(profile, recursive: true); } catch (IOException) { }
    }
}
