using System.Net.WebSockets;
using System.Text;
using AkkaVoice.Protocol;
using AkkaVoice.Server;
using Xunit;

namespace AkkaVoice.IntegrationTests;

/// <summary>The writer's own WebSocket framing, read back by .NET's client-side WebSocket.</summary>
public class FrameBatchTests
{
    [Fact]
    public async Task Voice_and_text_frames_read_back_in_order()
    {
        var batch = new FrameBatch();
        Assert.True(batch.TryAddVoice(3, 0xDEADBEEF, [1, 2, 3]));
        Assert.True(batch.TryAddText("{\"type\":\"said\"}"u8));
        Assert.True(batch.TryAddVoice(0, 7, new byte[1500]));

        var messages = await ReadAllAsync(batch.Written.ToArray());

        Assert.Equal(3, messages.Count);
        Assert.Equal(WebSocketMessageType.Binary, messages[0].Type);
        Assert.True(VoiceFrames.TryReadServerFrame(messages[0].Data, out var slot, out var member, out var payload));
        Assert.Equal((3, 0xDEADBEEFu), (slot, member));
        Assert.Equal([1, 2, 3], payload.ToArray());
        Assert.Equal(WebSocketMessageType.Text, messages[1].Type);
        Assert.Equal("{\"type\":\"said\"}", Encoding.UTF8.GetString(messages[1].Data));
        Assert.Equal(VoiceFrames.ServerHeaderSize + 1500, messages[2].Data.Length);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(125)]
    [InlineData(126)]
    [InlineData(65535)]
    [InlineData(65536)]
    [InlineData(200_000)]
    public async Task Every_length_encoding_reads_back(int length)
    {
        var text = Encoding.UTF8.GetBytes(new string('x', length));
        var batch = new FrameBatch();
        Assert.True(batch.TryAddText(text));

        var messages = await ReadAllAsync(batch.Written.ToArray());

        Assert.Equal(text, Assert.Single(messages).Data);
    }

    [Fact]
    public void A_full_batch_refuses_until_cleared_and_a_large_message_gets_a_buffer_of_its_own()
    {
        var batch = new FrameBatch();
        var payload = new byte[1000];
        int added = 0;
        while (batch.TryAddVoice(0, 1, payload)) added++;
        Assert.Equal(FrameBatch.Capacity / (2 + VoiceFrames.ServerHeaderSize + 1000), added);
        Assert.False(batch.TryAddText(new byte[FrameBatch.Capacity]));

        batch.Clear();
        Assert.True(batch.IsEmpty);
        Assert.True(batch.TryAddText(new byte[FrameBatch.Capacity]));
        Assert.Equal(4 + FrameBatch.Capacity, batch.Written.Length);

        batch.Release();
        Assert.True(batch.Written.IsEmpty);
    }

    private static async Task<List<(WebSocketMessageType Type, byte[] Data)>> ReadAllAsync(byte[] wire)
    {
        using var client = WebSocket.CreateFromStream(new MemoryStream(wire), new WebSocketCreationOptions { IsServer = false });
        var messages = new List<(WebSocketMessageType, byte[])>();
        var buffer = new byte[300_000];
        while (true)
        {
            int count = 0;
            ValueWebSocketReceiveResult result;
            try
            {
                do
                {
                    result = await client.ReceiveAsync(buffer.AsMemory(count), CancellationToken.None);
                    count += result.Count;
                } while (!result.EndOfMessage);
            }
            catch (WebSocketException)
            {
                // The stream ended: every whole message has been read.
                return messages;
            }
            messages.Add((result.MessageType, buffer[..count]));
        }
    }
}
