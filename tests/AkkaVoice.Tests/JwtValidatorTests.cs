using System.Security.Cryptography;
using System.Text;
using AkkaVoice.Protocol;
using Xunit;

namespace AkkaVoice.Tests;

public sealed class JwtValidatorTests
{
    private const string Secret = "test-secret-for-akkavoice-0123456789";
    private const string Hs256Header = """{"alg":"HS256","typ":"JWT"}""";

    private static readonly DateTimeOffset Now = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly long NowSeconds = Now.ToUnixTimeSeconds();

    /// <summary>A clock frozen at one instant, so expiry tests never depend on when they run.</summary>
    private sealed class FakeTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static JwtValidator Validator() => new(Secret, new FakeTime(Now));

    private static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string B64(string text) => B64(Encoding.UTF8.GetBytes(text));

    private static string Sign(string headerJson, string payloadJson, string secret = Secret)
    {
        var input = B64(headerJson) + "." + B64(payloadJson);
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.ASCII.GetBytes(input));
        return input + "." + B64(signature);
    }

    /// <summary>A correctly signed HS256 token for the given payload.</summary>
    private static string Token(string payloadJson) => Sign(Hs256Header, payloadJson);

    /// <summary>A payload that is valid an hour from now, with optional extra claims spliced in.</summary>
    private static string Payload(string sub = "alice", string extra = "") =>
        $$"""{"sub":"{{sub}}","exp":{{NowSeconds + 3600}}{{extra}}}""";

    private static JwtIdentity Accepted(string token)
    {
        var identity = Validator().Validate(token, out var error);
        Assert.True(identity is not null, $"expected the token to be accepted, but: {error}");
        Assert.Equal("", error);
        return identity;
    }

    private static string Refused(string? token)
    {
        var identity = Validator().Validate(token, out var error);
        Assert.Null(identity);
        Assert.False(string.IsNullOrWhiteSpace(error));
        if (!string.IsNullOrEmpty(token)) Assert.DoesNotContain(token, error);
        return error;
    }

    [Fact]
    public void A_valid_token_grants_its_user_and_rooms()
    {
        var identity = Accepted(Token(Payload("alice", ""","rooms":["lobby","team-*"]""")));

        Assert.Equal("alice", identity.User);
        Assert.Equal(["lobby", "team-*"], identity.Rooms!);
    }

    [Fact]
    public void A_valid_token_without_a_rooms_claim_has_no_room_list()
    {
        var identity = Accepted(Token(Payload("bob")));

        Assert.Equal("bob", identity.User);
        Assert.Null(identity.Rooms);
    }

    [Fact]
    public void The_granted_rooms_cannot_be_changed_through_the_identity()
    {
        var identity = Accepted(Token(Payload("alice", ""","rooms":["lobby"]""")));

        Assert.False(identity.Rooms is List<string> or string[]);
    }

    [Theory]
    [InlineData("""{"alg":"HS256"}""")]
    [InlineData("""{"typ":"whatever","alg":"HS256"}""")]
    [InlineData("""{"alg":"HS256","kid":"k1","typ":"JWT"}""")]
    public void A_header_is_accepted_whatever_its_typ(string header)
    {
        Assert.Equal("alice", Accepted(Sign(header, Payload())).User);
    }

    [Fact]
    public void A_header_whose_typ_is_not_a_string_is_refused()
    {
        // RFC 7515 section 4.1.9: typ is a string; the JWT library refuses to read a header where it is not.
        Refused(Sign("""{"alg":"HS256","kid":"k1","typ":7}""", Payload()));
    }

    [Fact]
    public void Padded_base64url_parts_are_tolerated()
    {
        // A 32-byte signature always needs one '='; the other parts get whatever padding their length calls for.
        static string Pad(string part) => part + new string('=', (4 - part.Length % 4) % 4);
        var parts = Token(Payload("alice")).Split('.');
        var input = Pad(parts[0]) + "." + Pad(parts[1]);
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.ASCII.GetBytes(input));

        Assert.Equal("alice", Accepted(input + "." + Pad(B64(signature))).User);
    }

    [Fact]
    public void An_expired_token_is_refused()
    {
        Assert.Contains("expired", Refused(Token($$"""{"sub":"alice","exp":{{NowSeconds - 1}}}""")));
    }

    [Fact]
    public void A_token_is_expired_at_the_exact_second_of_its_exp_because_there_is_no_clock_skew()
    {
        Assert.Contains("expired", Refused(Token($$"""{"sub":"alice","exp":{{NowSeconds}}}""")));
    }

    [Fact]
    public void A_fractional_exp_is_honoured_to_the_fraction()
    {
        Accepted(Token($$"""{"sub":"alice","exp":{{NowSeconds}}.5}"""));
        Refused(Token($$"""{"sub":"alice","exp":{{NowSeconds - 1}}.5}"""));
    }

    [Fact]
    public void A_token_without_exp_is_refused()
    {
        Assert.Contains("exp", Refused(Token("""{"sub":"alice"}""")));
    }

    [Theory]
    [InlineData("\"1900000000\"")]
    [InlineData("null")]
    [InlineData("true")]
    [InlineData("{}")]
    [InlineData("[1900000000]")]
    [InlineData("1e999")]
    public void A_token_whose_exp_is_not_a_finite_number_is_refused(string exp)
    {
        Assert.Contains("exp", Refused(Token($$"""{"sub":"alice","exp":{{exp}}}""")));
    }

    [Fact]
    public void A_token_with_a_tampered_payload_is_refused()
    {
        var parts = Token(Payload("alice")).Split('.');
        var forged = parts[0] + "." + B64(Payload("mallory")) + "." + parts[2];

        Assert.Contains("signature", Refused(forged));
    }

    [Fact]
    public void A_token_with_a_corrupted_signature_is_refused()
    {
        var token = Token(Payload());
        var last = token[^2] == 'A' ? 'B' : 'A';
        var corrupted = token[..^2] + last + token[^1];

        Assert.Contains("signature", Refused(corrupted));
    }

    [Fact]
    public void A_token_with_a_truncated_signature_is_refused()
    {
        var token = Token(Payload());
        var parts = token.Split('.');
        var truncated = parts[0] + "." + parts[1] + "." + parts[2][..20];

        Refused(truncated);
    }

    [Fact]
    public void A_token_signed_with_another_secret_is_refused()
    {
        Assert.Contains("signature", Refused(Sign(Hs256Header, Payload(), "some-other-secret")));
    }

    [Fact]
    public void An_unsigned_token_with_alg_none_is_refused()
    {
        var token = B64("""{"alg":"none","typ":"JWT"}""") + "." + B64(Payload()) + ".";

        Assert.Contains("alg", Refused(token));
    }

    [Fact]
    public void A_token_signed_with_HS512_is_refused()
    {
        var input = B64("""{"alg":"HS512","typ":"JWT"}""") + "." + B64(Payload());
        var signature = HMACSHA512.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.ASCII.GetBytes(input));

        Assert.Contains("alg", Refused(input + "." + B64(signature)));
    }

    [Theory]
    [InlineData("""{"alg":"none"}""")]
    [InlineData("""{"alg":"HS512"}""")]
    [InlineData("""{"alg":"RS256"}""")]
    [InlineData("""{"alg":"HS384"}""")]
    [InlineData("""{"alg":"ES256"}""")]
    [InlineData("""{"alg":"PS256"}""")]
    [InlineData("""{"alg":"hs256"}""")]
    [InlineData("""{"alg":"HS256 "}""")]
    [InlineData("""{"alg":""}""")]
    [InlineData("""{"alg":null}""")]
    [InlineData("""{"alg":["HS256"]}""")]
    [InlineData("""{"typ":"JWT"}""")]
    [InlineData("""{"ALG":"HS256"}""")]
    public void A_header_without_alg_HS256_is_refused_even_when_the_HS256_signature_is_right(string header)
    {
        Assert.Contains("alg", Refused(Sign(header, Payload())));
    }

    [Fact]
    public void A_header_with_critical_extensions_is_refused()
    {
        Refused(Sign("""{"alg":"HS256","crit":["exp"],"exp":1}""", Payload()));
    }

    [Theory]
    [InlineData("""{"alg":"HS256","alg":"none"}""")]
    [InlineData("""{"alg":"none","alg":"HS256"}""")]
    public void A_header_with_a_duplicated_alg_is_refused(string header)
    {
        Refused(Sign(header, Payload()));
    }

    [Fact]
    public void A_payload_with_a_duplicated_claim_is_refused()
    {
        Refused(Token($$"""{"sub":"alice","exp":{{NowSeconds - 10}},"exp":{{NowSeconds + 3600}}}"""));
    }

    [Fact]
    public void A_token_without_sub_is_refused()
    {
        Assert.Contains("sub", Refused(Token($$"""{"exp":{{NowSeconds + 3600}}}""")));
    }

    [Theory]
    [InlineData("\"\"")]
    [InlineData("\"bad user\"")]
    [InlineData("\"a/b\"")]
    [InlineData("\"al\\u00e9\"")]
    [InlineData("\"\\ud800\"")]
    [InlineData("\"alice\\u0000\"")]
    [InlineData("42")]
    [InlineData("null")]
    [InlineData("[\"alice\"]")]
    public void A_token_with_an_invalid_sub_is_refused(string sub)
    {
        Assert.Contains("sub", Refused(Token($$"""{"sub":{{sub}},"exp":{{NowSeconds + 3600}}}""")));
    }

    [Fact]
    public void A_sub_longer_than_64_characters_is_refused_and_one_of_64_accepted()
    {
        Assert.Contains("sub", Refused(Token(Payload(new string('a', 65)))));
        Assert.Equal(new string('a', 64), Accepted(Token(Payload(new string('a', 64)))).User);
    }

    [Fact]
    public void A_sub_with_every_allowed_punctuation_is_accepted()
    {
        Assert.Equal("user_1.team-2:x", Accepted(Token(Payload("user_1.team-2:x"))).User);
    }

    [Theory]
    [InlineData("\"lobby\"")]
    [InlineData("{\"lobby\":true}")]
    [InlineData("42")]
    [InlineData("null")]
    [InlineData("true")]
    public void A_rooms_claim_that_is_not_an_array_is_refused(string rooms)
    {
        Assert.Contains("rooms", Refused(Token(Payload("alice", $",\"rooms\":{rooms}"))));
    }

    [Theory]
    [InlineData("[42]")]
    [InlineData("[null]")]
    [InlineData("[\"lobby\",true]")]
    [InlineData("[[\"lobby\"]]")]
    [InlineData("[{\"room\":\"lobby\"}]")]
    [InlineData("[\"\"]")]
    [InlineData("[\"bad room\"]")]
    [InlineData("[\"a/b\"]")]
    [InlineData("[\"\\ud800\"]")]
    [InlineData("[\"lobby\\u00e9*\"]")]
    [InlineData("[\"team-**\"]")]
    [InlineData("[\"**\"]")]
    [InlineData("[\"*team\"]")]
    [InlineData("[\"te*am\"]")]
    public void A_rooms_claim_with_an_entry_that_is_not_a_room_or_prefix_is_refused(string rooms)
    {
        Assert.Contains("rooms", Refused(Token(Payload("alice", $",\"rooms\":{rooms}"))));
    }

    [Fact]
    public void A_rooms_entry_longer_than_an_id_is_refused()
    {
        Refused(Token(Payload("alice", $",\"rooms\":[\"{new string('r', 65)}\"]")));
    }

    [Fact]
    public void An_empty_rooms_claim_grants_no_room()
    {
        var identity = Accepted(Token(Payload("alice", ",\"rooms\":[]")));

        Assert.Empty(identity.Rooms!);
        Assert.False(identity.MayJoin("lobby"));
    }

    [Theory]
    [InlineData("lobby", true)]
    [InlineData("lobby2", false)]
    [InlineData("lobb", false)]
    [InlineData("Lobby", false)]
    [InlineData("team-red", true)]
    [InlineData("team-", true)]
    [InlineData("team", false)]
    [InlineData("other", false)]
    public void MayJoin_matches_rooms_exactly_or_by_a_starred_prefix(string room, bool allowed)
    {
        var identity = Accepted(Token(Payload("alice", ""","rooms":["lobby","team-*"]""")));

        Assert.Equal(allowed, identity.MayJoin(room));
    }

    [Theory]
    [InlineData("lobby")]
    [InlineData("team-red")]
    [InlineData("x")]
    public void A_lone_star_grants_every_room(string room)
    {
        Assert.True(Accepted(Token(Payload("alice", ""","rooms":["*"]"""))).MayJoin(room));
    }

    [Theory]
    [InlineData("lobby")]
    [InlineData("anything-at-all")]
    public void A_token_without_a_rooms_claim_may_join_any_room(string room)
    {
        Assert.True(Accepted(Token(Payload())).MayJoin(room));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("abc.def")]
    [InlineData("a.b.c.d")]
    [InlineData("...")]
    public void A_token_without_exactly_three_parts_is_refused(string token)
    {
        Refused(token);
    }

    [Fact]
    public void A_valid_token_with_a_fourth_part_appended_is_refused()
    {
        Assert.Contains("three parts", Refused(Token(Payload()) + ".AAAA"));
    }

    [Theory]
    [InlineData("!!!!")]
    [InlineData("ab+/")]
    [InlineData("abcde")]
    [InlineData("ab cd")]
    [InlineData("ab\ncd")]
    [InlineData("abc===")]
    [InlineData("a=bc")]
    [InlineData("ab=")]
    [InlineData("YR")]
    [InlineData("é")]
    public void A_part_that_is_not_base64url_is_refused(string garbage)
    {
        var parts = Token(Payload()).Split('.');

        Assert.Contains("base64url", Refused(garbage + "." + parts[1] + "." + parts[2]));
        Assert.Contains("base64url", Refused(parts[0] + "." + garbage + "." + parts[2]));
        Assert.Contains("base64url", Refused(parts[0] + "." + parts[1] + "." + garbage));
    }

    [Fact]
    public void A_signature_spelled_with_non_zero_spare_bits_is_refused()
    {
        // 32 bytes encode to 43 characters whose last one carries 2 spare bits; setting one re-spells the same bytes.
        var token = Token(Payload());
        var last = token[^1];
        var alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        var respelled = token[..^1] + alphabet[alphabet.IndexOf(last) | 1];

        Refused(respelled);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2,3]")]
    [InlineData("\"HS256\"")]
    [InlineData("")]
    [InlineData("{\"alg\":\"HS256\"")]
    [InlineData("{\"alg\":\"HS256\",}")]
    public void A_header_that_is_not_a_JSON_object_is_refused(string header)
    {
        Refused(B64(header) + "." + B64(Payload()) + ".c2ln");
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2,3]")]
    [InlineData("")]
    [InlineData("{\"sub\":\"alice\"")]
    public void A_signed_payload_that_is_not_a_JSON_object_is_refused(string payload)
    {
        Assert.Contains("payload", Refused(Sign(Hs256Header, payload)));
    }

    [Fact]
    public void A_payload_that_is_not_UTF8_is_refused()
    {
        var input = B64(Hs256Header) + "." + B64([(byte)'{', (byte)'"', 0xFF, 0xFE, (byte)'"', (byte)':', (byte)'1', (byte)'}']);
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.ASCII.GetBytes(input));

        Refused(input + "." + B64(signature));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void A_missing_token_is_refused(string? token)
    {
        Assert.Contains("missing", Refused(token));
    }

    [Fact]
    public void A_token_whose_nbf_is_in_the_future_is_refused()
    {
        Assert.Contains("not valid yet", Refused(Token(Payload("alice", $",\"nbf\":{NowSeconds + 1}"))));
    }

    [Theory]
    [InlineData(-60)]
    [InlineData(0)]
    public void A_token_whose_nbf_has_arrived_is_accepted(int offset)
    {
        Accepted(Token(Payload("alice", $",\"nbf\":{NowSeconds + offset}")));
    }

    [Theory]
    [InlineData("\"0\"")]
    [InlineData("null")]
    public void A_token_whose_nbf_is_not_a_number_is_refused(string nbf)
    {
        Assert.Contains("nbf", Refused(Token(Payload("alice", $",\"nbf\":{nbf}"))));
    }

    [Fact]
    public void A_token_of_up_to_8_KiB_is_accepted_and_a_longer_one_refused()
    {
        string WithPadding(int n) => Token(Payload("alice", $",\"pad\":\"{new string('x', n)}\""));
        var n = 0;
        while (WithPadding(n + 1).Length <= JwtValidator.MaxTokenLength) n++;

        var largest = WithPadding(n);
        Assert.InRange(largest.Length, JwtValidator.MaxTokenLength - 4, JwtValidator.MaxTokenLength);
        Accepted(largest);
        Assert.Contains("longer", Refused(WithPadding(n + 1)));
        Assert.Equal(8 * 1024, JwtValidator.MaxTokenLength);
    }

    [Fact]
    public void Deeply_nested_claims_are_refused_without_throwing()
    {
        var deep = new string('[', 1000) + new string(']', 1000);

        Assert.Contains("payload", Refused(Token(Payload("alice", $",\"x\":{deep}"))));
    }

    [Fact]
    public void Validate_never_throws_on_mangled_tokens()
    {
        var validator = Validator();
        var random = new Random(12345);
        var valid = Token(Payload("alice", ""","rooms":["lobby","team-*"]"""));
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \u00e9\0";

        for (var i = 0; i < 20_000; i++)
        {
            var chars = valid.ToCharArray();
            var edits = random.Next(1, 4);
            for (var e = 0; e < edits; e++) chars[random.Next(chars.Length)] = alphabet[random.Next(alphabet.Length)];
            var mangled = new string(chars);

            var identity = validator.Validate(mangled, out var error);

            if (identity is null) Assert.False(string.IsNullOrEmpty(error));
        }

        for (var i = 0; i < 2_000; i++)
        {
            var bytes = new byte[random.Next(0, 200)];
            random.NextBytes(bytes);
            var header = random.Next(2) == 0 ? B64(bytes) : B64(Hs256Header);
            random.NextBytes(bytes);

            Assert.Null(validator.Validate(header + "." + B64(bytes) + "." + B64(bytes[..Math.Min(32, bytes.Length)]), out _));
        }
    }

    [Fact]
    public void The_secret_must_not_be_empty()
    {
        Assert.Throws<ArgumentException>(() => new JwtValidator(""));
        Assert.Throws<ArgumentNullException>(() => new JwtValidator(null!));
    }

    [Fact]
    public void The_secret_must_be_at_least_32_bytes()
    {
        var error = Assert.Throws<ArgumentException>(() => new JwtValidator(new string('k', 31)));
        Assert.Contains("32 bytes", error.Message);
        Assert.NotNull(new JwtValidator(new string('k', 32), new FakeTime(Now)).Validate(Sign(Hs256Header, Payload(), new string('k', 32)), out _));
    }

    [Fact]
    public void The_system_clock_is_used_when_no_time_provider_is_given()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var validator = new JwtValidator(Secret);

        Assert.NotNull(validator.Validate(Token($$"""{"sub":"alice","exp":{{now + 3600}}}"""), out _));
        Assert.Null(validator.Validate(Token($$"""{"sub":"alice","exp":{{now - 3600}}}"""), out _));
    }
}
