namespace AkkaVoice.Protocol;

/// <summary>User ids and room ids: 1-64 characters of <c>A-Z a-z 0-9 _ . - :</c>.</summary>
public static class Ids
{
    public const int MaxLength = 64;

    public static bool IsValid(string? id)
    {
        if (id is null || id.Length is 0 or > MaxLength) return false;
        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' or ':')) return false;
        }
        return true;
    }
}
