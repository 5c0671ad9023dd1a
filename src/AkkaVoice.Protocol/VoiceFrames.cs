using System.Buffers.Binary;

namespace AkkaVoice.Protocol;

/// <summary>
/// The binary voice frame layout (PROTOCOL.md section 3). Client to server: <c>[slot u8][payload]</c>.
/// Server to client: <c>[slot u8][member u32 big-endian][payload]</c>. The payload is never read.
/// </summary>
public static class VoiceFrames
{
    /// <summary>Bytes before the payload in a frame the server sends.</summary>
    public const int ServerHeaderSize = 5;

    /// <summary>Bytes before the payload in a frame a client sends.</summary>
    public const int ClientHeaderSize = 1;

    /// <summary>Splits a client frame; false when it carries no payload.</summary>
    public static bool TryReadClientFrame(ReadOnlySpan<byte> frame, out byte slot, out ReadOnlySpan<byte> payload)
    {
        if (frame.Length <= ClientHeaderSize)
        {
            slot = frame.IsEmpty ? (byte)0 : frame[0];
            payload = default;
            return false;
        }
        slot = frame[0];
        payload = frame[ClientHeaderSize..];
        return true;
    }

    /// <summary>Writes a server frame into <paramref name="destination"/> and returns its length.</summary>
    public static int WriteServerFrame(Span<byte> destination, byte slot, uint member, ReadOnlySpan<byte> payload)
    {
        destination[0] = slot;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], member);
        payload.CopyTo(destination[ServerHeaderSize..]);
        return ServerHeaderSize + payload.Length;
    }

    /// <summary>Writes a client frame into <paramref name="destination"/> and returns its length.</summary>
    public static int WriteClientFrame(Span<byte> destination, byte slot, ReadOnlySpan<byte> payload)
    {
        destination[0] = slot;
        payload.CopyTo(destination[ClientHeaderSize..]);
        return ClientHeaderSize + payload.Length;
    }

    /// <summary>Splits a server frame; false when it is shorter than its header plus one byte.</summary>
    public static bool TryReadServerFrame(ReadOnlySpan<byte> frame, out byte slot, out uint member, out ReadOnlySpan<byte> payload)
    {
        if (frame.Length <= ServerHeaderSize)
        {
            slot = 0; member = 0; payload = default;
            return false;
        }
        slot = frame[0];
        member = BinaryPrimitives.ReadUInt32BigEndian(frame[1..]);
        payload = frame[ServerHeaderSize..];
        return true;
    }
}
