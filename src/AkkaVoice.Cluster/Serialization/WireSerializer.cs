using System.Buffers.Binary;
using System.Text;
using Akka.Actor;
using Akka.Serialization;
using AkkaVoice.Cluster.Hub;
using AkkaVoice.Cluster.Directory;
using AkkaVoice.Cluster.Rooms;
using AkkaVoice.Cluster.Users;
using AkkaVoice.Protocol;

namespace AkkaVoice.Cluster.Serialization;

/// <summary>
/// The binary serializer for every message that crosses nodes. Voice frames are written by hand into one
/// exact-size array (length-prefixed room id, speaker, payload); the rarer control messages use a
/// BinaryWriter. Never JSON: Akka.Remote's default serializer is far too slow for 50 frames a second per speaker.
/// </summary>
public sealed class WireSerializer : SerializerWithStringManifest
{
    private const string VoiceInManifest = "VI", VoiceOutManifest = "VO", VoiceBatchManifest = "VB", JoinRoomManifest = "JR",
        RejoinRoomManifest = "RR", RoomJoinedManifest = "RJ", RoomRejoinedManifest = "RK", JoinRefusedManifest = "JF",
        LeaveRoomManifest = "LR", SayManifest = "SY", RoomTextManifest = "RT", RosterManifest = "RO", RouteManifest = "RU",
        ProbeManifest = "PR", NoMembersManifest = "NM", GetRoomInfoManifest = "GI", RoomInfoManifest = "RI",
        RegisterManifest = "RG", RegisteredManifest = "UR", UnregisterManifest = "UU", SendDirectManifest = "SD",
        DirectResultManifest = "DR", DirectTextManifest = "DT",
        GetStateManifest = "GS", StateManifest = "ST", NotFoundManifest = "NF", RefusedManifest = "RF", ConfigureManifest = "CR",
        DeleteManifest = "DL", DeletedManifest = "DD", ListMembersManifest = "LM", MemberPageManifest = "MP", KickManifest = "KU",
        MuteManifest = "MU", AffectedManifest = "UA", SetSeatManifest = "SS", SystemSayManifest = "YS", SaidSeqManifest = "SQ",
        VoiceRulesManifest = "VR", ControlManifest = "CQ", NodeTextManifest = "NT", ConfigManifest = "CF", DeadNodeEvidenceManifest = "DN",
        MovingManifest = "MV", MovingSeenManifest = "MS";

    private const string FindUserManifest = "FU", UserNodesManifest = "UN", DirectToUserManifest = "DU", DisconnectUserManifest = "XU",
        ReachedManifest = "CU", ListLocalRoomsManifest = "LL", LocalRoomPageManifest = "LP";

    private static readonly UTF8Encoding Utf8 = new(false, true);

    public WireSerializer(ExtendedActorSystem system) : base(system)
    {
    }

    /// <summary>Fixed id of this serializer in every node's HOCON; changing it breaks rolling updates.</summary>
    public override int Identifier => 7301;

    public override string Manifest(object o) => o switch
    {
        VoiceIn => VoiceInManifest,
        VoiceOut => VoiceOutManifest,
        VoiceBatch => VoiceBatchManifest,
        JoinRoom => JoinRoomManifest,
        RejoinRoom => RejoinRoomManifest,
        RoomJoined => RoomJoinedManifest,
        RoomRejoined => RoomRejoinedManifest,
        JoinRefused => JoinRefusedManifest,
        LeaveRoom => LeaveRoomManifest,
        Say => SayManifest,
        RoomText => RoomTextManifest,
        RosterChanged => RosterManifest,
        RoomRoute => RouteManifest,
        ProbeRoom => ProbeManifest,
        NoMembers => NoMembersManifest,
        RoomMoving => MovingManifest,
        RoomMovingSeen => MovingSeenManifest,
        GetRoomInfo => GetRoomInfoManifest,
        RoomInfo => RoomInfoManifest,
        RegisterUsers => RegisterManifest,
        UsersRegistered => RegisteredManifest,
        UnregisterUser => UnregisterManifest,
        SendDirect => SendDirectManifest,
        DirectResult => DirectResultManifest,
        DirectText => DirectTextManifest,
        FindUser => FindUserManifest,
        UserNodes => UserNodesManifest,
        DirectToUser => DirectToUserManifest,
        DisconnectUser => DisconnectUserManifest,
        ConnectionsReached => ReachedManifest,
        ListLocalRooms => ListLocalRoomsManifest,
        LocalRoomPage => LocalRoomPageManifest,
        GetRoomState => GetStateManifest,
        RoomState => StateManifest,
        RoomNotFound => NotFoundManifest,
        RoomRefused => RefusedManifest,
        ConfigureRoom => ConfigureManifest,
        DeleteRoom => DeleteManifest,
        RoomDeleted => DeletedManifest,
        ListMembers => ListMembersManifest,
        MemberPage => MemberPageManifest,
        KickUser => KickManifest,
        MuteUser => MuteManifest,
        UsersAffected => AffectedManifest,
        SetSeat => SetSeatManifest,
        SystemSay => SystemSayManifest,
        SaidSeq => SaidSeqManifest,
        RoomVoice => VoiceRulesManifest,
        ControlRequest => ControlManifest,
        NodeText => NodeTextManifest,
        RoomConfig => ConfigManifest,
        DeadNodeEvidence => DeadNodeEvidenceManifest,
        _ => throw new ArgumentException($"{o.GetType()} is not a wire message of AkkaVoice"),
    };

    public override byte[] ToBinary(object obj)
    {
        switch (obj)
        {
            case VoiceIn v: return WriteFrame(v.Room, v.Speaker, v.Payload, v.ReceivedAt);
            case VoiceOut v: return WriteFrame(v.Room, v.Speaker, v.Payload, v.ReceivedAt);
            case VoiceBatch b: return WriteBatch(b.Frames);
        }
        using var stream = new MemoryStream(64);
        using (var w = new BinaryWriter(stream, Utf8, leaveOpen: true))
        {
            switch (obj)
            {
                case JoinRoom j:
                    w.Write(j.Room); w.Write(j.Request); w.Write(j.User); WriteRef(w, j.Hub); WriteRef(w, j.Relay);
                    w.Write(j.Member); w.Write(j.Since.HasValue); w.Write(j.Since ?? 0); w.Write(j.LastSeq);
                    w.Write(j.ClaimsHost); w.Write(j.DevMode); w.Write(j.Stage is not null);
                    if (j.Stage is not null) { w.Write(j.Stage.Seats); w.Write(j.Stage.SeatMode); }
                    break;
                case RejoinRoom j:
                    w.Write(j.Room); WriteRef(w, j.Hub); WriteRef(w, j.Relay); WriteMembers(w, j.Members); w.Write(j.LastSeq);
                    WriteMembers(w, j.Peers); w.Write(j.SeatsVersion);
                    break;
                case RoomJoined r:
                    w.Write(r.Room); w.Write(r.Request); w.Write(r.Member); w.Write(r.Seq);
                    WriteMembers(w, r.Members);
                    w.Write(r.Replay.Length);
                    foreach (var b in r.Replay) WriteBytes(w, b);
                    w.Write((byte)(r.Recovered switch { null => 0, false => 1, true => 2 }));
                    RoomControlWire.WriteView(w, r.View); RoomControlWire.WriteVoice(w, r.Voice);
                    break;
                case RoomRejoined r:
                    w.Write(r.Room); w.Write(r.Seq); WriteMembers(w, r.Members); w.Write(r.Renamed.Length);
                    foreach (var (old, fresh) in r.Renamed) { w.Write(old); w.Write(fresh); }
                    break;
                case JoinRefused f:
                    w.Write(f.Room); w.Write(f.Request); w.Write(f.Code); w.Write(f.Reason);
                    break;
                case LeaveRoom l:
                    w.Write(l.Room); w.Write(l.Member); w.Write(l.Reason);
                    break;
                case Say s:
                    w.Write(s.Room); w.Write(s.Member); w.Write(s.Text); WriteOptional(w, s.Ref);
                    break;
                case RoomText t:
                    w.Write(t.Room); w.Write(t.Seq); WriteBytes(w, t.Json); w.Write(t.Speaker); w.Write(t.SpeakerJson is not null);
                    if (t.SpeakerJson is not null) WriteBytes(w, t.SpeakerJson);
                    break;
                case RosterChanged c:
                    w.Write(c.Room); WriteMembers(w, c.Joined); WriteMembers(w, c.Left); w.Write(c.Reason); WriteMembers(w, c.Changed ?? []);
                    break;
                case RoomRoute r:
                    w.Write(r.Room); w.Write(r.Relays.Length);
                    foreach (var relay in r.Relays) WriteRef(w, relay);
                    break;
                case ProbeRoom p:
                    w.Write(p.Room);
                    break;
                case NoMembers n:
                    w.Write(n.Room);
                    break;
                case RoomMoving m:
                    w.Write(m.Room);
                    break;
                case RoomMovingSeen m:
                    w.Write(m.Room);
                    break;
                case GetRoomInfo g:
                    w.Write(g.Room);
                    break;
                case RoomInfo i:
                    w.Write(i.Room); w.Write(i.Home); w.Write(i.Seq); w.Write(i.Members.Length);
                    foreach (var m in i.Members) { w.Write(m.Member); w.Write(m.User); w.Write(m.Node); }
                    break;
                case RegisterUsers r:
                    WriteRef(w, r.Hub); WriteStrings(w, r.Users);
                    break;
                case UsersRegistered u:
                    WriteStrings(w, u.Users);
                    break;
                case UnregisterUser u:
                    w.Write(u.User); WriteRef(w, u.Hub);
                    break;
                case SendDirect d:
                    w.Write(d.User); w.Write(d.From); w.Write(d.Text); WriteOptional(w, d.Ref); w.Write(d.Request);
                    break;
                case DirectResult d:
                    w.Write(d.To); w.Write(d.Delivered); WriteOptional(w, d.Ref); w.Write(d.Request);
                    break;
                case DirectText d:
                    w.Write(d.To); WriteBytes(w, d.Json);
                    break;
                case ControlRequest c:
                    w.Write(c.Room); w.Write(c.Member); RoomControlWire.WriteCommand(w, c.Command);
                    break;
                case RoomVoice v:
                    RoomControlWire.WriteVoice(w, v);
                    break;
                case NodeText t:
                    w.Write(t.Room); WriteBytes(w, t.Json); w.Write(t.To.Length);
                    foreach (var m in t.To) w.Write(m);
                    w.Write(t.Requester); w.Write(t.RequesterJson is not null);
                    if (t.RequesterJson is not null) WriteBytes(w, t.RequesterJson);
                    w.Write(t.End);
                    break;
                case RoomConfig c:
                    RoomControlWire.WriteConfig(w, c);
                    break;
                case FindUser f:
                    w.Write(f.User);
                    break;
                case UserNodes n:
                    w.Write(n.User); w.Write(n.Hubs.Length);
                    foreach (var hub in n.Hubs) WriteRef(w, hub);
                    break;
                case DirectToUser d:
                    w.Write(d.User); w.Write(d.Text);
                    break;
                case DisconnectUser d:
                    w.Write(d.User); w.Write(d.Reason);
                    break;
                case ConnectionsReached c:
                    w.Write(c.User); w.Write(c.Connections);
                    break;
                case ListLocalRooms l:
                    w.Write(l.Prefix); w.Write(l.After); w.Write(l.Limit);
                    break;
                case LocalRoomPage p:
                    WriteStrings(w, p.Rooms);
                    break;
                case DeadNodeEvidence e:
                    w.Write(e.Member); w.Write(e.Uid); w.Write(e.Observer); w.Write(e.Evidence);
                    break;
                default:
                    if (!RoomApiWire.TryWrite(w, obj)) throw new ArgumentException($"{obj.GetType()} is not a wire message of AkkaVoice");
                    break;
            }
        }
        return stream.ToArray();
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        switch (manifest)
        {
            case VoiceInManifest:
            {
                var (room, speaker, payload, at) = ReadFrame(bytes);
                return new VoiceIn(room, speaker, payload, at);
            }
            case VoiceOutManifest:
            {
                var (room, speaker, payload, at) = ReadFrame(bytes);
                return new VoiceOut(room, speaker, payload, at);
            }
            case VoiceBatchManifest:
                return ReadBatch(bytes);
        }
        using var r = new BinaryReader(new MemoryStream(bytes, writable: false), Utf8);
        return manifest switch
        {
            JoinRoomManifest => ReadJoin(r),
            RejoinRoomManifest => new RejoinRoom(r.ReadString(), ReadRef(r), ReadRef(r), ReadMembers(r), r.ReadInt64(), ReadMembers(r), r.ReadInt64()),
            RoomJoinedManifest => ReadJoined(r),
            RoomRejoinedManifest => ReadRejoined(r),
            JoinRefusedManifest => new JoinRefused(r.ReadString(), r.ReadInt64(), r.ReadString(), r.ReadString()),
            LeaveRoomManifest => new LeaveRoom(r.ReadString(), r.ReadUInt32(), r.ReadString()),
            SayManifest => new Say(r.ReadString(), r.ReadUInt32(), r.ReadString(), ReadOptional(r)),
            RoomTextManifest => new RoomText(r.ReadString(), r.ReadInt64(), ReadBytes(r), r.ReadUInt32(), r.ReadBoolean() ? ReadBytes(r) : null),
            RosterManifest => ReadRoster(r),
            VoiceRulesManifest => RoomControlWire.ReadVoice(r),
            ControlManifest => new ControlRequest(r.ReadString(), r.ReadUInt32(), RoomControlWire.ReadCommand(r)),
            NodeTextManifest => ReadNodeText(r),
            ConfigManifest => RoomControlWire.ReadConfig(r),
            RouteManifest => ReadRoute(r),
            ProbeManifest => new ProbeRoom(r.ReadString()),
            NoMembersManifest => new NoMembers(r.ReadString()),
            MovingManifest => new RoomMoving(r.ReadString()),
            MovingSeenManifest => new RoomMovingSeen(r.ReadString()),
            GetRoomInfoManifest => new GetRoomInfo(r.ReadString()),
            RoomInfoManifest => ReadInfo(r),
            RegisterManifest => new RegisterUsers(ReadRef(r), ReadStrings(r)),
            RegisteredManifest => new UsersRegistered(ReadStrings(r)),
            UnregisterManifest => new UnregisterUser(r.ReadString(), ReadRef(r)),
            SendDirectManifest => new SendDirect(r.ReadString(), r.ReadString(), r.ReadString(), ReadOptional(r), r.ReadInt64()),
            DirectResultManifest => new DirectResult(r.ReadString(), r.ReadBoolean(), ReadOptional(r), r.ReadInt64()),
            DirectTextManifest => new DirectText(r.ReadString(), ReadBytes(r)),
            FindUserManifest => new FindUser(r.ReadString()),
            UserNodesManifest => ReadUserNodes(r),
            DirectToUserManifest => new DirectToUser(r.ReadString(), r.ReadString()),
            DisconnectUserManifest => new DisconnectUser(r.ReadString(), r.ReadString()),
            ReachedManifest => new ConnectionsReached(r.ReadString(), r.ReadInt32()),
            ListLocalRoomsManifest => new ListLocalRooms(r.ReadString(), r.ReadString(), r.ReadInt32()),
            LocalRoomPageManifest => new LocalRoomPage(ReadStrings(r)),
            GetStateManifest => new GetRoomState(r.ReadString()),
            StateManifest => RoomApiWire.ReadState(r),
            NotFoundManifest => new RoomNotFound(r.ReadString(), r.ReadString()),
            RefusedManifest => new RoomRefused(r.ReadString(), r.ReadString(), r.ReadString()),
            ConfigureManifest => RoomApiWire.ReadConfigure(r),
            DeleteManifest => new DeleteRoom(r.ReadString()),
            DeletedManifest => new RoomDeleted(r.ReadString(), r.ReadBoolean()),
            ListMembersManifest => new ListMembers(r.ReadString(), r.ReadUInt32(), r.ReadInt32()),
            MemberPageManifest => RoomApiWire.ReadPage(r),
            KickManifest => new KickUser(r.ReadString(), r.ReadString(), RoomApiWire.ReadInt(r), ReadOptional(r), r.ReadString()),
            MuteManifest => new MuteUser(r.ReadString(), r.ReadString(), r.ReadBoolean(), r.ReadString()),
            AffectedManifest => new UsersAffected(r.ReadString(), r.ReadInt32()),
            SetSeatManifest => new SetSeat(r.ReadString(), r.ReadInt32(), ReadOptional(r), r.ReadBoolean(), RoomApiWire.ReadBool(r), r.ReadString()),
            SystemSayManifest => new SystemSay(r.ReadString(), r.ReadString(), ReadOptional(r)),
            SaidSeqManifest => new SaidSeq(r.ReadString(), r.ReadInt64()),
            DeadNodeEvidenceManifest => new DeadNodeEvidence(r.ReadString(), r.ReadInt64(), r.ReadString(), r.ReadString()),
            _ => throw new System.Runtime.Serialization.SerializationException($"unknown AkkaVoice manifest '{manifest}'"),
        };
    }

    // Frame layout: [room length u8][room UTF-8][speaker u32][received-at i64][payload].
    private const int FrameFixedBytes = 1 + 4 + 8;

    private static int FrameSize(string room, byte[] payload) => FrameFixedBytes + Encoding.UTF8.GetByteCount(room) + payload.Length;

    private static byte[] WriteFrame(string room, uint speaker, byte[] payload, long receivedAt)
    {
        var bytes = new byte[FrameSize(room, payload)];
        WriteFrame(bytes, room, speaker, payload, receivedAt);
        return bytes;
    }

    /// <summary>Writes one frame into <paramref name="destination"/> and returns its length.</summary>
    private static int WriteFrame(Span<byte> destination, string room, uint speaker, byte[] payload, long receivedAt)
    {
        // Room ids are at most 64 ASCII characters, so one length byte is enough.
        int roomBytes = Encoding.UTF8.GetBytes(room, destination[1..]);
        destination[0] = checked((byte)roomBytes);
        BinaryPrimitives.WriteUInt32BigEndian(destination[(1 + roomBytes)..], speaker);
        BinaryPrimitives.WriteInt64BigEndian(destination[(5 + roomBytes)..], receivedAt);
        payload.CopyTo(destination[(FrameFixedBytes + roomBytes)..]);
        return FrameFixedBytes + roomBytes + payload.Length;
    }

    private static (string Room, uint Speaker, byte[] Payload, long ReceivedAt) ReadFrame(ReadOnlySpan<byte> frame)
    {
        int roomBytes = frame[0];
        var room = Encoding.UTF8.GetString(frame.Slice(1, roomBytes));
        var speaker = BinaryPrimitives.ReadUInt32BigEndian(frame[(1 + roomBytes)..]);
        var receivedAt = BinaryPrimitives.ReadInt64BigEndian(frame[(5 + roomBytes)..]);
        return (room, speaker, frame[(FrameFixedBytes + roomBytes)..].ToArray(), receivedAt);
    }

    // Batch layout: [count i32] then per frame [length i32][frame as above].
    private static byte[] WriteBatch(VoiceOut[] frames)
    {
        int size = 4;
        foreach (var f in frames) size += 4 + FrameSize(f.Room, f.Payload);
        var bytes = new byte[size];
        BinaryPrimitives.WriteInt32BigEndian(bytes, frames.Length);
        int at = 4;
        foreach (var f in frames)
        {
            int length = WriteFrame(bytes.AsSpan(at + 4), f.Room, f.Speaker, f.Payload, f.ReceivedAt);
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(at), length);
            at += 4 + length;
        }
        return bytes;
    }

    private static VoiceBatch ReadBatch(byte[] bytes)
    {
        var frames = new VoiceOut[BinaryPrimitives.ReadInt32BigEndian(bytes)];
        int at = 4;
        for (int i = 0; i < frames.Length; i++)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(at));
            var (room, speaker, payload, receivedAt) = ReadFrame(bytes.AsSpan(at + 4, length));
            frames[i] = new VoiceOut(room, speaker, payload, receivedAt);
            at += 4 + length;
        }
        return new VoiceBatch(frames);
    }

    private JoinRoom ReadJoin(BinaryReader r)
    {
        var room = r.ReadString();
        var request = r.ReadInt64();
        var user = r.ReadString();
        var hub = ReadRef(r);
        var relay = ReadRef(r);
        var member = r.ReadUInt32();
        var hasSince = r.ReadBoolean();
        var since = r.ReadInt64();
        var lastSeq = r.ReadInt64();
        var claimsHost = r.ReadBoolean();
        var devMode = r.ReadBoolean();
        var stage = r.ReadBoolean() ? new StageRequest(r.ReadInt32(), r.ReadString()) : null;
        return new JoinRoom(room, request, user, hub, relay, member, hasSince ? since : null, lastSeq, claimsHost, devMode, stage);
    }

    private static RosterChanged ReadRoster(BinaryReader r)
    {
        var room = r.ReadString();
        var joined = ReadMembers(r);
        var left = ReadMembers(r);
        var reason = r.ReadString();
        var changed = ReadMembers(r);
        return new RosterChanged(room, joined, left, reason, changed.Length == 0 ? null : changed);
    }

    private static NodeText ReadNodeText(BinaryReader r)
    {
        var room = r.ReadString();
        var json = ReadBytes(r);
        var to = new uint[r.ReadInt32()];
        for (int i = 0; i < to.Length; i++) to[i] = r.ReadUInt32();
        var requester = r.ReadUInt32();
        var requesterJson = r.ReadBoolean() ? ReadBytes(r) : null;
        return new NodeText(room, json, to, requester, requesterJson, r.ReadBoolean());
    }

    private static RoomRejoined ReadRejoined(BinaryReader r)
    {
        var room = r.ReadString();
        var seq = r.ReadInt64();
        var members = ReadMembers(r);
        var renamed = new (uint, uint)[r.ReadInt32()];
        for (int i = 0; i < renamed.Length; i++) renamed[i] = (r.ReadUInt32(), r.ReadUInt32());
        return new RoomRejoined(room, seq, members, renamed);
    }

    private RoomRoute ReadRoute(BinaryReader r)
    {
        var room = r.ReadString();
        var relays = new IActorRef[r.ReadInt32()];
        for (int i = 0; i < relays.Length; i++) relays[i] = ReadRef(r);
        return new RoomRoute(room, relays);
    }

    private static RoomJoined ReadJoined(BinaryReader r)
    {
        var room = r.ReadString();
        var request = r.ReadInt64();
        var member = r.ReadUInt32();
        var seq = r.ReadInt64();
        var members = ReadMembers(r);
        var replay = new byte[r.ReadInt32()][];
        for (int i = 0; i < replay.Length; i++) replay[i] = ReadBytes(r);
        bool? recovered = r.ReadByte() switch { 0 => null, 1 => false, _ => true };
        var view = RoomControlWire.ReadView(r);
        return new RoomJoined(room, request, member, seq, members, replay, recovered, view, RoomControlWire.ReadVoice(r));
    }

    private UserNodes ReadUserNodes(BinaryReader r)
    {
        var user = r.ReadString();
        var hubs = new IActorRef[r.ReadInt32()];
        for (int i = 0; i < hubs.Length; i++) hubs[i] = ReadRef(r);
        return new UserNodes(user, hubs);
    }

    private static RoomInfo ReadInfo(BinaryReader r)
    {
        var room = r.ReadString();
        var home = r.ReadString();
        var seq = r.ReadInt64();
        var members = new RoomMemberInfo[r.ReadInt32()];
        for (int i = 0; i < members.Length; i++) members[i] = new RoomMemberInfo(r.ReadUInt32(), r.ReadString(), r.ReadString());
        return new RoomInfo(room, home, seq, members);
    }

    internal static void WriteMembers(BinaryWriter w, MemberInfo[] members)
    {
        w.Write(members.Length);
        foreach (var m in members)
        {
            w.Write(m.Member); w.Write(m.User); w.Write(m.Role ?? Roles.Member); w.Write((sbyte)(m.Seat ?? -1));
        }
    }

    internal static MemberInfo[] ReadMembers(BinaryReader r)
    {
        var members = new MemberInfo[r.ReadInt32()];
        for (int i = 0; i < members.Length; i++)
        {
            var id = r.ReadUInt32();
            var user = r.ReadString();
            var role = r.ReadString();
            var seat = r.ReadSByte();
            members[i] = new MemberInfo(id, user, role, seat < 0 ? null : seat);
        }
        return members;
    }

    internal static void WriteStrings(BinaryWriter w, string[] values)
    {
        w.Write(values.Length);
        foreach (var v in values) w.Write(v);
    }

    internal static string[] ReadStrings(BinaryReader r)
    {
        var values = new string[r.ReadInt32()];
        for (int i = 0; i < values.Length; i++) values[i] = r.ReadString();
        return values;
    }

    private static void WriteRef(BinaryWriter w, IActorRef actor) => w.Write(Akka.Serialization.Serialization.SerializedActorPath(actor));

    private IActorRef ReadRef(BinaryReader r) => system.Provider.ResolveActorRef(r.ReadString());

    internal static void WriteBytes(BinaryWriter w, byte[] bytes)
    {
        w.Write(bytes.Length);
        w.Write(bytes);
    }

    internal static byte[] ReadBytes(BinaryReader r) => r.ReadBytes(r.ReadInt32());

    internal static void WriteOptional(BinaryWriter w, string? s)
    {
        w.Write(s is not null);
        if (s is not null) w.Write(s);
    }

    internal static string? ReadOptional(BinaryReader r) => r.ReadBoolean() ? r.ReadString() : null;
}
