using System.Text;
using Akka.Configuration;

namespace AkkaVoice.Server;

/// <summary>
/// The flags and environment variables of PROTOCOL.md section 6 (flags win), plus <c>--config</c> /
/// <c>AKKAVOICE_CONFIG</c>: extra HOCON files layered over <c>hocon/akkavoice.conf</c>.
/// </summary>
public sealed record NodeOptions
{
    public int HttpPort { get; init; } = 5000;
    public string Bind { get; init; } = "127.0.0.1";
    public int AkkaPort { get; init; } = 4053;
    public string Hostname { get; init; } = "127.0.0.1";
    public IReadOnlyList<string> Seeds { get; init; } = [];
    public string Routing { get; init; } = "interest";
    public string? JwtSecret { get; init; }
    public string? AdminToken { get; init; }
    public IReadOnlyList<string> ConfigFiles { get; init; } = [];

    /// <summary>The node's stable name (<c>akkavoice.node-name</c>); null leaves the HOCON's, which defaults to host:port.</summary>
    public string? NodeName { get; init; }

    private static readonly (string Flag, string Env)[] Known =
    [
        ("http-port", "AKKAVOICE_HTTP_PORT"), ("bind", "AKKAVOICE_BIND"), ("akka-port", "AKKAVOICE_AKKA_PORT"),
        ("hostname", "AKKAVOICE_HOSTNAME"), ("seeds", "AKKAVOICE_SEEDS"), ("routing", "AKKAVOICE_ROUTING"),
        ("jwt-secret", "AKKAVOICE_JWT_SECRET"), ("admin-token", "AKKAVOICE_ADMIN_TOKEN"), ("config", "AKKAVOICE_CONFIG"),
        ("node-name", "AKKAVOICE_NODE_NAME"),
    ];

    /// <summary>Reads flags (<c>--name value</c> or <c>--name=value</c>) over environment variables; throws <see cref="ArgumentException"/> with a clear message on bad input.</summary>
    public static NodeOptions Parse(string[] args, Func<string, string?> environment)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (flag, env) in Known)
        {
            if (environment(env) is { Length: > 0 } v) values[flag] = v;
        }
        for (int i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unexpected argument '{arg}'");
            var name = arg[2..];
            string value;
            var eq = name.IndexOf('=');
            if (eq >= 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }
            else
            {
                if (i + 1 >= args.Length) throw new ArgumentException($"--{name} needs a value");
                value = args[++i];
            }
            if (!Known.Any(k => k.Flag == name)) throw new ArgumentException($"unknown flag --{name}; known: {string.Join(", ", Known.Select(k => "--" + k.Flag))}");
            values[name] = value;
        }

        var o = new NodeOptions();
        string? Get(string flag) => values.TryGetValue(flag, out var v) ? v : null;
        var routing = Get("routing") ?? o.Routing;
        if (routing is not ("interest" or "broadcast")) throw new ArgumentException($"--routing must be interest or broadcast, not '{routing}'");
        return o with
        {
            HttpPort = Port(Get("http-port"), "http-port") ?? o.HttpPort,
            AkkaPort = Port(Get("akka-port"), "akka-port") ?? o.AkkaPort,
            Bind = Get("bind") ?? o.Bind,
            Hostname = Get("hostname") ?? o.Hostname,
            Seeds = Split(Get("seeds")),
            Routing = routing,
            JwtSecret = Get("jwt-secret"),
            AdminToken = Get("admin-token"),
            ConfigFiles = Split(Get("config")),
            NodeName = Get("node-name"),
        };
    }

    /// <summary>The node's HOCON: flags first, then the extra files, then the base file.</summary>
    public Config BuildConfig(string hoconDirectory)
    {
        var overrides = new StringBuilder();
        overrides.AppendLine($"akka.remote.dot-netty.tcp.hostname = {Quote(Bind)}");
        overrides.AppendLine($"akka.remote.dot-netty.tcp.public-hostname = {Quote(Hostname)}");
        overrides.AppendLine($"akka.remote.dot-netty.tcp.port = {AkkaPort}");
        // The bootstrap contact point (only with akkavoice.bootstrap.enabled = on) advertises the same address
        // as remoting, so a contact point and the member it reports agree, and listens where Kestrel binds.
        overrides.AppendLine($"akka.management.http.hostname = {Quote(Hostname)}");
        overrides.AppendLine($"akka.management.http.bind-hostname = {Quote(Bind)}");
        overrides.AppendLine($"akka.cluster.seed-nodes = [{string.Join(", ", Seeds.Select(Quote))}]");
        overrides.AppendLine($"akkavoice.routing = {Routing}");
        if (NodeName is not null) overrides.AppendLine($"akkavoice.node-name = {Quote(NodeName)}");

        var config = ConfigurationFactory.ParseString(overrides.ToString());
        foreach (var file in ConfigFiles)
        {
            var path = Path.IsPathRooted(file) || File.Exists(file) ? file : Path.Combine(hoconDirectory, file);
            if (!File.Exists(path)) throw new ArgumentException($"HOCON file '{file}' not found (looked in {hoconDirectory})");
            config = config.WithFallback(ConfigurationFactory.ParseString(File.ReadAllText(path)));
        }
        var basePath = Path.Combine(hoconDirectory, "akkavoice.conf");
        config = config.WithFallback(ConfigurationFactory.ParseString(File.ReadAllText(basePath)));
        return WithNameRole(config);
    }

    /// <summary>
    /// Carries <c>akkavoice.node-name</c> as the cluster role <c>name:&lt;name&gt;</c>, next to any roles
    /// the HOCON sets: the allocation strategy sees members, and so their roles, and weighs each node by
    /// that name (RoomDirectory). Without a name the node has no such role and is weighed by host:port.
    /// </summary>
    public static Config WithNameRole(Config config)
    {
        var name = config.GetString("akkavoice.node-name", "");
        if (string.IsNullOrEmpty(name)) return config;
        if (name.Length > 128 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or ':'))
            throw new ArgumentException($"--node-name must be 1-128 characters of A-Z a-z 0-9 . - _ :, not '{name}'");
        var roles = (config.GetStringList("akka.cluster.roles") ?? [])
            .Where(r => !r.StartsWith(Cluster.Directory.RoomDirectory.NameRolePrefix, StringComparison.Ordinal))
            .Append(Cluster.Directory.RoomDirectory.NameRolePrefix + name);
        return ConfigurationFactory.ParseString($"akka.cluster.roles = [{string.Join(", ", roles.Select(Quote))}]").WithFallback(config);
    }

    private static int? Port(string? value, string name)
    {
        if (value is null) return null;
        if (int.TryParse(value, out var port) && port is >= 0 and <= 65535) return port;
        throw new ArgumentException($"--{name} must be a port number (0-65535), not '{value}'");
    }

    private static string[] Split(string? list) =>
        list is null ? [] : list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
