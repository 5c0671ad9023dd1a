using AkkaVoice.Cluster.Hub;
using Xunit;

namespace AkkaVoice.Tests.Connections;

/// <summary>The sorted index of a node's rooms that the server API's listing pages through.</summary>
public sealed class LocalRoomsPageTests
{
    private static LocalRooms With(params string[] ids)
    {
        var rooms = new LocalRooms();
        foreach (var id in ids) rooms.GetOrAdd(id);
        return rooms;
    }

    [Fact]
    public void A_page_is_in_ordinal_order_after_the_given_id()
    {
        var rooms = With("b", "a", "B", "c", "a1");
        Assert.Equal(["B", "a", "a1"], rooms.Page("", "", 3));
        Assert.Equal(["a1", "b"], rooms.Page("", "a", 2));
        Assert.Equal(["c"], rooms.Page("", "b", 100));
        Assert.Empty(rooms.Page("", "c", 100));
        Assert.Empty(rooms.Page("", "zzz", 100));
    }

    [Fact]
    public void A_prefix_keeps_only_its_rooms_wherever_after_is()
    {
        var rooms = With("lobby-1", "lobby-2", "lobby-3", "lobbz", "lob", "a");
        Assert.Equal(["lobby-1", "lobby-2", "lobby-3"], rooms.Page("lobby-", "", 10));
        Assert.Equal(["lobby-3"], rooms.Page("lobby-", "lobby-2", 10));
        Assert.Equal(["lobby-1"], rooms.Page("lobby-", "a", 1));
        Assert.Empty(rooms.Page("lobby-", "lobby-3", 10));
        Assert.Empty(rooms.Page("nothing", "", 10));
    }

    [Fact]
    public void A_room_that_loses_its_last_local_member_leaves_the_index()
    {
        var rooms = With("a", "b");
        rooms.Remove(rooms.Find("a")!);
        Assert.Equal(["b"], rooms.Page("", "", 10));
        Assert.Equal(1, rooms.Count);
    }
}
