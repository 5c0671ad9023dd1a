using AkkaVoice.Cluster;
using AkkaVoice.Cluster.Connections;
using AkkaVoice.Cluster.Relay;
using AkkaVoice.Protocol;
using Xunit;

namespace AkkaVoice.Tests.Connections;

public sealed class LocalMembersTests
{
    private readonly Outbound outbound = new(new Limits(), new NodeStats());

    private Membership In(string room, byte slot = 0, uint member = 1) => new(room, slot, member, outbound);

    [Fact]
    public void A_room_nobody_here_joined_has_no_local_members()
    {
        var members = new LocalMembers();
        Assert.Empty(members.Of("lobby"));
        Assert.Equal(0, members.RoomCount);
    }

    [Fact]
    public void Members_are_listed_by_room_in_the_order_they_joined()
    {
        var members = new LocalMembers();
        Membership a = In("lobby", 0, 1), b = In("lobby", 1, 2), c = In("other", 0, 3);
        members.Add(a);
        members.Add(b);
        members.Add(c);

        Assert.Equal([a, b], members.Of("lobby"));
        Assert.Equal([c], members.Of("other"));
        Assert.Empty(members.Of("LOBBY"));
        Assert.Equal(2, members.RoomCount);
    }

    [Fact]
    public void Removing_a_member_keeps_the_others()
    {
        var members = new LocalMembers();
        Membership a = In("lobby", 0, 1), b = In("lobby", 1, 2), c = In("lobby", 2, 3);
        members.Add(a);
        members.Add(b);
        members.Add(c);

        members.Remove(b);

        Assert.Equal([a, c], members.Of("lobby"));
        Assert.Equal(1, members.RoomCount);
    }

    [Fact]
    public void A_room_whose_last_local_member_leaves_is_forgotten()
    {
        var members = new LocalMembers();
        var a = In("lobby");
        members.Add(a);
        members.Remove(a);
        Assert.Empty(members.Of("lobby"));
        Assert.Equal(0, members.RoomCount);
    }

    [Fact]
    public void Removing_goes_by_identity_not_by_equal_values()
    {
        var members = new LocalMembers();
        Membership first = In("lobby", 4, 9), twin = In("lobby", 4, 9);
        members.Add(first);
        members.Add(twin);
        members.Remove(twin);
        Assert.Same(first, Assert.Single(members.Of("lobby")));
    }

    [Fact]
    public void Removing_what_is_not_there_changes_nothing()
    {
        var members = new LocalMembers();
        var a = In("lobby");
        members.Remove(a);
        members.Add(a);
        members.Remove(In("lobby"));
        members.Remove(In("elsewhere"));
        members.Remove(a);
        members.Remove(a);
        Assert.Empty(members.Of("lobby"));
        Assert.Equal(0, members.RoomCount);
    }

    [Fact]
    public void A_list_already_read_is_not_changed_by_later_joins_and_leaves()
    {
        var members = new LocalMembers();
        Membership a = In("lobby", 0), b = In("lobby", 1);
        members.Add(a);
        var before = members.Of("lobby");
        members.Add(b);
        members.Remove(a);
        Assert.Equal([a], before);
        Assert.Equal([b], members.Of("lobby"));
    }

    [Fact]
    public void Joins_and_leaves_from_many_threads_at_once_are_all_kept()
    {
        var members = new LocalMembers();
        var all = Enumerable.Range(0, 2000).Select(i => In("room-" + i % 10, (byte)i, (uint)i)).ToArray();
        Parallel.ForEach(all, members.Add);
        Assert.Equal(10, members.RoomCount);
        Assert.Equal(2000, Enumerable.Range(0, 10).Sum(r => members.Of("room-" + r).Length));

        var leaving = all.Where((_, i) => i % 2 == 0).ToArray();
        Parallel.ForEach(leaving, members.Remove);
        var remaining = Enumerable.Range(0, 10).SelectMany(r => members.Of("room-" + r)).ToHashSet();
        Assert.Equal(all.Where((_, i) => i % 2 == 1).ToHashSet(), remaining);
    }
}
