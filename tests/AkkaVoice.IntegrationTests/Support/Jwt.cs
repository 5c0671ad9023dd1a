using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace AkkaVoice.IntegrationTests.Support;

/// <summary>Makes compact JWTs for the tests, good ones and deliberately bad ones.</summary>
public static class Jwt
{
    /// <summary>An HS256 token for <paramref name="sub"/> that expires in <paramref name="expiresIn"/> (negative: already expired).</summary>
    public static string Hs256(string secret, string sub, TimeSpan expiresIn, string[]? rooms = null)
    {
        var exp = DateTimeOffset.UtcNow.Add(expiresIn).ToUnixTimeSeconds();
        object payload = rooms is null ? new { sub, exp } : new { sub, exp, rooms };
        return Sign(secret, new { alg = "HS256", typ = "JWT" }, payload);
    }

    /// <summary>Any header and payload, signed with HMAC-SHA256 under <paramref name="secret"/>.</summary>
    public static string Sign(string secret, object header, object payload)
    {
        var input = Encode(header) + "." + Encode(payload);
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.ASCII.GetBytes(input));
        return input + "." + Base64Url(signature);
    }

    /// <summary>An unsigned token (<c>alg: none</c>, empty signature).</summary>
    public static string Unsigned(string sub, TimeSpan expiresIn) =>
        Encode(new { alg = "none", typ = "JWT" }) + "." + Encode(new { sub, exp = DateTimeOffset.UtcNow.Add(expiresIn).ToUnixTimeSeconds() }) + ".";

    private static string Encode(object value) => Base64Url(JsonSerializer.SerializeToUtf8Bytes(value));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
