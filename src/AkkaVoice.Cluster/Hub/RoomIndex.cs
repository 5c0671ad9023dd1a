using Akka.Actor;
using AkkaVoice.Cluster.Serialization;

namespace AkkaVoice.Cluster.Hub;

/// <summary>
/// Asks a node for a page of the rooms it has members of, in room-id order: at most <paramref name="Limit"/> ids after
/// <paramref name="After"/> that start with <paramref name="Prefix"/>. Answered with <see cref="LocalRoomPage"/>.
/// </summary>
public sealed record ListLocalRooms(string Prefix, string After, int Limit) : IWireMessage;

/// <summary>One node's page of room ids, in order.</summary>
public sealed record LocalRoomPage(string[] Rooms) : IWireMessage;

/// <summary>
/// One per node, at <c>/user/room-index</c>: answers <see cref="ListLocalRooms"/> from the node's sorted index of the
/// rooms it has members of (<see cref="LocalRooms.Page"/>). Every room with members has one on some node, so the
/// server API pages through the whole cluster by asking each node for one page and merging (docs/server-api.md).
/// Kept apart from the hub so a listing never waits behind the node's joins and text.
/// </summary>
public sealed class RoomIndex : ReceiveActor
{
    public const string Name = "room-index";

    public RoomIndex(LocalRooms rooms) =>
        Receive<ListLocalRooms>(l => Sender.Tell(new LocalRoomPage(rooms.Page(l.Prefix, l.After, l.Limit))));

    public static Props Props(LocalRooms rooms) => Akka.Actor.Props.Create(() => new RoomIndex(rooms));
}
