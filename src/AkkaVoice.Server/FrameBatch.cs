using System.Buffers;
using System.Buffers.Binary;
using AkkaVoice.Protocol;

namespace AkkaVoice.Server;

/// <summary>
/// Server-to-client WebSocket frames (RFC 6455 section 5.2: final, unmasked, no extensions) laid end to
/// end in one pooled buffer, so a drained queue goes to the socket in one write. A voice frame is encoded
/// straight from the shared payload into the buffer: no copy per receiver besides that one.
/// </summary>
public sealed class FrameBatch
{
    /// <summary>The usual buffer size; one larger message gets a buffer of its own size.</summary>
    public const int Capacity = 16 * 1024;

    private const byte Text = 0x1, Binary = 0x2, Final = 0x80;

    private byte[]? buffer;
    private int count;

    /// <summary>The frames written since the last <see cref="Clear"/>.</summary>
    public ReadOnlyMemory<byte> Written => buffer is null ? ReadOnlyMemory<byte>.Empty : buffer.AsMemory(0, count);

    public bool IsEmpty => count == 0;

    /// <summary>Adds a voice frame; false when it does not fit (send and clear the batch, then add it).</summary>
    public bool TryAddVoice(byte slot, uint speaker, ReadOnlySpan<byte> payload)
    {
        int length = VoiceFrames.ServerHeaderSize + payload.Length;
        if (!TryReserve(length, out var span)) return false;
        int header = WriteHeader(span, Binary, length);
        VoiceFrames.WriteServerFrame(span[header..], slot, speaker, payload);
        count += header + length;
        return true;
    }

    /// <summary>Adds a text message; false when it does not fit (send and clear the batch, then add it).</summary>
    public bool TryAddText(ReadOnlySpan<byte> utf8)
    {
        if (!TryReserve(utf8.Length, out var span)) return false;
        int header = WriteHeader(span, Text, utf8.Length);
        utf8.CopyTo(span[header..]);
        count += header + utf8.Length;
        return true;
    }

    /// <summary>Empties the batch, keeping its buffer.</summary>
    public void Clear() => count = 0;

    /// <summary>Empties the batch and gives its buffer back, so an idle connection holds none.</summary>
    public void Release()
    {
        count = 0;
        if (buffer is null) return;
        ArrayPool<byte>.Shared.Return(buffer);
        buffer = null;
    }

    private bool TryReserve(int messageLength, out Span<byte> span)
    {
        int needed = HeaderSize(messageLength) + messageLength;
        if (buffer is null || (count == 0 && buffer.Length < needed))
        {
            if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
            buffer = ArrayPool<byte>.Shared.Rent(Math.Max(Capacity, needed));
        }
        if (buffer.Length - count < needed)
        {
            span = default;
            return false;
        }
        span = buffer.AsSpan(count, needed);
        return true;
    }

    private static int HeaderSize(int length) => length < 126 ? 2 : length <= ushort.MaxValue ? 4 : 10;

    private static int WriteHeader(Span<byte> destination, byte opcode, int length)
    {
        destination[0] = (byte)(Final | opcode);
        if (length < 126)
        {
            destination[1] = (byte)length;
            return 2;
        }
        if (length <= ushort.MaxValue)
        {
            destination[1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)length);
            return 4;
        }
        destination[1] = 127;
        BinaryPrimitives.WriteUInt64BigEndian(destination[2..], (ulong)length);
        return 10;
    }
}
