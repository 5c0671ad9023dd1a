using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AkkaVoice.Cluster.Rooms;

namespace AkkaVoice.Cluster.Webhooks;

/// <summary>One event as every URL gets it: its name, room and JSON body, encoded once.</summary>
public sealed record WebhookEvent(string Id, string Event, string Room, byte[] Body)
{
    /// <summary>The events of PROTOCOL section 10, in the order the metrics list them.</summary>
    public static readonly string[] Names = ["room.started", "room.finished", "member.joined", "member.left", "seat.changed", "room.rehomed"];

    /// <summary>
    /// The body of <paramref name="e"/>: <c>id</c>, <c>event</c>, <c>time</c>, <c>room</c>, <c>node</c>, then the
    /// event's own fields.
    /// </summary>
    public static WebhookEvent Encode(IRoomEvent e, string id, string node)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("id", id);
            w.WriteString("event", e.Event);
            w.WriteNumber("time", e.Time);
            w.WriteString("room", e.Room);
            w.WriteString("node", node);
            switch (e)
            {
                case RoomEvents.Finished f:
                    w.WriteString("reason", f.Reason);
                    break;
                case RoomEvents.MemberJoined j:
                    w.WriteNumber("member", j.Member);
                    w.WriteString("user", j.User);
                    w.WriteString("role", j.Role);
                    break;
                case RoomEvents.MemberLeft l:
                    w.WriteNumber("member", l.Member);
                    w.WriteString("user", l.User);
                    w.WriteString("reason", l.Reason);
                    break;
                case RoomEvents.SeatChanged s:
                    w.WriteNumber("seat", s.Seat);
                    if (s.User is null) w.WriteNull("user");
                    else w.WriteString("user", s.User);
                    w.WriteBoolean("locked", s.Locked);
                    w.WriteBoolean("muted", s.Muted);
                    break;
                case RoomEvents.Rehomed r:
                    w.WriteStartArray("members");
                    foreach (var m in r.Members)
                    {
                        w.WriteStartObject();
                        w.WriteNumber("member", m.Member);
                        w.WriteString("user", m.User);
                        w.WriteString("role", m.Role);
                        if (m.Seat is { } seat) w.WriteNumber("seat", seat);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    break;
            }
            w.WriteEndObject();
        }
        return new WebhookEvent(id, e.Event, e.Room, buffer.WrittenSpan.ToArray());
    }

    /// <summary>
    /// The <c>AkkaVoice-Signature</c> header for <paramref name="body"/> sent at <paramref name="unixSeconds"/>:
    /// <c>t=&lt;seconds&gt;,v1=&lt;hex HMAC-SHA256(secret, "&lt;t&gt;.&lt;body&gt;")&gt;</c>.
    /// </summary>
    public static string Signature(byte[] secret, long unixSeconds, ReadOnlySpan<byte> body)
    {
        var t = unixSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var signed = new byte[t.Length + 1 + body.Length];
        Encoding.ASCII.GetBytes(t, signed);
        signed[t.Length] = (byte)'.';
        body.CopyTo(signed.AsSpan(t.Length + 1));
        return $"t={t},v1={Convert.ToHexStringLower(HMACSHA256.HashData(secret, signed))}";
    }
}
