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

    /// <summary>PEM file of an identity provider's public key for RS256/ES256 tokens (<c>--jwt-public-key</c>).</summary>
    public string? JwtPublicKey { get; init; }

    /// <summary>JWKS file of an identity provider's public keys for RS256/ES256 tokens (<c>--jwt-jwks-file</c>).</summary>
    public string? JwtJwksFile { get; init; }

    /// <summary>The cluster certificate (PKCS#12) for mutual TLS on remoting (<c>--tls-cert</c>); null: remoting in clear.</summary>
    public string? TlsCert { get; init; }

    public string? TlsCertPassword { get; init; }

    /// <summary>Remoting in clear on an address other than loopback, knowingly (<c>--allow-insecure-remoting</c>).</summary>
    public bool AllowInsecureRemoting { get; init; }

    /// <summary>Most WebSockets this node holds (<c>--max-connections</c>).</summary>
    public required int MaxConnections { get; init; }

    /// <summary>Most WebSockets one client address holds (<c>--max-connections-per-ip</c>); 0: no limit.</summary>
    public required int MaxConnectionsPerIp { get; init; }

    /// <summary>Proxies whose <c>X-Forwarded-For</c> names the client (<c>--trusted-proxies</c>).</summary>
    public required IReadOnlyList<System.Net.IPNetwork> TrustedProxies { get; init; }

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

    /// <summary>
    /// The secrets of PROTOCOL.md section 6: each also comes from a file (<c>--jwt-secret-file PATH</c>,
    /// <c>AKKAVOICE_JWT_SECRET_FILE</c>), the way Kubernetes mounts a Secret, and none is ever logged or shown.
    /// </summary>
    public static readonly string[] Secrets = ["jwt-secret", "admin-token", "api-token", "webhook-secret", "tls-cert-password"];

    /// <summary>Flags given without a value mean on.</summary>
    private static readonly string[] Switches = ["allow-insecure-remoting"];

    /// <summary>The flags; each one's configuration key is its environment variable without <c>AKKAVOICE_</c>.</summary>
    private static readonly string[] Flags =
    [
        "http-port", "bind", "akka-port", "hostname", "seeds", "routing", "jwt-secret", "admin-token", "config", "node-name",
        "api-token", "webhook-url", "webhook-secret",
        "jwt-public-key", "jwt-jwks-file", "tls-cert", "tls-cert-password", "allow-insecure-remoting",
        "max-connections", "max-connections-per-ip", "trusted-proxies",
        .. Secrets.Select(s => s + "-file"),
    ];

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
            if (eq < 0 && Switches.Contains(name)) continue;
            if (eq < 0 && ++i >= args.Length) throw new ArgumentException($"--{name} needs a value");
        }
    }

    /// <summary>The arguments with each bare switch (<c>--allow-insecure-remoting</c>) written as <c>--allow-insecure-remoting=true</c>.</summary>
    public static string[] ExpandSwitches(string[] args) =>
        [.. args.Select(a => a.StartsWith("--", StringComparison.Ordinal) && Switches.Contains(a[2..]) ? a + "=true" : a)];

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
        var secret = Secret(flags, "jwt-secret");
        if (secret is not null && Encoding.UTF8.GetByteCount(secret) < JwtValidator.MinSecretBytes)
            throw new ArgumentException($"--jwt-secret must be at least {JwtValidator.MinSecretBytes} bytes (HS256 needs a 256-bit key)");
        var seeds = Get(flags, "seeds") is { } list ? Split(list) : node.StringList("seeds");
        var name = NameOf(Get(flags, "node-name") ?? (hocon.HasPath("akkavoice.node-name") ? hocon.GetString("akkavoice.node-name") : null));
        foreach (var seed in seeds)
        {
            if (!IsAddress(seed)) throw new ArgumentException($"--seeds must list Akka addresses like akka.tcp://akkavoice@host:4053, not '{seed}'");
        }
        var bind = Get(flags, "bind") ?? node.String("bind");
        var tlsCert = Get(flags, "tls-cert");
        var insecure = Get(flags, "allow-insecure-remoting") is { } allow
            ? bool.TryParse(allow, out var on) ? on : throw new ArgumentException($"--allow-insecure-remoting must be true or false, not '{allow}'")
            : node.Bool("allow-insecure-remoting");
        if (tlsCert is null && !insecure && !IsLoopback(bind))
            throw new ArgumentException(
                $"remoting would bind {bind} in clear: give the cluster certificate with --tls-cert (AKKAVOICE_TLS_CERT), " +
                "or run without TLS knowingly with --allow-insecure-remoting (AKKAVOICE_ALLOW_INSECURE_REMOTING=true)");
        return new NodeOptions
        {
            HttpPort = Port(flags, node, "http-port"),
            AkkaPort = Port(flags, node, "akka-port"),
            Bind = bind,
            Hostname = Get(flags, "hostname") ?? node.String("hostname"),
            // A TLS node's addresses are akka.ssl.tcp://; seeds written the plain way are taken as meant.
            Seeds = tlsCert is null ? seeds : [.. seeds.Select(SslScheme)],
            JwtSecret = secret,
            ApiToken = Secret(flags, "api-token"),
            Webhooks = Cluster.Webhooks.WebhookSettings.From(Get(flags, "webhook-url"), Secret(flags, "webhook-secret"), hocon),
            AdminToken = Secret(flags, "admin-token"),
            JwtPublicKey = Get(flags, "jwt-public-key"),
            JwtJwksFile = Get(flags, "jwt-jwks-file"),
            TlsCert = tlsCert,
            TlsCertPassword = Secret(flags, "tls-cert-password"),
            AllowInsecureRemoting = insecure,
            MaxConnections = Count(flags, node, "max-connections", 1),
            MaxConnectionsPerIp = Count(flags, node, "max-connections-per-ip", 0),
            TrustedProxies = [.. (Get(flags, "trusted-proxies") is { } proxies ? Split(proxies) : node.StringList("trusted-proxies")).Select(Network)],
            ConfigFiles = ConfigFilesOf(flags),
            NodeName = name,
            Roles = RolesOf(hocon, name),
        };
    }

    /// <summary>
    /// A secret from its flag or, with <c>--NAME-file</c>, from that file (without its trailing newline);
    /// both at once is refused. The value never reaches a log or an error message.
    /// </summary>
    public static string? Secret(IConfiguration flags, string name)
    {
        if (!Secrets.Contains(name)) throw new ArgumentException($"{name} is not a secret");
        var value = Get(flags, name);
        if (Get(flags, name + "-file") is not { } path) return value;
        if (value is not null) throw new ArgumentException($"give --{name} or --{name}-file, not both");
        try
        {
            return File.ReadAllText(path).TrimEnd('\r', '\n') is { Length: > 0 } read ? read : throw new ArgumentException($"--{name}-file {path} is empty");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"--{name}-file {path} cannot be read: {e.GetType().Name}");
        }
    }

    private static string SslScheme(string seed) =>
        seed.StartsWith("akka.tcp://", StringComparison.Ordinal) ? "akka.ssl.tcp://" + seed["akka.tcp://".Length..] : seed;

    /// <summary>True for a loopback address or name (127.0.0.0/8, ::1, localhost): only this machine reaches it.</summary>
    public static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (System.Net.IPAddress.TryParse(host, out var ip) && System.Net.IPAddress.IsLoopback(ip));

    private static int Count(IConfiguration flags, HoconSettings node, string flag, int min)
    {
        if (Get(flags, flag) is not { } value) return node.Int(flag, min);
        if (int.TryParse(value, out var count) && count >= min) return count;
        throw new ArgumentException($"--{flag} must be a whole number of at least {min}, not '{value}'");
    }

    private static System.Net.IPNetwork Network(string entry)
    {
        if (System.Net.IPNetwork.TryParse(entry, out var network)) return network;
        if (System.Net.IPAddress.TryParse(entry, out var ip)) return new System.Net.IPNetwork(ip, ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
        throw new ArgumentException($"--trusted-proxies must list addresses or CIDR ranges such as 10.0.0.0/8, not '{entry}'");
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
