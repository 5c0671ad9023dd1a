using System.Security.Cryptography;
using System.Text;
using AkkaVoice.Protocol;
using Xunit;

namespace AkkaVoice.Tests;

/// <summary>RS256 and ES256 tokens of an identity provider, checked against its public key (PEM) or its JWKS.</summary>
public sealed class JwtKeysTests
{
    private static readonly DateTimeOffset Now = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private sealed class FixedTime : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Input(string alg, string? kid = null) =>
        B64(Encoding.UTF8.GetBytes(kid is null ? $$"""{"alg":"{{alg}}","typ":"JWT"}""" : $$"""{"alg":"{{alg}}","typ":"JWT","kid":"{{kid}}"}"""))
        + "." + B64(Encoding.UTF8.GetBytes($$"""{"sub":"alice","exp":{{Now.ToUnixTimeSeconds() + 3600}}}"""));

    private static string Rs256(RSA key, string? kid = null)
    {
        var input = Input("RS256", kid);
        return input + "." + B64(key.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    private static string Es256(ECDsa key, string? kid = null)
    {
        var input = Input("ES256", kid);
        return input + "." + B64(key.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256));
    }

    private static string Hs256(byte[] secret)
    {
        var input = Input("HS256");
        return input + "." + B64(HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(input)));
    }

    private static JwtValidator Validator(JwtKeys keys, string? secret = null) => new(secret, keys, new FixedTime());

    private static string Jwks(params string[] keys) => $$"""{"keys":[{{string.Join(",", keys)}}]}""";

    private static string RsaJwk(RSA key, string kid)
    {
        var p = key.ExportParameters(false);
        return $$"""{"kty":"RSA","use":"sig","kid":"{{kid}}","n":"{{B64(p.Modulus!)}}","e":"{{B64(p.Exponent!)}}"}""";
    }

    private static string EcJwk(ECDsa key, string kid)
    {
        var p = key.ExportParameters(false);
        return $$"""{"kty":"EC","crv":"P-256","kid":"{{kid}}","x":"{{B64(p.Q.X!)}}","y":"{{B64(p.Q.Y!)}}"}""";
    }

    [Fact]
    public void An_RS256_token_is_accepted_with_the_providers_public_key_and_refused_with_another()
    {
        using var provider = RSA.Create(2048);
        using var other = RSA.Create(2048);
        var validator = Validator(JwtKeys.FromPem(provider.ExportSubjectPublicKeyInfoPem()));
        Assert.Equal("alice", validator.Validate(Rs256(provider), out var error)?.User);
        Assert.Equal("", error);
        Assert.Null(validator.Validate(Rs256(other), out error));
        Assert.Equal("token signature does not match", error);
    }

    [Fact]
    public void An_ES256_token_is_accepted_with_the_providers_public_key_and_refused_with_another()
    {
        using var provider = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var validator = Validator(JwtKeys.FromPem(provider.ExportSubjectPublicKeyInfoPem()));
        Assert.Equal("alice", validator.Validate(Es256(provider), out var error)?.User);
        Assert.Null(validator.Validate(Es256(other), out error));
        Assert.Equal("token signature does not match", error);
    }

    [Fact]
    public void A_certificate_pem_gives_its_public_key()
    {
        using var provider = RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=idp", provider, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(Now.AddDays(-1), Now.AddDays(1));
        var validator = Validator(JwtKeys.FromPem(certificate.ExportCertificatePem()));
        Assert.Equal("alice", validator.Validate(Rs256(provider), out _)?.User);
    }

    [Fact]
    public void A_jwks_with_an_rsa_and_an_ec_key_accepts_tokens_of_both_by_kid_and_refuses_a_stranger()
    {
        using var rsa = RSA.Create(2048);
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var stranger = RSA.Create(2048);
        var validator = Validator(JwtKeys.FromJwks(Jwks(RsaJwk(rsa, "r1"), EcJwk(ec, "e1"))));
        Assert.Equal("alice", validator.Validate(Rs256(rsa, "r1"), out var error)?.User);
        Assert.Equal("alice", validator.Validate(Es256(ec, "e1"), out error)?.User);
        Assert.Equal("alice", validator.Validate(Rs256(rsa), out error)?.User);
        Assert.Null(validator.Validate(Rs256(stranger, "r1"), out error));
        Assert.Null(validator.Validate(Es256(ec, "r1"), out error));
    }

    [Fact]
    public void An_rs256_public_key_used_as_an_hs256_secret_does_not_validate()
    {
        using var provider = RSA.Create(2048);
        var pem = provider.ExportSubjectPublicKeyInfoPem();
        var keysOnly = Validator(JwtKeys.FromPem(pem));
        Assert.Null(keysOnly.Validate(Hs256(Encoding.UTF8.GetBytes(pem)), out var error));
        Assert.Equal("token alg must be RS256", error);
        Assert.Null(keysOnly.Validate(Hs256(provider.ExportSubjectPublicKeyInfo()), out error));

        // With a secret as well, HS256 is allowed, but only with that secret: the public key never becomes an HMAC key.
        var both = Validator(JwtKeys.FromPem(pem), "an-hs256-secret-of-at-least-32-bytes!");
        Assert.Null(both.Validate(Hs256(Encoding.UTF8.GetBytes(pem)), out error));
        Assert.Equal("token signature does not match", error);
        Assert.Equal("alice", both.Validate(Hs256(Encoding.UTF8.GetBytes("an-hs256-secret-of-at-least-32-bytes!")), out _)?.User);
        Assert.Equal("alice", both.Validate(Rs256(provider), out _)?.User);
    }

    [Fact]
    public void An_es256_token_is_refused_where_only_an_rsa_key_is_configured()
    {
        using var rsa = RSA.Create(2048);
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Assert.Null(Validator(JwtKeys.FromPem(rsa.ExportSubjectPublicKeyInfoPem())).Validate(Es256(ec), out var error));
        Assert.Equal("token alg must be RS256", error);
    }

    [Fact]
    public void Weak_or_foreign_keys_are_refused_when_loaded()
    {
        using var small = RSA.Create(1024);
        Assert.Contains("at least 2048 bits", Assert.Throws<ArgumentException>(() => JwtKeys.FromPem(small.ExportSubjectPublicKeyInfoPem())).Message);
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        Assert.Contains("P-256", Assert.Throws<ArgumentException>(() => JwtKeys.FromPem(p384.ExportSubjectPublicKeyInfoPem())).Message);
        Assert.Contains("only RSA and EC P-256", Assert.Throws<ArgumentException>(() =>
            JwtKeys.FromJwks(Jwks("""{"kty":"oct","kid":"h","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}"""))).Message);
        Assert.Throws<ArgumentException>(() => JwtKeys.FromPem("not a key"));
        Assert.Throws<ArgumentException>(() => JwtKeys.FromJwks("[]"));
    }
}
