using System.Diagnostics;
using System.Text.RegularExpressions;
using Akka.Configuration;
using Xunit;
using Xunit.Abstractions;

namespace AkkaVoice.IntegrationTests;

/// <summary>
/// The kustomize base in k8s/ as Kubernetes would receive it (<c>kubectl kustomize k8s</c>), checked against
/// itself, the Dockerfile and hocon/kubernetes.conf. Without kubectl on the PATH each test says so and passes.
/// </summary>
public sealed class K8sManifestTests(ITestOutputHelper output)
{
    private static readonly Lazy<Rendered> Base = new(Render);

    [Fact]
    public void The_base_has_every_object_a_cluster_needs()
    {
        if (Manifests() is not { } m) return;
        Assert.Single(m.OfKind("StatefulSet"));
        Assert.Equal(2, m.OfKind("Service").Count);
        Assert.Single(m.OfKind("Service"), s => s.Str("spec.clusterIP") == "None");
        Assert.Single(m.OfKind("ServiceAccount"));
        Assert.Single(m.OfKind("Role"));
        Assert.Single(m.OfKind("RoleBinding"));
        Assert.Single(m.OfKind("PodDisruptionBudget"));
        Assert.Single(m.OfKind("Ingress"));
        Assert.Single(m.OfKind("NetworkPolicy"));
        // Secret values never live in the repository: the base only refers to the Secret.
        Assert.Empty(m.OfKind("Secret"));
    }

    [Fact]
    public void Container_ports_match_the_services_and_the_Dockerfile()
    {
        if (Manifests() is not { } m) return;
        var ports = ContainerPorts(m);
        Assert.Equal(5000, ports["http"]);
        Assert.Equal(4053, ports["akka"]);
        Assert.Equal(8558, ports["management"]);

        foreach (var service in m.OfKind("Service"))
        {
            foreach (var port in service.List("spec.ports"))
            {
                var target = port.Str("targetPort");
                // A named target port must exist on the container; a numbered one must be one of its ports.
                var resolved = int.TryParse(target, out var number) ? number : ports.GetValueOrDefault(target ?? "", -1);
                Assert.Contains(resolved, ports.Values);
                Assert.Equal(resolved, int.Parse(port.Str("port")!));
            }
        }
        var headless = Assert.Single(m.OfKind("Service"), s => s.Str("spec.clusterIP") == "None");
        Assert.Equal("true", headless.Str("spec.publishNotReadyAddresses"));
        Assert.Equal(new[] { "akka", "management" }, headless.List("spec.ports").Select(p => p.Str("name")).Order().ToArray());
        var client = Assert.Single(m.OfKind("Service"), s => s.Str("spec.clusterIP") != "None");
        Assert.Equal("http", Assert.Single(client.List("spec.ports")).Str("targetPort"));

        var dockerfile = File.ReadAllLines(Path.Combine(m.Root, "Dockerfile"));
        var exposed = dockerfile.Where(l => l.StartsWith("EXPOSE ", StringComparison.Ordinal))
            .SelectMany(l => l["EXPOSE ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(p => int.Parse(p.Split('/')[0]))
            .ToHashSet();
        Assert.Superset(ports.Values.ToHashSet(), exposed);
        Assert.Contains(dockerfile, l => l.Trim() == "ENV AKKAVOICE_BIND=0.0.0.0");
    }

    [Fact]
    public void Remoting_and_management_are_open_only_to_the_apps_own_pods_and_http_to_anyone()
    {
        if (Manifests() is not { } m) return;
        var policy = Assert.Single(m.OfKind("NetworkPolicy"));
        var podLabels = Assert.Single(m.OfKind("StatefulSet")).Map("spec.template.metadata.labels")!;
        Assert.Equal(podLabels["app.kubernetes.io/name"], policy.Map("spec.podSelector.matchLabels")!["app.kubernetes.io/name"]);
        Assert.Equal(["Ingress"], policy.Strings("spec.policyTypes"));
        var ports = ContainerPorts(m);
        var rules = policy.List("spec.ingress");
        int Port(Node p) => int.TryParse(p.Str("port"), out var n) ? n : ports[p.Str("port")!];

        // Every container port is covered by exactly one rule; only HTTP's rule has no source restriction.
        var open = Assert.Single(rules, r => r.List("from").Count == 0);
        Assert.Equal([ports["http"]], open.List("ports").Select(Port));
        var own = Assert.Single(rules, r => r.List("from").Count > 0);
        var from = Assert.Single(own.List("from"));
        Assert.Equal(podLabels["app.kubernetes.io/name"], from.Map("podSelector.matchLabels")!["app.kubernetes.io/name"]);
        Assert.Null(from.Map("namespaceSelector"));
        Assert.Equal(new[] { ports["akka"], ports["management"] }.Order(), own.List("ports").Select(Port).Order());
    }

    [Fact]
    public void The_cluster_certificate_comes_from_a_secret_mounted_as_files()
    {
        if (Manifests() is not { } m) return;
        var container = Container(m);
        var env = container.List("env").ToDictionary(e => e.Str("name")!, e => e.Str("value"));
        var mount = Assert.Single(container.List("volumeMounts"), v => v.Str("name") == "cluster-cert");
        Assert.Equal("true", mount.Str("readOnly"));
        Assert.Equal(mount.Str("mountPath") + "/cluster.p12", env["AKKAVOICE_TLS_CERT"]);
        Assert.Equal(mount.Str("mountPath") + "/cluster.password", env["AKKAVOICE_TLS_CERT_PASSWORD_FILE"]);
        Assert.Equal("0.0.0.0", env["AKKAVOICE_BIND"]);
        Assert.DoesNotContain("AKKAVOICE_ALLOW_INSECURE_REMOTING", env.Keys);
        var set = Assert.Single(m.OfKind("StatefulSet"));
        var volume = Assert.Single(set.List("spec.template.spec.volumes"), v => v.Str("name") == "cluster-cert");
        Assert.Equal("akkavoice-cluster-cert", volume.Str("secret.secretName"));
        Assert.Null(volume.Str("secret.optional"));
        Assert.Equal(set.Str("spec.template.spec.securityContext.runAsGroup"), set.Str("spec.template.spec.securityContext.fsGroup"));

        // The example Secret names the keys the pod reads, and stays out of the base.
        var example = File.ReadAllText(Path.Combine(m.Root, "k8s", "cluster-cert.example.yaml"));
        Assert.Contains("name: akkavoice-cluster-cert", example);
        Assert.Contains("cluster.p12:", example);
        Assert.Contains("cluster.password:", example);
    }

    [Fact]
    public void Probes_ask_readyz_and_healthz_on_the_http_port()
    {
        if (Manifests() is not { } m) return;
        var container = Container(m);
        Assert.Equal("/readyz", container.Str("readinessProbe.httpGet.path"));
        Assert.Equal("http", container.Str("readinessProbe.httpGet.port"));
        Assert.Equal("/healthz", container.Str("livenessProbe.httpGet.path"));
        Assert.Equal("http", container.Str("livenessProbe.httpGet.port"));
    }

    [Fact]
    public void Pods_shut_down_gracefully_and_at_most_one_at_a_time()
    {
        if (Manifests() is not { } m) return;
        var set = Assert.Single(m.OfKind("StatefulSet"));
        Assert.Equal("60", set.Str("spec.template.spec.terminationGracePeriodSeconds"));
        Assert.NotEmpty(Container(m).List("lifecycle.preStop.exec.command"));
        Assert.Equal("1", Assert.Single(m.OfKind("PodDisruptionBudget")).Str("spec.maxUnavailable"));
        // Bootstrap needs two pods before any is ready: OrderedReady would never start the second.
        Assert.Equal("Parallel", set.Str("spec.podManagementPolicy"));
        Assert.Equal("true", set.Str("spec.template.spec.securityContext.runAsNonRoot"));
        Assert.Equal("false", Container(m).Str("securityContext.allowPrivilegeEscalation"));
    }

    [Fact]
    public void The_ingress_keeps_websockets_open_and_hashes_on_the_room()
    {
        if (Manifests() is not { } m) return;
        var ingress = Assert.Single(m.OfKind("Ingress"));
        var annotations = ingress.Map("metadata.annotations")!;
        Assert.Equal("$arg_room", annotations["nginx.ingress.kubernetes.io/upstream-hash-by"]);
        Assert.Equal("3600", annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]);
        Assert.Equal("3600", annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"]);

        var paths = ingress.List("spec.rules").SelectMany(r => r.List("http.paths")).ToList();
        Assert.Contains(paths, p => p.Str("path") == "/ws");
        Assert.Contains(paths, p => p.Str("path") == "/");
        var client = Assert.Single(m.OfKind("Service"), s => s.Str("spec.clusterIP") != "None");
        Assert.All(paths, p =>
        {
            Assert.Equal(client.Str("metadata.name"), p.Str("backend.service.name"));
            Assert.Equal("http", p.Str("backend.service.port.name"));
        });
    }

    [Fact]
    public void Every_selector_matches_the_pod_labels()
    {
        if (Manifests() is not { } m) return;
        var set = Assert.Single(m.OfKind("StatefulSet"));
        var podLabels = set.Map("spec.template.metadata.labels")!;
        Assert.Equal("akkavoice", podLabels["app.kubernetes.io/name"]);

        var selectors = new List<IReadOnlyDictionary<string, string>>
        {
            set.Map("spec.selector.matchLabels")!,
            Assert.Single(m.OfKind("PodDisruptionBudget")).Map("spec.selector.matchLabels")!,
        };
        selectors.AddRange(m.OfKind("Service").Select(s => s.Map("spec.selector")!));
        Assert.All(selectors, selector =>
        {
            Assert.NotEmpty(selector);
            Assert.All(selector, pair => Assert.Equal(pair.Value, podLabels.GetValueOrDefault(pair.Key)));
        });
        Assert.All(m.Objects, o => Assert.Equal("akkavoice", o.Map("metadata.labels")?.GetValueOrDefault("app.kubernetes.io/name")));

        var headless = Assert.Single(m.OfKind("Service"), s => s.Str("spec.clusterIP") == "None");
        Assert.Equal(headless.Str("metadata.name"), set.Str("spec.serviceName"));
    }

    [Fact]
    public void Bootstrap_finds_the_pods_the_way_kubernetes_conf_says()
    {
        if (Manifests() is not { } m) return;
        var conf = ConfigurationFactory.ParseString(File.ReadAllText(Path.Combine(m.Root, "hocon", "kubernetes.conf")));
        Assert.True(conf.GetBoolean("akkavoice.bootstrap.enabled"));
        Assert.True(conf.GetBoolean("akka.coordinated-shutdown.exit-clr"));

        // Discovery lists pods by label selector (service-name filling {0}) and takes the port named port-name.
        var discovery = conf.GetConfig("akka.management.cluster.bootstrap.contact-point-discovery");
        var selector = string.Format(conf.GetString("akka.discovery.kubernetes-api.pod-label-selector"), discovery.GetString("service-name"));
        var set = Assert.Single(m.OfKind("StatefulSet"));
        var podLabels = set.Map("spec.template.metadata.labels")!;
        var (key, value) = (selector.Split('=')[0], selector.Split('=')[1]);
        Assert.Equal(value, podLabels.GetValueOrDefault(key));
        Assert.Equal(conf.GetInt("akka.management.http.port"), ContainerPorts(m)[discovery.GetString("port-name")]);
        Assert.Equal(conf.GetString("akka.discovery.kubernetes-api.container-name"), Container(m).Str("name"));
        Assert.True(discovery.GetInt("required-contact-point-nr") <= int.Parse(set.Str("spec.replicas")!));

        var env = Container(m).List("env").ToDictionary(e => e.Str("name")!);
        Assert.Equal("status.podIP", env["AKKAVOICE_HOSTNAME"].Str("valueFrom.fieldRef.fieldPath"));
        Assert.Equal("kubernetes.conf", env["AKKAVOICE_CONFIG"].Str("value"));
        // The pod name outlives the pod's IP: a restarted pod keeps its key in the room directory.
        Assert.Equal("metadata.name", env["AKKAVOICE_NODE_NAME"].Str("valueFrom.fieldRef.fieldPath"));
        foreach (var secret in new[] { "AKKAVOICE_JWT_SECRET", "AKKAVOICE_ADMIN_TOKEN" })
        {
            Assert.Equal("akkavoice", env[secret].Str("valueFrom.secretKeyRef.name"));
            Assert.Equal("true", env[secret].Str("valueFrom.secretKeyRef.optional"));
        }

        // The service account the pods run as may list pods in their namespace.
        Assert.Equal(Assert.Single(m.OfKind("ServiceAccount")).Str("metadata.name"), set.Str("spec.template.spec.serviceAccountName"));
        var role = Assert.Single(m.OfKind("Role"));
        Assert.Contains(role.List("rules"), r => r.Strings("resources").Contains("pods") && r.Strings("verbs").Contains("list"));
        var binding = Assert.Single(m.OfKind("RoleBinding"));
        Assert.Equal(role.Str("metadata.name"), binding.Str("roleRef.name"));
        Assert.Contains(binding.List("subjects"), s => s.Str("kind") == "ServiceAccount" && s.Str("name") == set.Str("spec.template.spec.serviceAccountName"));
    }

    [Fact]
    public void The_grafana_dashboard_is_a_configmap_for_the_grafana_sidecar_and_the_pods_are_scraped()
    {
        if (Manifests() is not { } m) return;
        var map = Assert.Single(m.OfKind("ConfigMap"), c => c.Str("metadata.name") == "akkavoice-grafana-dashboard");
        Assert.Equal("1", map.Map("metadata.labels")!["grafana_dashboard"]);
        // The rendered ConfigMap carries the file as it is in the repository.
        Assert.Equal(File.ReadAllText(Path.Combine(m.Root, "k8s", "grafana", "akkavoice-dashboard.json")), map.Map("data")!["akkavoice-dashboard.json"]);

        var annotations = Assert.Single(m.OfKind("StatefulSet")).Map("spec.template.metadata.annotations")!;
        Assert.Equal("true", annotations["prometheus.io/scrape"]);
        Assert.Equal(ContainerPorts(m)["http"].ToString(), annotations["prometheus.io/port"]);
        Assert.Equal("/metrics", annotations["prometheus.io/path"]);
    }

    private Rendered? Manifests()
    {
        var rendered = Base.Value;
        if (rendered.SkipReason is not null)
        {
            output.WriteLine($"Skipped: {rendered.SkipReason}");
            return null;
        }
        Assert.True(rendered.Error is null, rendered.Error);
        return rendered;
    }

    private static Node Container(Rendered m) =>
        Assert.Single(Assert.Single(m.OfKind("StatefulSet")).List("spec.template.spec.containers"));

    private static Dictionary<string, int> ContainerPorts(Rendered m) =>
        Container(m).List("ports").ToDictionary(p => p.Str("name")!, p => int.Parse(p.Str("containerPort")!));

    private static Rendered Render()
    {
        var root = AppContext.BaseDirectory;
        while (root is not null && !File.Exists(Path.Combine(root, "AkkaVoice.sln"))) root = Path.GetDirectoryName(root);
        if (root is null) return new Rendered("", [], "the repository root (AkkaVoice.sln) is not above the test binaries", null);
        var kubectl = FindOnPath("kubectl");
        if (kubectl is null) return new Rendered(root, [], "kubectl is not on the PATH, so the k8s/ base was not rendered", null);

        var start = new ProcessStartInfo(kubectl, ["kustomize", Path.Combine(root, "k8s")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var yaml = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(60_000))
        {
            process.Kill();
            return new Rendered(root, [], null, "kubectl kustomize did not finish within a minute");
        }
        if (process.ExitCode != 0) return new Rendered(root, [], null, $"kubectl kustomize failed ({process.ExitCode}): {stderr.Result}");
        return new Rendered(root, MiniYaml.ParseDocuments(yaml).Select(d => new Node(d)).ToList(), null, null);
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .SelectMany(dir => new[] { Path.Combine(dir, name), Path.Combine(dir, name + ".exe") })
            .FirstOrDefault(File.Exists);

    private sealed record Rendered(string Root, IReadOnlyList<Node> Objects, string? SkipReason, string? Error)
    {
        public IReadOnlyList<Node> OfKind(string kind) => Objects.Where(o => o.Str("kind") == kind).ToList();
    }

    /// <summary>One parsed YAML value with dotted-path access: maps are dictionaries, sequences lists, scalars strings.</summary>
    private sealed class Node(object? value)
    {
        private object? At(string path)
        {
            var current = value;
            foreach (var key in path.Split('.'))
            {
                current = current is Dictionary<string, object?> map && map.TryGetValue(key, out var next) ? next : null;
            }
            return current;
        }

        public string? Str(string path) => At(path) as string;

        public IReadOnlyList<Node> List(string path) =>
            At(path) is List<object?> list ? list.Select(v => new Node(v)).ToList() : [];

        public IReadOnlyList<string> Strings(string path) =>
            At(path) is List<object?> list ? list.OfType<string>().ToList() : [];

        public IReadOnlyDictionary<string, string>? Map(string path) =>
            At(path) is Dictionary<string, object?> map ? map.Where(p => p.Value is string).ToDictionary(p => p.Key, p => (string)p.Value!) : null;
    }

    /// <summary>
    /// Just enough YAML for kustomize's output: block maps and sequences (a sequence may sit at its key's
    /// indentation), plain and quoted scalars, literal block scalars (a ConfigMap's file, which must have no
    /// blank lines or lines starting with <c>#</c>: they are skipped), <c>---</c> between documents. No flow
    /// collections beyond empty <c>{}</c> / <c>[]</c>, anchors or folded scalars: kustomize emits none for this base.
    /// </summary>
    private static class MiniYaml
    {
        public static IEnumerable<object?> ParseDocuments(string text)
        {
            var document = new List<string>();
            foreach (var raw in text.Split('\n'))
            {
                var line = raw.TrimEnd('\r');
                if (line == "---")
                {
                    if (document.Count > 0) yield return Parse(document);
                    document = [];
                }
                else if (line.Trim().Length > 0 && !line.TrimStart().StartsWith('#'))
                {
                    document.Add(line);
                }
            }
            if (document.Count > 0) yield return Parse(document);
        }

        private static object? Parse(List<string> lines)
        {
            var i = 0;
            return Block(lines, ref i, Indent(lines[0]));
        }

        private static object? Block(List<string> lines, ref int i, int indent) =>
            IsItem(lines[i]) ? Sequence(lines, ref i, indent) : Mapping(lines, ref i, indent);

        private static Dictionary<string, object?> Mapping(List<string> lines, ref int i, int indent)
        {
            var map = new Dictionary<string, object?>(StringComparer.Ordinal);
            while (i < lines.Count && Indent(lines[i]) == indent && !IsItem(lines[i]))
            {
                var content = lines[i].Trim();
                var colon = content.EndsWith(':') ? content.Length - 1 : content.IndexOf(": ", StringComparison.Ordinal);
                if (colon < 0) throw new FormatException($"not a key: '{content}'");
                var key = Unquote(content[..colon]);
                var rest = content[(colon + 1)..].Trim();
                i++;
                if (rest is "|" or "|-")
                    map[key] = Literal(lines, ref i, indent, keepNewline: rest == "|");
                else if (rest.Length > 0)
                    map[key] = Scalar(rest);
                else if (i < lines.Count && (Indent(lines[i]) > indent || (Indent(lines[i]) == indent && IsItem(lines[i]))))
                    map[key] = Block(lines, ref i, Indent(lines[i]));
                else
                    map[key] = null;
            }
            return map;
        }

        /// <summary>A literal block scalar (<c>|</c>, or <c>|-</c> without its final newline): the lines indented past its key.</summary>
        private static string Literal(List<string> lines, ref int i, int indent, bool keepNewline)
        {
            var block = new List<string>();
            var blockIndent = i < lines.Count ? Indent(lines[i]) : 0;
            while (i < lines.Count && Indent(lines[i]) > indent) block.Add(lines[i++][blockIndent..]);
            return string.Join("\n", block) + (keepNewline ? "\n" : "");
        }

        private static List<object?> Sequence(List<string> lines, ref int i, int indent)
        {
            var list = new List<object?>();
            while (i < lines.Count && Indent(lines[i]) == indent && IsItem(lines[i]))
            {
                var content = lines[i].Trim()[1..].TrimStart();
                if (!content.StartsWith('"') && !content.StartsWith('\'') && (content.EndsWith(':') || content.Contains(": ", StringComparison.Ordinal)))
                {
                    // "- key: value" opens a mapping whose keys line up two columns in.
                    lines[i] = new string(' ', indent + 2) + content;
                    list.Add(Mapping(lines, ref i, indent + 2));
                }
                else
                {
                    list.Add(Scalar(content));
                    i++;
                }
            }
            return list;
        }

        private static object? Scalar(string text) => text switch
        {
            "{}" => new Dictionary<string, object?>(),
            "[]" => new List<object?>(),
            "null" or "~" => null,
            _ => Unquote(text),
        };

        private static string Unquote(string text) =>
            text.Length >= 2 && (text[0] == '"' || text[0] == '\'') && text[^1] == text[0]
                ? Regex.Unescape(text[1..^1])
                : text;

        private static bool IsItem(string line) => line.TrimStart() is ['-'] or ['-', ' ', ..];

        private static int Indent(string line) => line.Length - line.TrimStart(' ').Length;
    }
}
