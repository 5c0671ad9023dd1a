using AkkaVoice.Cluster.Rooms;
using AkkaVoice.Protocol;
using static AkkaVoice.Cluster.Serialization.WireSerializer;

namespace AkkaVoice.Cluster.Serialization;

/// <summary>The binary form of the server API's room messages (RoomApiMessages.cs), written by <see cref="WireSerializer"/>.</summary>
internal static class RoomApiWire
{
    public static bool TryWrite(BinaryWriter w, object message)
    {
        switch (message)
        {
            case GetRoomState g: w.Write(g.Room); break;
            case RoomState s: WriteState(w, s); break;
            case RoomNotFound n: w.Write(n.Room); w.Write(n.Message); break;
            case RoomRefused f: w.Write(f.Room); w.Write(f.Code); w.Write(f.Message); break;
            case ConfigureRoom c:
                w.Write(c.Room); WriteOptional(w, c.Kind); WriteInt(w, c.Seats); WriteOptional(w, c.SeatMode);
                w.Write(c.Hosts is not null);
                if (c.Hosts is not null) WriteStrings(w, c.Hosts);
                WriteInt(w, c.MaxMembers);
                break;
            case DeleteRoom d: w.Write(d.Room); break;
            case RoomDeleted d: w.Write(d.Room); w.Write(d.Existed); break;
            case ListMembers l: w.Write(l.Room); w.Write(l.After); w.Write(l.Limit); break;
            case MemberPage p:
                w.Write(p.Room); w.Write(p.Members.Length);
                foreach (var m in p.Members)
                {
                    w.Write(m.Member); w.Write(m.User); w.Write(m.Role); WriteInt(w, m.Seat); w.Write(m.Muted); w.Write(m.Node);
                }
                w.Write(p.Next.HasValue); w.Write(p.Next ?? 0);
                break;
            case KickUser k: w.Write(k.Room); w.Write(k.User); WriteInt(w, k.Ban); WriteOptional(w, k.Reason); w.Write(k.By); break;
            case MuteUser m: w.Write(m.Room); w.Write(m.User); w.Write(m.Muted); w.Write(m.By); break;
            case UsersAffected a: w.Write(a.Room); w.Write(a.Count); break;
            case SetSeat s: w.Write(s.Room); w.Write(s.Seat); WriteOptional(w, s.User); w.Write(s.Clear); WriteBool(w, s.Locked); w.Write(s.By); break;
            case SystemSay s: w.Write(s.Room); w.Write(s.Text); WriteOptional(w, s.Id); break;
            case SaidSeq s: w.Write(s.Room); w.Write(s.Seq); break;
            default: return false;
        }
        return true;
    }

    public static void WriteSeats(BinaryWriter w, SeatInfo[] seats)
    {
        w.Write(seats.Length);
        foreach (var s in seats)
        {
            w.Write(s.Seat); WriteOptional(w, s.User); w.Write(s.Member); w.Write(s.Locked); w.Write(s.Muted);
        }
    }

    public static SeatInfo[] ReadSeats(BinaryReader r)
    {
        var seats = new SeatInfo[r.ReadInt32()];
        for (int i = 0; i < seats.Length; i++) seats[i] = new SeatInfo(r.ReadInt32(), ReadOptional(r), r.ReadUInt32(), r.ReadBoolean(), r.ReadBoolean());
        return seats;
    }

    private static void WriteState(BinaryWriter w, RoomState s)
    {
        w.Write(s.Room); w.Write(s.Kind); w.Write(s.SeatMode); WriteSeats(w, s.Seats); w.Write(s.SeatsVersion); WriteStrings(w, s.Hosts);
        w.Write(s.MaxMembers); w.Write(s.Members); w.Write(s.Audience); w.Write(s.Speakers); w.Write(s.Home);
    }

    public static RoomState ReadState(BinaryReader r) => new(r.ReadString(), r.ReadString(), r.ReadString(), ReadSeats(r), r.ReadInt64(),
        ReadStrings(r), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadString());

    public static ConfigureRoom ReadConfigure(BinaryReader r)
    {
        var room = r.ReadString();
        var kind = ReadOptional(r);
        var seats = ReadInt(r);
        var mode = ReadOptional(r);
        var hosts = r.ReadBoolean() ? ReadStrings(r) : null;
        return new ConfigureRoom(room, kind, seats, mode, hosts, ReadInt(r));
    }

    public static MemberPage ReadPage(BinaryReader r)
    {
        var room = r.ReadString();
        var members = new MemberEntry[r.ReadInt32()];
        for (int i = 0; i < members.Length; i++)
            members[i] = new MemberEntry(r.ReadUInt32(), r.ReadString(), r.ReadString(), ReadInt(r), r.ReadBoolean(), r.ReadString());
        var hasNext = r.ReadBoolean();
        var next = r.ReadUInt32();
        return new MemberPage(room, members, hasNext ? next : null);
    }

    public static void WriteInt(BinaryWriter w, int? value)
    {
        w.Write(value.HasValue);
        w.Write(value ?? 0);
    }

    public static int? ReadInt(BinaryReader r)
    {
        var has = r.ReadBoolean();
        var value = r.ReadInt32();
        return has ? value : null;
    }

    public static void WriteBool(BinaryWriter w, bool? value) => w.Write((byte)(value switch { null => 0, false => 1, true => 2 }));

    public static bool? ReadBool(BinaryReader r) => r.ReadByte() switch { 0 => null, 1 => false, _ => true };
}
