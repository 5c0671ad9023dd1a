using AkkaVoice.Protocol;
using Xunit;

namespace AkkaVoice.Tests.Protocol;

public sealed class VoiceFramesTests
{
    private static byte[] EveryByteValue(int length) => Enumerable.Range(0, length).Select(i => (byte)(i * 7 + 3)).ToArray();

    [Fact]
    public void An_empty_client_frame_has_no_payload()
    {
        Assert.False(VoiceFrames.TryReadClientFrame([], out _, out var payload));
        Assert.True(payload.IsEmpty);
    }

    [Fact]
    public void A_one_byte_client_frame_is_a_slot_without_payload()
    {
        Assert.False(VoiceFrames.TryReadClientFrame([9], out var slot, out var payload));
        Assert.Equal(9, slot);
        Assert.True(payload.IsEmpty);
    }

    [Fact]
    public void A_two_byte_client_frame_is_a_slot_and_a_one_byte_payload()
    {
        Assert.True(VoiceFrames.TryReadClientFrame([3, 0xAB], out var slot, out var payload));
        Assert.Equal(3, slot);
        Assert.Equal(new byte[] { 0xAB }, payload.ToArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(128)]
    [InlineData(255)]
    public void Every_slot_from_0_to_255_is_read(byte slot)
    {
        Assert.True(VoiceFrames.TryReadClientFrame([slot, 1, 2], out var read, out _));
        Assert.Equal(slot, read);
    }

    [Fact]
    public void A_client_frame_payload_is_the_rest_of_the_frame_itself_not_a_copy()
    {
        var frame = new byte[1 + 1500];
        frame[0] = 255;
        EveryByteValue(1500).CopyTo(frame, 1);
        Assert.True(VoiceFrames.TryReadClientFrame(frame, out var slot, out var payload));
        Assert.Equal(255, slot);
        Assert.Equal(EveryByteValue(1500), payload.ToArray());
        Assert.True(payload.Overlaps(frame.AsSpan(1), out int offset) && offset == 0);
    }

    [Fact]
    public void A_client_frame_written_is_read_back()
    {
        var payload = EveryByteValue(300);
        var buffer = new byte[VoiceFrames.ClientHeaderSize + payload.Length];
        Assert.Equal(buffer.Length, VoiceFrames.WriteClientFrame(buffer, 17, payload));
        Assert.True(VoiceFrames.TryReadClientFrame(buffer, out var slot, out var read));
        Assert.Equal(17, slot);
        Assert.Equal(payload, read.ToArray());
    }

    [Fact]
    public void A_server_frame_has_the_slot_then_the_member_big_endian_then_the_payload()
    {
        var buffer = new byte[64];
        int length = VoiceFrames.WriteServerFrame(buffer, 0xFE, 0x01020304, [0xAA, 0xBB, 0xCC]);
        Assert.Equal(8, length);
        Assert.Equal(new byte[] { 0xFE, 0x01, 0x02, 0x03, 0x04, 0xAA, 0xBB, 0xCC }, buffer[..length]);
        Assert.All(buffer[length..], b => Assert.Equal(0, b));
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(1u)]
    [InlineData(0x01020304u)]
    [InlineData(0x80000000u)]
    [InlineData(uint.MaxValue)]
    public void A_server_frame_written_is_read_back(uint member)
    {
        var payload = EveryByteValue(1500);
        var original = payload.ToArray();
        var buffer = new byte[VoiceFrames.ServerHeaderSize + payload.Length];
        Assert.Equal(buffer.Length, VoiceFrames.WriteServerFrame(buffer, 200, member, payload));
        Assert.Equal(original, payload);
        Assert.True(VoiceFrames.TryReadServerFrame(buffer, out var slot, out var readMember, out var readPayload));
        Assert.Equal(200, slot);
        Assert.Equal(member, readMember);
        Assert.Equal(original, readPayload.ToArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(5)]
    public void A_server_frame_without_payload_is_not_read(int length)
    {
        Assert.False(VoiceFrames.TryReadServerFrame(new byte[length], out _, out _, out var payload));
        Assert.True(payload.IsEmpty);
    }

    [Fact]
    public void The_header_sizes_are_those_of_the_contract()
    {
        Assert.Equal(1, VoiceFrames.ClientHeaderSize);
        Assert.Equal(5, VoiceFrames.ServerHeaderSize);
    }
}
