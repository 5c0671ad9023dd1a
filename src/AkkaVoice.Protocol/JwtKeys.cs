using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.IdentityModel.Tokens;

namespace AkkaVoice.Protocol;

/// <summary>
/// The public keys of an identity provider for <see cref="JwtValidator"/>: RSA keys (RS256, at least 2048 bits)
/// and P-256 EC keys (ES256), from a PEM file (<c>--jwt-public-key</c>: a public key or a certificate) or a
/// JWKS file (<c>--jwt-jwks-file</c>). Each key verifies only its own algorithm; a symmetric key is never
/// taken from these files.
/// </summary>
public sealed class JwtKeys
{
    public const int MinRsaBits = 2048;

    private const string P256 = "1.2.840.10045.3.1.7";

    private JwtKeys(IReadOnlyList<SecurityKey> keys) => Keys = keys;

    public IReadOnlyList<SecurityKey> Keys { get; }

    /// <summary>The algorithms these keys verify: RS256 when one is RSA, ES256 when one is EC.</summary>
    public IEnumerable<string> Algorithms =>
        new[] { (SecurityAlgorithms.RsaSha256, typeof(RsaSecurityKey)), (SecurityAlgorithms.EcdsaSha256, typeof(ECDsaSecurityKey)) }
            .Where(a => Keys.Any(k => a.Item2.IsInstanceOfType(k))).Select(a => a.Item1);

    /// <summary>The one key of a PEM text: a public key (SPKI or PKCS#1) or a certificate.</summary>
    public static JwtKeys FromPem(string pem)
    {
        if (pem.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
        {
            using var certificate = X509Certificate2.CreateFromPem(pem);
            return new([Checked(certificate.GetRSAPublicKey() as AsymmetricAlgorithm ?? certificate.GetECDsaPublicKey()
                ?? throw new ArgumentException("the certificate's key is neither RSA nor EC"), null)]);
        }
        return new([Checked(Import(RSA.Create(), pem) ?? Import(ECDsa.Create(), pem)
            ?? throw new ArgumentException("the PEM holds no RSA or EC public key"), null)]);
    }

    private static AsymmetricAlgorithm? Import(AsymmetricAlgorithm key, string pem)
    {
        try
        {
            key.ImportFromPem(pem);
            return key;
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            key.Dispose();
            return null;
        }
    }

    /// <summary>The RSA and EC P-256 keys of a JWKS document (RFC 7517); any other key in it is refused.</summary>
    public static JwtKeys FromJwks(string json)
    {
        JsonWebKeySet set;
        try
        {
            set = new JsonWebKeySet(json);
        }
        catch (ArgumentException)
        {
            throw new ArgumentException("the JWKS is not a JSON object with a keys array");
        }
        if (set.Keys.Count == 0) throw new ArgumentException("the JWKS has no keys");
        var keys = new List<SecurityKey>();
        foreach (var jwk in set.Keys)
        {
            if (jwk.Use is { Length: > 0 } use && use != "sig") continue;
            AsymmetricAlgorithm key = jwk.Kty switch
            {
                JsonWebAlgorithmsKeyTypes.RSA => RSA.Create(new RSAParameters { Modulus = Base64UrlEncoder.DecodeBytes(jwk.N), Exponent = Base64UrlEncoder.DecodeBytes(jwk.E) }),
                JsonWebAlgorithmsKeyTypes.EllipticCurve when jwk.Crv == JsonWebKeyECTypes.P256 => ECDsa.Create(new ECParameters
                {
                    Curve = ECCurve.NamedCurves.nistP256,
                    Q = new ECPoint { X = Base64UrlEncoder.DecodeBytes(jwk.X), Y = Base64UrlEncoder.DecodeBytes(jwk.Y) },
                }),
                _ => throw new ArgumentException($"the JWKS key {jwk.Kid} is {jwk.Kty} {jwk.Crv}; only RSA and EC P-256 keys verify tokens"),
            };
            keys.Add(Checked(key, jwk.Kid));
        }
        if (keys.Count == 0) throw new ArgumentException("the JWKS has no signing keys");
        return new(keys);
    }

    private static SecurityKey Checked(AsymmetricAlgorithm key, string? kid) => key switch
    {
        RSA rsa when rsa.KeySize < MinRsaBits => throw new ArgumentException($"an RSA key must have at least {MinRsaBits} bits, not {rsa.KeySize}"),
        RSA rsa => new RsaSecurityKey(rsa) { KeyId = kid },
        ECDsa ec when ec.ExportParameters(false).Curve.Oid?.Value != P256 => throw new ArgumentException("an EC key must be on the P-256 curve (ES256)"),
        ECDsa ec => new ECDsaSecurityKey(ec) { KeyId = kid },
        _ => throw new ArgumentException("the key is neither RSA nor EC"),
    };
}
