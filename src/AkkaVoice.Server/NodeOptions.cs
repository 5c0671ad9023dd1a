using System.Text;
using Akka.Actor;
using Akka.Configuration;
using AkkaVoice.Cluster;
using AkkaVoice.Protocol;

namespace AkkaVoice.Server;

/// <summary>
/// Where the node listens and whom it joins: the flags of PROTOCOL.md section 6 and their
/// <c>AKKAVOICE_*</c> environment twins (flags win), over the defaults in <c>akkavoice.node</c> of
/// hocon/akkavoice.conf. Remoting and clustering take these through Akka.Hosting's
/// <c>WithRemoting</c> and <c>WithClustering</c>; Kestrel binds <see cref="Bind"/>:<see cref="HttpPort"/>.
/// </summary>
public sealed record NodeOptions
{
    public required int HttpPort { get; init; }
    public required string Bind { get; init; }
    public required int AkkaPort { get; init; }
    public required string Hostname { get; init; }
    public required IReadOnlyList<string> Seeds { get; init; }
    public string? JwtSecret { get; init; }
    public string? AdminToken { get; init; }

    /// <summary>The server API's bearer token (<c>--api-token</c>); null leaves <c>/api/v1</c> open.</summary>
    public string? ApiToken { get; init; }

    /// <summary>Where the node's rooms' events go (<c>--webhook-url</c>, <c>--webhook-secret</c>); null when no URL is set.</summary>
    public Cluster.Webhooks.WebhookSettings? Webhooks { get; init; }

    /// <summary>Extra HOCON files (<c>--config</c>), layered over hocon/akkavoice.conf.</summary>
    public required IReadOnlyList<string> ConfigFiles { get; init; }

    /// <summary>
    /// The node's stable name (<c>--node-name</c> or <c>akkavoice.node-name</c>), its key in the room
    /// directory; null weighs the node by host:port. Carried as the cluster role <c>name:&lt;name&gt;</c>.
    /// </summary>
    public string? NodeName { get; init; }

    /// <summary>
    /// The node's cluster roles: those the HOCON sets (<c>akka.cluster.roles</c>), with <c>name:&lt;name&gt;</c>
    /// in place of any older name role. The allocation strategy sees members, and so their roles, and weighs
    /// each node by that name (RoomDirectory).
    /// </summary>
    public IReadOnlyList<string> Roles { get; init; } = [];

    /// <summary>The flags; each one's configuration key is its environment variable without <c>AKKAVOICE_</c>.</summary>
    private static readonly string[] Flags =
        ["http-port", "bind", "akka-port", "hostname", "seeds", "routing", "jwt-secret", "admin-token", "config", "node-name",
            "api-token", "webhook-url", "webhook-secret"];

    private static string KeyOf(string flag) => flag.Replace('-', '_').ToUpperInvariant();

    /// <summary><c>--http-port</c> to <c>HTTP_PORT</c>, the key <c>AKKAVOICE_HTTP_PORT</c> also binds to.</summary>
    public static IDictionary<string, string> SwitchMappings { get; } = Flags.ToDictionary(f => "--" + f, KeyOf);

    /// <summary>
    /// Refuses what the command-line provider would silently take or drop: an argument that is not a flag,
    /// an unknown flag, a flag without a value.
    /// </summary>
    public static void CheckArguments(string[] args)
    {
        for (int i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unexpected argument '{arg}'");
            var name = arg[2..];
            var eq = name.IndexOf('=');
            if (eq >= 0) name = name[..eq];
            if (!Flags.Contains(name)) throw new ArgumentException($"unknown flag --{name}; known: {string.Join(", ", Flags.Select(f => "--" + f))}");
            if (eq < 0 && ++i >= args.Length) throw new ArgumentException($"--{name} needs a value");
        }
    }

    /// <summary>The HOCON files named by <c>--config</c> / <c>AKKAVOICE_CONFIG</c>.</summary>
    public static IReadOnlyList<string> ConfigFilesOf(IConfiguration flags) => Split(Get(flags, "config"));

    /// <summary>The routing named by <c>--routing</c> / <c>AKKAVOICE_ROUTING</c>, or null to keep <c>akkavoice.routing</c>.</summary>
    public static Routing? RoutingOf(IConfiguration flags) => Get(flags, "routing") is { } name
        ? VoiceSettings.ParseRouting(name) ?? throw new ArgumentException($"--routing must be interest, via-room or broadcast, not '{name}'")
        : null;

    /// <summary>Binds the flags over <c>akkavoice.node</c>; throws with the flag's or the key's name on a bad value.</summary>
    public static NodeOptions From(IConfiguration flags, Config hocon)
    {
        var node = new HoconSettings(hocon, "akkavoice.node");
        var secret = Get(flags, "jwt-secret");
        if (secret is not null && Encoding.UTF8.GetByteCount(secret) < JwtValidator.MinSecretBytes)
            throw new ArgumentException($"--jwt-secret must be at least {JwtValidator.MinSecretBytes} bytes (HS256 needs a 256-bit key)");
        var seeds = Get(flags, "seeds") is { } list ? Split(list) : node.StringList("seeds");
        var name = NameOf(Get(flags, "node-name") ?? (hocon.HasPath("akkavoice.node-name") ? hocon.GetString("akkavoice.node-name") : null));
        foreach (var seed in seeds)
        {
            if (!IsAddress(seed)) throw new ArgumentException($"--seeds must list Akka addresses like akka.tcp://akkavoice@host:4053, not '{seed}'");
        }
        return new NodeOptions
        {
            HttpPort = Port(flags, node, "http-port"),
            AkkaPort = Port(flags, node, "akka-port"),
            Bind = Get(flags, "bind") ?? node.String("bind"),
            Hostname = Get(flags, "hostname") ?? node.String("hostname"),
            Seeds = seeds,
            JwtSecret = secret,
            AdminToken = Get(flags, "admin-token"),
            ApiToken = Get(flags, "api-token"),
            Webhooks = Cluster.Webhooks.WebhookSettings.From(Get(flags, "webhook-url"), Get(flags, "webhook-secret"), hocon),
            ConfigFiles = ConfigFilesOf(flags),
            NodeName = name,
            Roles = RolesOf(hocon, name),
        };
    }

    private static IReadOnlyList<string> RolesOf(Config hocon, string? name)
    {
        var prefix = Cluster.Directory.RoomDirectory.NameRolePrefix;
        var roles = (hocon.GetStringList("akka.cluster.roles") ?? []).Where(r => !r.StartsWith(prefix, StringComparison.Ordinal));
        return [.. name is null ? roles : roles.Append(prefix + name)];
    }

    private static string? NameOf(string? name)
    {
        if (string.IsNullOrEmpty(name)) return null;
        if (name.Length > 128 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or ':'))
            throw new ArgumentException($"--node-name must be 1-128 characters of A-Z a-z 0-9 . - _ :, not '{name}'");
        return name;
    }

    /// <summary>An empty value (an environment variable set to nothing) counts as not given.</summary>
    private static string? Get(IConfiguration flags, string flag) => flags[KeyOf(flag)] is { Length: > 0 } value ? value : null;

    private static int Port(IConfiguration flags, HoconSettings node, string flag)
    {
        if (Get(flags, flag) is not { } value) return node.Int(flag, 0, 65535);
        if (int.TryParse(value, out var port) && port is >= 0 and <= 65535) return port;
        throw new ArgumentException($"--{flag} must be a port number (0-65535), not '{value}'");
    }

    private static bool IsAddress(string seed)
    {
        try
        {
            return Address.Parse(seed) is { Host: not null, Port: not null };
        }
        catch (Exception e) when (e is UriFormatException or ArgumentException or FormatException)
        {
            return false;
        }
    }

    private static string[] Split(string? list) =>
        list is null ? [] : list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
