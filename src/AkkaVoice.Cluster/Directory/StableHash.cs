using System.Text;

namespace AkkaVoice.Cluster.Directory;

/// <summary>
/// Hashes that agree across processes, machines and versions. <c>string.GetHashCode</c> is randomized
/// per process in .NET, so it must never decide where a room lives.
/// </summary>
public static class StableHash
{
    /// <summary>64-bit FNV-1a over the UTF-8 bytes of <paramref name="text"/>, then a 64-bit finalizer
    /// (splitmix64) so that similar inputs spread over the whole range.</summary>
    public static ulong Hash64(string text)
    {
        Span<byte> stack = stackalloc byte[256];
        var bytes = Encoding.UTF8.GetMaxByteCount(text.Length) <= stack.Length
            ? stack[..Encoding.UTF8.GetBytes(text, stack)]
            : Encoding.UTF8.GetBytes(text);
        ulong h = 14695981039346656037UL;
        foreach (var b in bytes)
        {
            h ^= b;
            h *= 1099511628211UL;
        }
        return Mix(h);
    }

    /// <summary>The splitmix64 finalizer.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
