using Microsoft.AspNetCore.Http.Features;

namespace AkkaVoice.Server;

/// <summary>
/// The stream under a connection's WebSocket, written by two parties: the WebSocket itself (pongs, pings,
/// the close frame) and the socket writer, which frames its messages itself and sends a whole drained
/// batch in one write. Every write is one whole number of WebSocket frames; a semaphore keeps them whole.
/// </summary>
public sealed class SharedWriteStream(Stream inner) : Stream
{
    private readonly SemaphoreSlim gate = new(1, 1);

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            await inner.WriteAsync(buffer, cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => inner.Flush();

    public override bool CanRead => inner.CanRead;
    public override bool CanWrite => inner.CanWrite;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync() => inner.DisposeAsync();
}

/// <summary>
/// Stands in for the server's HTTP/1.1 upgrade and HTTP/2 extended CONNECT features, so that an accepted
/// WebSocket runs over a <see cref="SharedWriteStream"/>, which is left in the request's features for the
/// socket writer.
/// </summary>
public sealed class SharedWriteAccept(IFeatureCollection features) : IHttpUpgradeFeature, IHttpExtendedConnectFeature
{
    private readonly IHttpUpgradeFeature? upgrade = features.Get<IHttpUpgradeFeature>();
    private readonly IHttpExtendedConnectFeature? connect = features.Get<IHttpExtendedConnectFeature>();

    /// <summary>Puts itself in the place of the server's features, for a request that can become a WebSocket.</summary>
    public static void Install(IFeatureCollection features)
    {
        var accept = new SharedWriteAccept(features);
        if (accept.upgrade is { IsUpgradableRequest: true }) features.Set<IHttpUpgradeFeature>(accept);
        if (accept.connect is { IsExtendedConnect: true }) features.Set<IHttpExtendedConnectFeature>(accept);
    }

    public bool IsUpgradableRequest => upgrade?.IsUpgradableRequest ?? false;
    public bool IsExtendedConnect => connect?.IsExtendedConnect ?? false;
    public string? Protocol => connect?.Protocol;

    public async Task<Stream> UpgradeAsync() => Share(await upgrade!.UpgradeAsync());

    public async ValueTask<Stream> AcceptAsync() => Share(await connect!.AcceptAsync());

    private SharedWriteStream Share(Stream stream)
    {
        var shared = new SharedWriteStream(stream);
        features.Set(shared);
        return shared;
    }
}
