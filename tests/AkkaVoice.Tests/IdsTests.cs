using AkkaVoice.Protocol;
using Xunit;

namespace AkkaVoice.Tests;

public sealed class IdsTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("alice")]
    [InlineData("Alice42")]
    [InlineData("0")]
    [InlineData("user_1")]
    [InlineData("team.red")]
    [InlineData("team-red")]
    [InlineData("org:room")]
    [InlineData("_.-:")]
    [InlineData("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")]
    public void Ids_of_ascii_letters_digits_and_allowed_punctuation_are_valid(string id)
    {
        Assert.True(Ids.IsValid(id));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("bad user")]
    [InlineData(" alice")]
    [InlineData("alice ")]
    [InlineData("a/b")]
    [InlineData("a\\b")]
    [InlineData("a*")]
    [InlineData("a@b")]
    [InlineData("a+b")]
    [InlineData("a\tb")]
    [InlineData("alice\n")]
    [InlineData("a\0")]
    [InlineData("caf\u00e9")]
    [InlineData("\u03a9")]
    [InlineData("\u0661")]
    [InlineData("\uff21")]
    [InlineData("\ud83d\ude00")]
    public void Ids_with_anything_else_are_invalid(string? id)
    {
        Assert.False(Ids.IsValid(id));
    }

    [Fact]
    public void An_id_of_64_characters_is_valid_and_one_of_65_is_not()
    {
        Assert.Equal(64, Ids.MaxLength);
        Assert.True(Ids.IsValid(new string('a', 64)));
        Assert.True(Ids.IsValid(new string(':', 64)));
        Assert.False(Ids.IsValid(new string('a', 65)));
        Assert.False(Ids.IsValid(new string('a', 10_000)));
    }
}
