using AkkaVoice.Protocol;
using Microsoft.Extensions.Primitives;

namespace AkkaVoice.Server;

/// <summary>The node's access rules: JWT validation for <c>/ws</c>, allowed origins, and the admin token.</summary>
public sealed class Security(NodeOptions options, IReadOnlyList<string> allowedOrigins)
{
    /// <summary>Null in development mode (no secret and no public key).</summary>
    public JwtValidator? Jwt { get; } = ValidatorOf(options);

    private static JwtValidator? ValidatorOf(NodeOptions options)
    {
        var keys = (options.JwtPublicKey, options.JwtJwksFile) switch
        {
            (not null, not null) => throw new ArgumentException("give --jwt-public-key or --jwt-jwks-file, not both"),
            (string pem, null) => Read("--jwt-public-key", pem, JwtKeys.FromPem),
            (null, string jwks) => Read("--jwt-jwks-file", jwks, JwtKeys.FromJwks),
            _ => null,
        };
        return options.JwtSecret is null && keys is null ? null : new JwtValidator(options.JwtSecret, keys);
    }

    private static JwtKeys Read(string flag, string path, Func<string, JwtKeys> parse)
    {
        try
        {
            return parse(File.ReadAllText(path));
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{flag} {path}: {e.Message}");
        }
    }

    /// <summary>Any origin when none are configured; otherwise only the listed ones (browsers always send one).</summary>
    public bool OriginAllowed(StringValues origin) =>
        allowedOrigins.Count == 0 || StringValues.IsNullOrEmpty(origin) || allowedOrigins.Contains(origin.ToString(), StringComparer.OrdinalIgnoreCase);

    /// <summary>True when no admin token is set, or the request carries it as a bearer token.</summary>
    public bool AdminAllowed(HttpRequest request) => Bearer(request, options.AdminToken);

    /// <summary>True when no API token is set, or the request carries it as a bearer token.</summary>
    public bool ApiAllowed(HttpRequest request) => Bearer(request, options.ApiToken);

    private static bool Bearer(HttpRequest request, string? expected)
    {
        if (expected is not { Length: > 0 } token) return true;
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return false;
        var given = System.Text.Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim());
        return System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(given, System.Text.Encoding.UTF8.GetBytes(token));
    }
}
