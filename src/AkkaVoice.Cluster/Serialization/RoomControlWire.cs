using AkkaVoice.Cluster.Rooms;
using AkkaVoice.Protocol;
using static AkkaVoice.Cluster.Serialization.RoomApiWire;
using static AkkaVoice.Cluster.Serialization.WireSerializer;

namespace AkkaVoice.Cluster.Serialization;

/// <summary>The binary form of the room-control parts of messages between nodes (section 8), written by <see cref="WireSerializer"/>.</summary>
internal static class RoomControlWire
{
    private enum Command : byte { TakeSeat = 1, LeaveSeat, Hand, Invite, SetSeat, Mute, Kick, Close, Roster }

    public static void WriteCommand(BinaryWriter w, ControlCommand command)
    {
        switch (command)
        {
            case TakeSeatCommand t: w.Write((byte)Command.TakeSeat); WriteInt(w, t.Seat); break;
            case LeaveSeatCommand: w.Write((byte)Command.LeaveSeat); break;
            case HandCommand h: w.Write((byte)Command.Hand); w.Write(h.Raised); break;
            case InviteCommand i: w.Write((byte)Command.Invite); w.Write(i.Member); WriteInt(w, i.Seat); break;
            case SetSeatCommand s:
                w.Write((byte)Command.SetSeat); w.Write(s.Seat); w.Write(s.Member.HasValue); w.Write(s.Member ?? 0); w.Write(s.Clear); WriteBool(w, s.Locked);
                break;
            case MuteCommand m: w.Write((byte)Command.Mute); w.Write(m.Member); w.Write(m.Muted); break;
            case KickCommand k: w.Write((byte)Command.Kick); w.Write(k.User); WriteInt(w, k.Ban); WriteOptional(w, k.Reason); break;
            case CloseCommand: w.Write((byte)Command.Close); break;
            case RosterCommand r: w.Write((byte)Command.Roster); w.Write(r.After); w.Write(r.Limit); break;
            default: throw new ArgumentException($"{command.GetType()} is not a room-control command");
        }
        w.Write(command.Room);
        WriteOptional(w, command.Ref);
    }

    public static ControlCommand ReadCommand(BinaryReader r)
    {
        var kind = (Command)r.ReadByte();
        Func<string, string?, ControlCommand> make = kind switch
        {
            Command.TakeSeat => Make(ReadInt(r), (seat, room, reference) => new TakeSeatCommand(room, seat, reference)),
            Command.LeaveSeat => (room, reference) => new LeaveSeatCommand(room, reference),
            Command.Hand => Make(r.ReadBoolean(), (raised, room, reference) => new HandCommand(room, raised, reference)),
            Command.Invite => Make((r.ReadUInt32(), ReadInt(r)), (x, room, reference) => new InviteCommand(room, x.Item1, x.Item2, reference)),
            Command.SetSeat => ReadSetSeat(r),
            Command.Mute => Make((r.ReadUInt32(), r.ReadBoolean()), (x, room, reference) => new MuteCommand(room, x.Item1, x.Item2, reference)),
            Command.Kick => Make((r.ReadString(), ReadInt(r), ReadOptional(r)), (x, room, reference) => new KickCommand(room, x.Item1, x.Item2, x.Item3, reference)),
            Command.Close => (room, reference) => new CloseCommand(room, reference),
            Command.Roster => Make((r.ReadUInt32(), r.ReadInt32()), (x, room, reference) => new RosterCommand(room, x.Item1, x.Item2, reference)),
            _ => throw new System.Runtime.Serialization.SerializationException($"unknown room-control command {kind}"),
        };
        var roomId = r.ReadString();
        return make(roomId, ReadOptional(r));
    }

    private static Func<string, string?, ControlCommand> Make<T>(T fields, Func<T, string, string?, ControlCommand> make) =>
        (room, reference) => make(fields, room, reference);

    private static Func<string, string?, ControlCommand> ReadSetSeat(BinaryReader r)
    {
        var seat = r.ReadInt32();
        var hasMember = r.ReadBoolean();
        var member = r.ReadUInt32();
        var clear = r.ReadBoolean();
        var locked = ReadBool(r);
        return (room, reference) => new SetSeatCommand(room, seat, hasMember ? member : null, clear, locked, reference);
    }

    public static void WriteVoice(BinaryWriter w, RoomVoice v)
    {
        w.Write(v.Room); w.Write(v.Stage); WriteIds(w, v.Seats); w.Write(v.SeatsVersion); WriteIds(w, v.Muted);
    }

    public static RoomVoice ReadVoice(BinaryReader r) => new(r.ReadString(), r.ReadBoolean(), ReadIds(r), r.ReadInt64(), ReadIds(r));

    public static void WriteView(BinaryWriter w, RoomView v)
    {
        w.Write(v.Kind); w.Write(v.Role); w.Write(v.SeatMode); WriteSeats(w, v.Seats); w.Write(v.SeatsVersion); w.Write(v.Audience);
        w.Write(v.Hands is not null);
        if (v.Hands is not null) WriteMembers(w, v.Hands);
    }

    public static RoomView ReadView(BinaryReader r) =>
        new(r.ReadString(), r.ReadString(), r.ReadString(), ReadSeats(r), r.ReadInt64(), r.ReadInt32(), r.ReadBoolean() ? ReadMembers(r) : null);

    public static void WriteConfig(BinaryWriter w, RoomConfig c)
    {
        w.Write(c.Kind); w.Write(c.Seats); w.Write(c.SeatMode); WriteStrings(w, c.Hosts); WriteInt(w, c.MaxMembers);
        w.Write(c.Bans.Length);
        foreach (var b in c.Bans) { w.Write(b.User); w.Write(b.Until); }
        WriteStrings(w, c.Mutes);
        w.Write(c.Locks.Length);
        foreach (var l in c.Locks) w.Write(l);
        w.Write(c.FromApi); w.Write(c.Expires);
    }

    public static RoomConfig ReadConfig(BinaryReader r)
    {
        var kind = r.ReadString();
        var seats = r.ReadInt32();
        var mode = r.ReadString();
        var hosts = ReadStrings(r);
        var max = ReadInt(r);
        var bans = new Ban[r.ReadInt32()];
        for (int i = 0; i < bans.Length; i++) bans[i] = new Ban(r.ReadString(), r.ReadInt64());
        var mutes = ReadStrings(r);
        var locks = new int[r.ReadInt32()];
        for (int i = 0; i < locks.Length; i++) locks[i] = r.ReadInt32();
        return new RoomConfig(kind, seats, mode, hosts, max, bans, mutes, locks, r.ReadBoolean(), r.ReadInt64());
    }

    private static void WriteIds(BinaryWriter w, uint[] ids)
    {
        w.Write(ids.Length);
        foreach (var id in ids) w.Write(id);
    }

    private static uint[] ReadIds(BinaryReader r)
    {
        var ids = new uint[r.ReadInt32()];
        for (int i = 0; i < ids.Length; i++) ids[i] = r.ReadUInt32();
        return ids;
    }
}
