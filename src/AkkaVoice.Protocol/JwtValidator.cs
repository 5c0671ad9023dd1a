using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace AkkaVoice.Protocol;

/// <summary>
/// The identity a valid token grants: the user id from <c>sub</c>, and the rooms from the optional <c>rooms</c>
/// claim (<see langword="null"/> when the token carries no such claim, which means every room).
/// </summary>
public sealed record JwtIdentity(string User, IReadOnlyList<string>? Rooms)
{
    /// <summary>
    /// True when the token carries no rooms claim, or when <paramref name="room"/> matches an entry exactly,
    /// or an entry ending in <c>*</c> is a prefix of <paramref name="room"/> (so <c>*</c> alone matches every room).
    /// Comparison is ordinal: room ids are ASCII and case-sensitive.
    /// </summary>
    public bool MayJoin(string room)
    {
        ArgumentNullException.ThrowIfNull(room);
        if (Rooms is null) return true;
        foreach (var entry in Rooms)
        {
            var granted = entry.EndsWith('*')
                ? room.AsSpan().StartsWith(entry.AsSpan(0, entry.Length - 1))
                : string.Equals(room, entry, StringComparison.Ordinal);
            if (granted) return true;
        }
        return false;
    }
}

/// <summary>
/// Validates compact HS256 JSON Web Tokens against one shared secret. Only <c>alg: HS256</c> is accepted, so a
/// token cannot choose a weaker or different algorithm (<c>none</c>, or an asymmetric one whose public key
/// would be mistaken for the HMAC secret).
/// </summary>
/// <remarks>
/// Expiry is checked with no clock-skew allowance: a token is expired from the instant <c>now &gt;= exp</c>,
/// and not yet valid while <c>now &lt; nbf</c>. Issuers that run on other clocks must leave their own margin.
/// The class is immutable and safe to share between threads.
/// </remarks>
public sealed class JwtValidator
{
    /// <summary>Longest token accepted, in characters. Bounds the work an unauthenticated client can cause.</summary>
    public const int MaxTokenLength = 8 * 1024;

    private const int Sha256Length = 32;

    // Duplicate names are refused outright: otherwise two parsers could disagree on which "alg" or "exp" counts.
    private static readonly JsonDocumentOptions JsonOptions = new() { MaxDepth = 8, AllowDuplicateProperties = false };

    private readonly byte[] _key;
    private readonly TimeProvider _time;

    /// <summary>Creates a validator whose HMAC key is the UTF-8 encoding of <paramref name="secret"/>.</summary>
    /// <exception cref="ArgumentException">The secret is null or empty: anyone could forge tokens with an empty key.</exception>
    public JwtValidator(string secret, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        _key = Encoding.UTF8.GetBytes(secret);
        _time = time ?? TimeProvider.System;
    }

    /// <summary>
    /// Returns the identity the token grants, or <see langword="null"/> with <paramref name="error"/> set to a short
    /// reason when the token is invalid. Never throws; the reason never quotes the token, so it is safe to log
    /// or send back to the client.
    /// </summary>
    public JwtIdentity? Validate(string? token, out string error)
    {
        try
        {
            return ValidateCore(token, out error);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            // Parse errors are expected on hostile input; their messages may echo token content, so they are dropped.
            error = "token is malformed";
            return null;
        }
    }

    private JwtIdentity? ValidateCore(string? token, out string error)
    {
        if (string.IsNullOrEmpty(token)) return Fail(out error, "token is missing");
        if (token.Length > MaxTokenLength) return Fail(out error, $"token is longer than {MaxTokenLength} characters");

        var dot1 = token.IndexOf('.');
        var dot2 = dot1 < 0 ? -1 : token.IndexOf('.', dot1 + 1);
        if (dot2 < 0 || token.IndexOf('.', dot2 + 1) >= 0) return Fail(out error, "token must have exactly three parts");

        if (!TryDecodeBase64Url(token.AsSpan(0, dot1), out var headerJson)
            || !TryDecodeBase64Url(token.AsSpan(dot1 + 1, dot2 - dot1 - 1), out var payloadJson)
            || !TryDecodeBase64Url(token.AsSpan(dot2 + 1), out var signature))
            return Fail(out error, "token is not valid base64url");

        // The header is read before the signature is checked only to learn the algorithm; nothing else in it is trusted.
        using (var header = ParseObject(headerJson))
        {
            if (header is null) return Fail(out error, "token header is not a JSON object");
            var root = header.RootElement;
            if (!root.TryGetProperty("alg", out var alg) || alg.ValueKind != JsonValueKind.String || !alg.ValueEquals("HS256"))
                return Fail(out error, "token alg must be HS256");
            // RFC 7515 requires refusing a token whose critical extensions are not understood; none are.
            if (root.TryGetProperty("crit", out _)) return Fail(out error, "token header has unsupported crit extensions");
        }

        // Every character before the second dot was checked to be base64url, so ASCII encodes it exactly.
        var signingInput = Encoding.ASCII.GetBytes(token, 0, dot2);
        Span<byte> expected = stackalloc byte[Sha256Length];
        HMACSHA256.HashData(_key, signingInput, expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, signature))
            return Fail(out error, "token signature does not match");

        using var payload = ParseObject(payloadJson);
        if (payload is null) return Fail(out error, "token payload is not a JSON object");
        var claims = payload.RootElement;

        if (!claims.TryGetProperty("sub", out var sub) || sub.ValueKind != JsonValueKind.String)
            return Fail(out error, "token sub claim is missing or not a string");
        var user = StringOrNull(sub);
        if (!Ids.IsValid(user))
            return Fail(out error, $"token sub must be 1-{Ids.MaxLength} characters of A-Z a-z 0-9 _ . - :");

        if (!claims.TryGetProperty("exp", out var exp)) return Fail(out error, "token exp claim is missing");
        if (!TryGetSeconds(exp, out var expSeconds)) return Fail(out error, "token exp claim is not a number");

        var now = UnixSeconds(_time.GetUtcNow());
        if (now >= expSeconds) return Fail(out error, "token is expired");

        if (claims.TryGetProperty("nbf", out var nbf))
        {
            if (!TryGetSeconds(nbf, out var nbfSeconds)) return Fail(out error, "token nbf claim is not a number");
            if (now < nbfSeconds) return Fail(out error, "token is not valid yet");
        }

        IReadOnlyList<string>? rooms = null;
        if (claims.TryGetProperty("rooms", out var roomsClaim))
        {
            if (roomsClaim.ValueKind != JsonValueKind.Array) return Fail(out error, "token rooms claim is not an array");
            var list = new List<string>(roomsClaim.GetArrayLength());
            foreach (var element in roomsClaim.EnumerateArray())
            {
                var entry = StringOrNull(element);
                if (!IsRoomPattern(entry))
                    return Fail(out error, "token rooms entries must be room ids, or room id prefixes ending in *");
                list.Add(entry!);
            }
            // Read-only wrapper so a holder of the identity cannot widen its own grant by casting back to a list.
            rooms = list.AsReadOnly();
        }

        error = "";
        return new JwtIdentity(user!, rooms);
    }

    private static JwtIdentity? Fail(out string error, string reason)
    {
        error = reason;
        return null;
    }

    private static JsonDocument? ParseObject(byte[] json)
    {
        JsonDocument? document = null;
        try
        {
            document = JsonDocument.Parse(json, JsonOptions);
            if (document.RootElement.ValueKind == JsonValueKind.Object) return document;
            document.Dispose();
            return null;
        }
        catch (JsonException)
        {
            document?.Dispose();
            return null;
        }
    }

    private static string? StringOrNull(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.String) return null;
        try
        {
            return element.GetString();
        }
        catch (InvalidOperationException)
        {
            // An escaped lone surrogate ("\ud800") cannot become a string; it could not be a valid id anyway.
            return null;
        }
    }

    private static bool IsRoomPattern(string? entry)
    {
        if (entry is null) return false;
        if (!entry.EndsWith('*')) return Ids.IsValid(entry);
        // An empty prefix ("*") is the explicit "any room" grant.
        return entry.Length == 1 || Ids.IsValid(entry[..^1]);
    }

    private static bool TryGetSeconds(JsonElement element, out double seconds)
    {
        seconds = 0;
        // A non-finite value (e.g. 1e999) would make a token that never expires.
        return element.ValueKind == JsonValueKind.Number && element.TryGetDouble(out seconds) && double.IsFinite(seconds);
    }

    private static double UnixSeconds(DateTimeOffset time)
    {
        // Whole seconds and the fraction are converted apart so an instant on a whole second compares exactly with an integer exp.
        var ticks = time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        return Math.DivRem(ticks, TimeSpan.TicksPerSecond, out var rest) + (double)rest / TimeSpan.TicksPerSecond;
    }

    /// <summary>
    /// Strict base64url: only the URL-safe alphabet, padding optional but correct when present, and unused trailing
    /// bits zero, so each byte string has exactly one unpadded encoding and a signature cannot be re-spelled.
    /// </summary>
    private static bool TryDecodeBase64Url(ReadOnlySpan<char> text, out byte[] bytes)
    {
        bytes = [];
        var padding = text.Length - text.TrimEnd('=').Length;
        if (padding > 0)
        {
            if (padding > 2 || text.Length % 4 != 0) return false;
            text = text[..^padding];
            if (text.Length % 4 + padding != 4) return false;
        }
        if (text.Length % 4 == 1) return false;

        var output = new byte[text.Length * 3 / 4];
        int accumulator = 0, bits = 0, written = 0;
        foreach (var c in text)
        {
            var value = Base64UrlValue(c);
            if (value < 0) return false;
            accumulator = (accumulator << 6) | value;
            bits += 6;
            if (bits >= 8)
            {
                bits -= 8;
                output[written++] = (byte)(accumulator >> bits);
                accumulator &= (1 << bits) - 1;
            }
        }
        if (accumulator != 0) return false;
        bytes = output;
        return true;
    }

    private static int Base64UrlValue(char c) => c switch
    {
        >= 'A' and <= 'Z' => c - 'A',
        >= 'a' and <= 'z' => c - 'a' + 26,
        >= '0' and <= '9' => c - '0' + 52,
        '-' => 62,
        '_' => 63,
        _ => -1,
    };
}
