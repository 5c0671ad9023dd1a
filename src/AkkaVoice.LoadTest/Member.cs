using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.WebSockets;
using AkkaVoice.Client;

namespace AkkaVoice.LoadTest;

/// <summary>
/// One room member: one WebSocket. Speakers own a send buffer that is rewritten for every frame (the
/// previous send has always completed by then). Every member checks what it receives: per speaker of
/// its room, the highest sequence seen and a 64-frame window of recent ones, so a repeated frame is a
/// duplicate and an older unseen one an order violation.
/// </summary>
public sealed class Member
{
    private readonly LoadRun run;
    private readonly uint[] lastSeq;
    private readonly ulong[] recent;
    private readonly bool[] seen;
    private readonly byte[]? sendBuffer;
    private Task? pending;

    public Member(LoadRun run, Room room, int index, int node, int speakerIndex, int payload, int speakersPerRoom, int shard)
    {
        this.run = run;
        Shard = shard;
        Room = room;
        Index = index;
        Node = node;
        SpeakerIndex = speakerIndex;
        lastSeq = new uint[speakersPerRoom];
        recent = new ulong[speakersPerRoom];
        seen = new bool[speakersPerRoom];
        if (speakerIndex >= 0)
        {
            // [slot][u64 timestamp][u32 speaker][u32 seq][padding]; the padding is written once.
            sendBuffer = new byte[1 + payload];
            for (int i = 1 + LoadOptions.PayloadHeader; i < sendBuffer.Length; i++) sendBuffer[i] = (byte)i;
        }
    }

    public Room Room { get; }
    public int Index { get; }

    /// <summary>The receiver shard of <see cref="Measurement"/> this member records into.</summary>
    public int Shard { get; }
    public int Node { get; }

    /// <summary>Global speaker number (room * speakers + i), or -1 for a listener.</summary>
    public int SpeakerIndex { get; }

    public VoiceClient? Client { get; set; }

    /// <summary>The member's connection with --heal (instead of <see cref="Client"/>).</summary>
    public HealingVoiceClient? Healing { get; set; }
    public byte Slot { get; set; }
    public uint Sequence { get; private set; }

    /// <summary>When this speaker's next frame is due (Stopwatch ticks).</summary>
    public long NextDue { get; set; }

    public bool Open => Healing?.IsConnected ?? Client?.Socket.State == WebSocketState.Open;

    /// <summary>Sends the next frame unless the previous one is still on its way. Called from one sender loop only.</summary>
    public SendOutcome TrySend(Measurement m)
    {
        if (pending is { IsCompleted: false }) return SendOutcome.Busy;
        if (Healing is not null)
        {
            // A healing connection drops frames while it reconnects; it never faults.
            if (!Healing.IsConnected) return SendOutcome.Failed;
        }
        else if (pending is { IsFaulted: true } || Client is null || !Open) return SendOutcome.Failed;
        var buffer = sendBuffer!;
        long now = Stopwatch.GetTimestamp();
        buffer[0] = Slot;
        BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(1), now);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(9), (uint)SpeakerIndex);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(13), ++Sequence);
        m.OnSent(now, Room.Joined - 1);
        pending = Healing is not null ? Healing.SendRawFrameAsync(buffer) : Client!.SendAsync(buffer, WebSocketMessageType.Binary);
        return SendOutcome.Sent;
    }

    /// <summary>The reader callback: runs on this connection's reader, one frame at a time, so the per-speaker state needs no lock.</summary>
    public void OnFrame(FrameEvent frame)
    {
        long now = Stopwatch.GetTimestamp();
        var m = run.Current;
        if (m is null) return;
        var p = frame.Payload;
        if (p.Length < LoadOptions.PayloadHeader)
        {
            m.OnReceived(Shard, Measurement.Arrival.Malformed, 0, now);
            return;
        }
        long sentAt = BinaryPrimitives.ReadInt64LittleEndian(p);
        int speaker = (int)BinaryPrimitives.ReadUInt32LittleEndian(p.AsSpan(8)) - Room.FirstSpeaker;
        uint seq = BinaryPrimitives.ReadUInt32LittleEndian(p.AsSpan(12));
        if ((uint)speaker >= (uint)lastSeq.Length)
        {
            m.OnReceived(Shard, Measurement.Arrival.Foreign, sentAt, now);
            return;
        }
        m.OnReceived(Shard, Classify(speaker, seq), sentAt, now);
    }

    /// <summary>New (the newest so far), Late (older than the newest, not seen before) or Duplicate (seen before).</summary>
    private Measurement.Arrival Classify(int speaker, uint seq)
    {
        if (!seen[speaker] || seq > lastSeq[speaker])
        {
            uint shift = seen[speaker] ? seq - lastSeq[speaker] : 64;
            recent[speaker] = shift >= 64 ? 1UL : (recent[speaker] << (int)shift) | 1UL;
            lastSeq[speaker] = seq;
            seen[speaker] = true;
            return Measurement.Arrival.New;
        }
        uint back = lastSeq[speaker] - seq;
        if (back < 64 && (recent[speaker] & (1UL << (int)back)) != 0) return Measurement.Arrival.Duplicate;
        if (back < 64) recent[speaker] |= 1UL << (int)back;
        return Measurement.Arrival.Late;
    }
}

public enum SendOutcome
{
    Sent,
    Busy,
    Failed,
}

/// <summary>One room of the load: its id, its members, and how many joined.</summary>
public sealed class Room(int index, string id, int firstSpeaker)
{
    private int joined;

    public int Index { get; } = index;
    public string Id { get; } = id;

    /// <summary>Global speaker number of this room's first speaker.</summary>
    public int FirstSpeaker { get; } = firstSpeaker;

    public List<Member> Members { get; } = [];

    /// <summary>Members whose join was answered; a speaker's frame should reach all of them but itself.</summary>
    public int Joined => Volatile.Read(ref joined);

    public void OnJoined() => Interlocked.Increment(ref joined);
}
