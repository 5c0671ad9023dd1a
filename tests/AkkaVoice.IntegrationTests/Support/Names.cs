namespace AkkaVoice.IntegrationTests.Support;

/// <summary>
/// Unique user and room ids, so tests that share a node never see each other's rooms or users.
/// </summary>
public static class Names
{
    private static int counter;

    public static string Room(string hint = "room") => Unique(hint);

    public static string User(string hint = "user") => Unique(hint);

    private static string Unique(string hint) =>
        $"{hint}-{Interlocked.Increment(ref counter)}-{Guid.NewGuid().ToString("N")[..6]}";
}
