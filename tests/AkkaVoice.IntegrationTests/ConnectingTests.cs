using System.Text.Json;
using AkkaVoice.IntegrationTests.Support;
using AkkaVoice.Protocol;
using Xunit;

namespace AkkaVoice.IntegrationTests;

/// <summary>PROTOCOL.md section 1 in development mode (no JWT secret): subprotocol, identity, welcome.</summary>
public sealed class ConnectingTests(DefaultNode fixture) : IClassFixture<DefaultNode>
{
    private readonly TestNode node = fixture.Node;

    [Fact]
    public async Task The_first_message_is_welcome_with_user_session_and_the_nodes_akka_address()
    {
        var user = Names.User("alice");
        var (client, welcome) = await node.ConnectAsync(user);
        await using var _ = client;

        // ConnectAsync reads up to the welcome; it must have been the very first message.
        Assert.Equal("welcome", welcome.Type);
        Assert.Equal(user, welcome.Str("user"));
        Assert.False(string.IsNullOrEmpty(welcome.Str("session")));
        using var cluster = JsonDocument.Parse(await node.Http.GetStringAsync("admin/cluster"));
        Assert.Equal(cluster.RootElement.GetProperty("self").GetString(), welcome.Str("node"));
        Assert.StartsWith("akka.tcp://akkavoice@", welcome.Str("node"));
    }

    [Fact]
    public async Task The_first_message_is_welcome_even_before_the_client_sends_anything()
    {
        using var socket = await RawSocket.ConnectAsync(node.Ws("user=" + Names.User()), ["akkavoice.v1"]);
        var first = await socket.ReceiveJsonAsync();
        Assert.Equal("welcome", first.GetProperty("type").GetString());
    }

    [Fact]
    public async Task The_subprotocol_is_selected_when_offered()
    {
        var client = await node.ClientAsync(Names.User());
        await using var _ = client;
        Assert.Equal("akkavoice.v1", client.Socket.SubProtocol);

        using var socket = await RawSocket.ConnectAsync(node.Ws("user=" + Names.User()), ["chat.other", "akkavoice.v1"]);
        Assert.Equal("akkavoice.v1", socket.SubProtocol);
    }

    [Fact]
    public async Task A_client_that_offers_no_subprotocol_is_accepted()
    {
        var user = Names.User();
        using var socket = await RawSocket.ConnectAsync(node.Ws("user=" + user));
        Assert.Null(socket.SubProtocol);
        var welcome = await socket.ReceiveJsonAsync();
        Assert.Equal("welcome", welcome.GetProperty("type").GetString());
        Assert.Equal(user, welcome.GetProperty("user").GetString());

        await socket.SendJsonAsync(new { type = "ping", @ref = "p" });
        var pong = await socket.ReceiveJsonAsync();
        Assert.Equal("pong", pong.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Without_a_user_parameter_the_server_names_the_client_guest()
    {
        using var first = await RawSocket.ConnectAsync(node.Ws());
        using var second = await RawSocket.ConnectAsync(node.Ws());
        var a = (await first.ReceiveJsonAsync()).GetProperty("user").GetString()!;
        var b = (await second.ReceiveJsonAsync()).GetProperty("user").GetString()!;

        Assert.StartsWith("guest-", a);
        Assert.True(Ids.IsValid(a), $"{a} is a valid user id");
        Assert.True(a.Length > "guest-".Length);
        Assert.NotEqual(a, b);
    }

    [Theory]
    [InlineData("bad%20user")]
    [InlineData("a%2Fb")]
    [InlineData("caf%C3%A9")]
    [InlineData("semi%3Bcolon")]
    [InlineData("u12345678901234567890123456789012345678901234567890123456789012345")]
    public async Task An_invalid_user_is_refused_with_400_before_the_upgrade(string encodedUser)
    {
        var response = await RawHttp.UpgradeAsync(node.Port, "/ws?user=" + encodedUser, ("Sec-WebSocket-Protocol", "akkavoice.v1"));
        Assert.Equal(400, response.Status);
        Assert.False(response.Headers.ContainsKey("sec-websocket-accept"));
    }

    [Fact]
    public async Task A_user_id_of_64_allowed_characters_is_accepted()
    {
        var user = "Az09_.-:" + new string('x', 56);
        var (client, welcome) = await node.ConnectAsync(user);
        await using var _ = client;
        Assert.Equal(user, welcome.Str("user"));
    }

    [Fact]
    public async Task The_room_query_parameter_joins_nothing()
    {
        var room = Names.Room();
        var hinted = await VoiceClientFor($"user={Names.User()}&room={room}");
        await using var _ = hinted;
        await hinted.AssertAliveAsync();

        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await node.Http.GetAsync($"admin/rooms/{room}")).StatusCode);
        var other = await node.ClientAsync(Names.User());
        await using var __ = other;
        var joined = await other.JoinStrictAsync(room);
        Assert.Equal(1, joined.Json.GetProperty("members").GetArrayLength());
    }

    [Fact]
    public async Task Each_connection_gets_its_own_session_even_for_the_same_user()
    {
        var user = Names.User();
        var (a, wa) = await node.ConnectAsync(user);
        var (b, wb) = await node.ConnectAsync(user);
        await using var _ = a;
        await using var __ = b;
        Assert.NotEqual(wa.Str("session"), wb.Str("session"));
    }

    private Task<AkkaVoice.Client.VoiceClient> VoiceClientFor(string query) =>
        ConnectAndReadWelcomeAsync(node.Ws(query));

    private static async Task<AkkaVoice.Client.VoiceClient> ConnectAndReadWelcomeAsync(Uri uri)
    {
        var client = await AkkaVoice.Client.VoiceClient.ConnectAsync(uri);
        await client.NextOfTypeAsync("welcome");
        return client;
    }
}
