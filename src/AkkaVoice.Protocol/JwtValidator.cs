using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AkkaVoice.Protocol;

/// <summary>
/// The identity a valid token grants: the user id from <c>sub</c>, and the rooms from the optional <c>rooms</c>
/// claim (<see langword="null"/> when the token carries no such claim, which means every room), and the rooms it
/// is a host of from the optional <c>hosts</c> claim (PROTOCOL section 8; the same patterns, none when absent).
/// </summary>
public sealed record JwtIdentity(string User, IReadOnlyList<string>? Rooms, IReadOnlyList<string>? Hosts = null)
{
    /// <summary>True when the token's <c>hosts</c> claim matches <paramref name="room"/> (exactly, or by a prefix ending in <c>*</c>).</summary>
    public bool IsHostOf(string room) => Hosts is not null && Matches(Hosts, room);

    /// <summary>
    /// True when the token carries no rooms claim, or when <paramref name="room"/> matches an entry exactly,
    /// or an entry ending in <c>*</c> is a prefix of <paramref name="room"/> (so <c>*</c> alone matches every room).
    /// Comparison is ordinal: room ids are ASCII and case-sensitive.
    /// </summary>
    public bool MayJoin(string room)
    {
        ArgumentNullException.ThrowIfNull(room);
        return Rooms is null || Matches(Rooms, room);
    }

    private static bool Matches(IReadOnlyList<string> patterns, string room)
    {
        foreach (var entry in patterns)
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
/// Validates compact JSON Web Tokens: HS256 against one shared secret, and RS256 and ES256 (P-256) against the
/// public keys of an identity provider (<see cref="JwtKeys"/>). The signature is checked by
/// <c>Microsoft.IdentityModel.JsonWebTokens</c>, configured to accept only the algorithms of the keys it was
/// given, and each key only for its own algorithm, so a token cannot choose a weaker or different algorithm
/// (<c>none</c>, HS384/HS512, or HS256 with a public key mistaken for the HMAC secret). Before that the token is read strictly here, for what the library lets
/// through: three parts, each in its one canonical base64url spelling; JSON objects without duplicate names (so
/// no two parsers can disagree on which <c>alg</c> or <c>exp</c> counts); <c>alg</c> spelled exactly; no
/// <c>crit</c> header; and the claims AkkaVoice gives meaning to (<c>sub</c>, <c>exp</c>, <c>nbf</c>, <c>rooms</c>).
/// </summary>
/// <remarks>
/// The clock skew is zero (<see cref="ClockSkew"/>): a token is expired from the instant <c>now &gt;= exp</c>
/// (fractions of a second count), and not yet valid while <c>now &lt; nbf</c>. Issuers that run on other clocks
/// must leave their own margin. The times are compared here against the injected <see cref="TimeProvider"/>
/// rather than by the library, whose clock cannot be replaced and which lets a token through at its <c>exp</c> second.
/// The class is immutable and safe to share between threads.
/// </remarks>
public sealed class JwtValidator
{
    /// <summary>Longest token accepted, in characters. Bounds the work an unauthenticated client can cause.</summary>
    public const int MaxTokenLength = 8 * 1024;

    /// <summary>Shortest secret accepted, in UTF-8 bytes: HS256 needs a key of at least 256 bits (RFC 7518 section 3.2).</summary>
    public const int MinSecretBytes = 32;

    /// <summary>How far a token's <c>exp</c> and <c>nbf</c> may be off the node's clock: not at all.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.Zero;

    private static readonly JsonDocumentOptions JsonOptions = new() { MaxDepth = 8, AllowDuplicateProperties = false };

    private readonly JsonWebTokenHandler _handler = new() { MaximumTokenSizeInBytes = MaxTokenLength };
    private readonly TokenValidationParameters _parameters;
    private readonly TimeProvider _time;
    private readonly string[] _algorithms;
    private readonly string _algorithmError;

    /// <summary>Creates a validator whose HMAC key is the UTF-8 encoding of <paramref name="secret"/>.</summary>
    /// <exception cref="ArgumentException">The secret is null, empty, or shorter than <see cref="MinSecretBytes"/> bytes.</exception>
    public JwtValidator(string secret, TimeProvider? time = null) : this(secret ?? throw new ArgumentNullException(nameof(secret)), null, time)
    {
    }

    /// <summary>
    /// Creates a validator for HS256 with <paramref name="secret"/> (when given) and for RS256/ES256 with
    /// <paramref name="keys"/> (when given); at least one of the two.
    /// </summary>
    public JwtValidator(string? secret, JwtKeys? keys, TimeProvider? time = null)
    {
        var signing = new List<SecurityKey>();
        var algorithms = new List<string>();
        if (secret is not null)
        {
            ArgumentException.ThrowIfNullOrEmpty(secret);
            var key = Encoding.UTF8.GetBytes(secret);
            if (key.Length < MinSecretBytes)
                throw new ArgumentException($"the JWT secret must be at least {MinSecretBytes} bytes (HS256 needs a 256-bit key), not {key.Length}", nameof(secret));
            signing.Add(new SymmetricSecurityKey(key));
            algorithms.Add(SecurityAlgorithms.HmacSha256);
        }
        if (keys is not null)
        {
            signing.AddRange(keys.Keys);
            algorithms.AddRange(keys.Algorithms);
        }
        if (signing.Count == 0) throw new ArgumentException("a JWT validator needs a secret or public keys");
        _algorithms = [.. algorithms];
        _algorithmError = $"token alg must be {string.Join(" or ", _algorithms)}";
        _time = time ?? TimeProvider.System;
        _parameters = new TokenValidationParameters
        {
            IssuerSigningKeys = signing,
            ValidAlgorithms = _algorithms,
            RequireSignedTokens = true,
            ValidateIssuer = false,
            ValidateAudience = false,
            // Checked in ReadClaims against the injected clock, see the remarks.
            ValidateLifetime = false,
            ClockSkew = ClockSkew,
        };
    }

    /// <summary>
    /// Returns the identity the token grants, or <see langword="null"/> with <paramref name="error"/> set to a short
    /// reason when the token is invalid. Never throws; the reason never quotes the token, so it is safe to log
    /// or send back to the client.
    /// </summary>
    public JwtIdentity? Validate(string? token, out string error)
    {
        if (string.IsNullOrEmpty(token)) return Fail(out error, "token is missing");
        if (token.Length > MaxTokenLength) return Fail(out error, $"token is longer than {MaxTokenLength} characters");

        var parts = token.Split('.');
        if (parts.Length != 3) return Fail(out error, "token must have exactly three parts");
        if (!parts.All(IsCanonicalBase64Url)) return Fail(out error, "token is not valid base64url");

        using var header = ParseObject(parts[0]);
        if (header is null) return Fail(out error, "token header is not a JSON object");
        var root = header.RootElement;
        if (!root.TryGetProperty("alg", out var alg) || alg.ValueKind != JsonValueKind.String || !_algorithms.Any(a => alg.ValueEquals(a)))
            return Fail(out error, _algorithmError);
        // RFC 7515 requires refusing a token whose critical extensions are not understood; none are.
        if (root.TryGetProperty("crit", out _)) return Fail(out error, "token header has unsupported crit extensions");

        using var payload = ParseObject(parts[1]);
        if (payload is null) return Fail(out error, "token payload is not a JSON object");

        // The claims are read first only to give a precise reason; the identity is returned once the signature holds.
        var identity = ReadClaims(payload.RootElement, out error);
        if (identity is null) return null;

        // Keys held in memory and no metadata to fetch: the library's validation completes synchronously.
        var result = _handler.ValidateTokenAsync(token, _parameters).GetAwaiter().GetResult();
        if (result.IsValid) return identity;
        // The library's messages may carry token content, so only the kind of failure is reported.
        return Fail(out error, result.Exception switch
        {
            SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException => "token signature does not match",
            SecurityTokenInvalidAlgorithmException => _algorithmError,
            _ => "token is malformed",
        });
    }

    private JwtIdentity? ReadClaims(JsonElement claims, out string error)
    {
        if (!claims.TryGetProperty("sub", out var sub) || sub.ValueKind != JsonValueKind.String)
            return Fail(out error, "token sub claim is missing or not a string");
        var user = StringOrNull(sub);
        if (!Ids.IsValid(user))
            return Fail(out error, $"token sub must be 1-{Ids.MaxLength} characters of A-Z a-z 0-9 _ . - :");

        if (!claims.TryGetProperty("exp", out var exp)) return Fail(out error, "token exp claim is missing");
        if (!TryGetSeconds(exp, out var expSeconds)) return Fail(out error, "token exp claim is not a number");

        var now = UnixSeconds(_time.GetUtcNow());
        if (now >= expSeconds + ClockSkew.TotalSeconds) return Fail(out error, "token is expired");

        if (claims.TryGetProperty("nbf", out var nbf))
        {
            if (!TryGetSeconds(nbf, out var nbfSeconds)) return Fail(out error, "token nbf claim is not a number");
            if (now < nbfSeconds - ClockSkew.TotalSeconds) return Fail(out error, "token is not valid yet");
        }

        if (!TryReadRooms(claims, "rooms", out var rooms, out error)) return null;
        if (!TryReadRooms(claims, "hosts", out var hosts, out error)) return null;
        error = "";
        return new JwtIdentity(user!, rooms, hosts);
    }

    /// <summary>A claim that lists room ids and prefixes (<c>rooms</c>, <c>hosts</c>): null when absent.</summary>
    private static bool TryReadRooms(JsonElement claims, string claim, out IReadOnlyList<string>? rooms, out string error)
    {
        rooms = null;
        error = "";
        if (!claims.TryGetProperty(claim, out var value)) return true;
        if (value.ValueKind != JsonValueKind.Array)
        {
            error = $"token {claim} claim is not an array";
            return false;
        }
        var list = new List<string>(value.GetArrayLength());
        foreach (var element in value.EnumerateArray())
        {
            var entry = StringOrNull(element);
            if (!IsRoomPattern(entry))
            {
                error = $"token {claim} entries must be room ids, or room id prefixes ending in *";
                return false;
            }
            list.Add(entry!);
        }
        // Read-only wrapper so a holder of the identity cannot widen its own grant by casting back to a list.
        rooms = list.AsReadOnly();
        return true;
    }

    private static JwtIdentity? Fail(out string error, string reason)
    {
        error = reason;
        return null;
    }

    /// <summary>
    /// Base64url in its one canonical spelling: decoding and encoding again gives the same text (so no whitespace,
    /// no <c>+</c> or <c>/</c>, unused trailing bits zero), with padding optional but correct when present.
    /// A signature cannot be re-spelled, and every part means one byte string.
    /// </summary>
    private static bool IsCanonicalBase64Url(string part)
    {
        var text = part.AsSpan().TrimEnd('=');
        var padding = part.Length - text.Length;
        if (padding > 0 && (padding > 2 || part.Length % 4 != 0)) return false;
        var bytes = new byte[Base64Url.GetMaxDecodedLength(text.Length)];
        if (Base64Url.DecodeFromChars(text, bytes, out _, out var written) != OperationStatus.Done) return false;
        return text.SequenceEqual(Base64Url.EncodeToString(bytes.AsSpan(0, written)));
    }

    private static JsonDocument? ParseObject(string part)
    {
        JsonDocument? document = null;
        try
        {
            document = JsonDocument.Parse(Base64Url.DecodeFromChars(part.AsSpan().TrimEnd('=')), JsonOptions);
            if (document.RootElement.ValueKind == JsonValueKind.Object) return document;
            document.Dispose();
            return null;
        }
        catch (JsonException)
        {
            // Parse errors are expected on hostile input; their messages may echo token content, so they are dropped.
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
}
