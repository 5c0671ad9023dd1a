using AkkaVoice.Server;
using Xunit;

namespace AkkaVoice.IntegrationTests;

/// <summary>The stream the WebSocket and the socket writer share: each write reaches the connection whole.</summary>
public class SharedWriteStreamTests
{
    /// <summary>Writes each buffer in two halves with a pause between, as a slow connection would.</summary>
    private sealed class SlowStream : MemoryStream
    {
        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int half = buffer.Length / 2;
            Write(buffer.Span[..half]);
            await Task.Delay(1, cancellationToken);
            Write(buffer.Span[half..]);
        }
    }

    [Fact]
    public async Task Concurrent_writes_never_interleave()
    {
        var inner = new SlowStream();
        var shared = new SharedWriteStream(inner);
        const int Writes = 40, Length = 64;

        // Two writers, like the socket writer's batches and the WebSocket's own pongs; each write is one
        // value repeated, so any interleaving shows as a run of the wrong length.
        await Task.WhenAll(Enumerable.Range(0, 2).Select(writer => Task.Run(async () =>
        {
            for (int i = 0; i < Writes; i++)
                await shared.WriteAsync(Enumerable.Repeat((byte)(writer * Writes + i), Length).ToArray());
        })));

        var bytes = inner.ToArray();
        Assert.Equal(2 * Writes * Length, bytes.Length);
        for (int at = 0; at < bytes.Length; at += Length)
            Assert.All(bytes.AsSpan(at, Length).ToArray(), b => Assert.Equal(bytes[at], b));
        Assert.Equal(2 * Writes, Enumerable.Range(0, 2 * Writes).Select(k => bytes[k * Length]).Distinct().Count());
    }
}
