using System.Buffers.Binary;
using System.Diagnostics;
using AkkaVoice.Client;
using Xunit;

namespace AkkaVoice.IntegrationTests.Support;

/// <summary>Assertions and small protocol steps on top of <see cref="VoiceClient"/>.</summary>
public static class ClientExtensions
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static int pings;

    /// <summary>Sends <c>ping</c> with a fresh ref and returns every text message that came before its <c>pong</c>.</summary>
    public static async Task<List<TextEvent>> TextsUntilPongAsync(this VoiceClient client)
    {
        var reference = "alive-" + Interlocked.Increment(ref pings);
        await client.SendAsync(new { type = "ping", @ref = reference });
        var before = new List<TextEvent>();
        while (true)
        {
            var t = await client.NextTextAsync(Patience);
            if (t.Type == "pong" && t.Str("ref") == reference) return before;
            before.Add(t);
        }
    }

    /// <summary>Proves the connection is still open and served: a ping gets its pong.</summary>
    public static async Task AssertAliveAsync(this VoiceClient client) => await client.TextsUntilPongAsync();

    /// <summary>The next text message, which must be an error with <paramref name="code"/> (and the given ref, when one is given).</summary>
    public static async Task<TextEvent> ExpectErrorAsync(this VoiceClient client, string code, string? reference = null)
    {
        var t = await client.NextTextAsync(Patience);
        Assert.True(t.Type == "error", $"expected error {code}, got {t.Raw}");
        Assert.True(t.Str("code") == code, $"expected error {code}, got {t.Raw}");
        Assert.False(string.IsNullOrEmpty(t.Str("message")), $"an error carries a message: {t.Raw}");
        if (reference is not null) Assert.Equal(reference, t.Str("ref"));
        return t;
    }

    /// <summary>The next text message, which must be of <paramref name="type"/>.</summary>
    public static async Task<TextEvent> NextOfTypeAsync(this VoiceClient client, string type)
    {
        var t = await client.NextTextAsync(Patience);
        Assert.True(t.Type == type, $"expected {type}, got {t.Raw}");
        return t;
    }

    /// <summary>Joins and returns <c>joined</c>, failing on anything else first.</summary>
    public static async Task<TextEvent> JoinStrictAsync(this VoiceClient client, string room, string? reference = null)
    {
        await client.SendAsync(reference is null ? new { type = "join", room } : new { type = "join", room, @ref = reference });
        return await client.NextOfTypeAsync("joined");
    }

    /// <summary>Reads until the server closes the connection (or it breaks), skipping everything else.</summary>
    public static async Task<ClosedEvent> WaitClosedAsync(this VoiceClient client, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        var limit = timeout ?? Patience;
        while (true)
        {
            var left = limit - deadline.Elapsed;
            if (left <= TimeSpan.Zero) throw new TimeoutException($"the connection was not closed within {limit}");
            if (await client.ReceiveAsync(left) is ClosedEvent c) return c;
        }
    }

    /// <summary>The next voice frame, skipping text; fails on a close.</summary>
    public static async Task<FrameEvent> NextFrameAsync(this VoiceClient client, TimeSpan? timeout = null)
    {
        var watch = Stopwatch.StartNew();
        var limit = timeout ?? Patience;
        while (true)
        {
            var left = limit - watch.Elapsed;
            if (left <= TimeSpan.Zero) throw new TimeoutException($"no voice frame within {limit}");
            switch (await client.ReceiveAsync(left))
            {
                case FrameEvent f: return f;
                case ClosedEvent c: throw new InvalidOperationException($"connection closed ({c.Status}: {c.Reason}) while waiting for a frame");
            }
        }
    }

    /// <summary>Every event that arrives within <paramref name="window"/>: for checking that something does not happen.</summary>
    public static async Task<List<ServerEvent>> CollectAsync(this VoiceClient client, TimeSpan window)
    {
        var all = new List<ServerEvent>();
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var left = window - watch.Elapsed;
            if (left <= TimeSpan.Zero) return all;
            try
            {
                var e = await client.ReceiveAsync(left);
                all.Add(e);
                if (e is ClosedEvent) return all;
            }
            catch (TimeoutException)
            {
                return all;
            }
        }
    }

    /// <summary>A payload that carries a sequence number in its first four bytes and is <paramref name="size"/> bytes long.</summary>
    public static byte[] Numbered(int n, int size = 20)
    {
        var payload = new byte[Math.Max(size, 4)];
        BinaryPrimitives.WriteInt32BigEndian(payload, n);
        for (int i = 4; i < payload.Length; i++) payload[i] = (byte)(n + i);
        return payload;
    }

    /// <summary>The sequence number <see cref="Numbered"/> wrote.</summary>
    public static int NumberOf(FrameEvent frame) => BinaryPrimitives.ReadInt32BigEndian(frame.Payload);
}
