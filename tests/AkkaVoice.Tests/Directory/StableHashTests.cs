using System.Text;
using AkkaVoice.Cluster.Directory;
using Xunit;

namespace AkkaVoice.Tests.Directory;

/// <summary>
/// The hash decides which shard, and so which node, holds a room. Every node of every version must
/// compute the same value, so these expected values were computed once and must never change.
/// </summary>
public sealed class StableHashTests
{
    [Theory]
    [InlineData("", 17665956581633026203UL)]
    [InlineData("a", 198367012849983736UL)]
    [InlineData("lobby", 11308349100392745085UL)]
    [InlineData("room-42", 17088393589063344625UL)]
    [InlineData("team.red:general", 15674715825853884175UL)]
    [InlineData("caf\u00e9", 16195296087438488975UL)]
    [InlineData("\U0001F600", 13672324803493586288UL)]
    public void The_hash_of_a_string_never_changes(string text, ulong expected)
    {
        Assert.Equal(expected, StableHash.Hash64(text));
    }

    [Theory]
    [InlineData('r', 64, 7842663862744160634UL)]
    [InlineData('y', 84, 16518962352254857500UL)]
    [InlineData('y', 85, 13600395400162059462UL)]
    [InlineData('x', 300, 11771065785070081266UL)]
    public void The_hash_of_a_long_string_never_changes_either(char c, int length, ulong expected)
    {
        // Short strings are encoded on the stack and long ones on the heap; both paths must agree.
        Assert.Equal(expected, StableHash.Hash64(new string(c, length)));
    }

    [Theory]
    [InlineData(0UL, 0UL)]
    [InlineData(1UL, 6238072747940578789UL)]
    [InlineData(42UL, 12058926934050108962UL)]
    public void The_finalizer_never_changes(ulong input, ulong expected)
    {
        Assert.Equal(expected, StableHash.Mix(input));
    }

    [Fact]
    public void The_hash_is_FNV_1a_over_UTF8_then_splitmix64()
    {
        var random = new Random(20240601);
        for (int i = 0; i < 2000; i++)
        {
            var chars = new char[random.Next(0, 200)];
            for (int j = 0; j < chars.Length; j++) chars[j] = (char)random.Next(0x20, 0xD7FF);
            var text = new string(chars);
            Assert.Equal(Reference(text), StableHash.Hash64(text));
        }
    }

    private static ulong Reference(string text)
    {
        ulong h = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            h ^= b;
            h *= 1099511628211UL;
        }
        h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9UL;
        h = (h ^ (h >> 27)) * 0x94D049BB133111EBUL;
        return h ^ (h >> 31);
    }
}
