using System.Net;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Discovery;
using Akka.Discovery.KubernetesApi;
using Akka.Event;
using k8s;
using k8s.Authentication;
using k8s.Autorest;
using k8s.Models;

namespace AkkaVoice.Server.Bootstrap;

/// <summary>
/// Cluster bootstrap's contact points: the running pods that carry the service's label, listed through
/// the Kubernetes API, each with the port named like the lookup's port name ("management").
/// </summary>
/// <remarks>
/// It reads the same <c>akka.discovery.kubernetes-api</c> settings as
/// <see cref="KubernetesApiServiceDiscovery"/> and answers the same way, but calls the KubernetesClient
/// this solution builds against. Akka.Discovery.KubernetesApi 1.5.73 was compiled against KubernetesClient
/// 17, whose <c>ListNamespacedPodAsync</c> overload no longer exists in the 19.x client that NuGet
/// resolves here, so its lookup fails at run time with a MissingMethodException and no cluster forms.
/// When a release of that package matches the resolved client, hocon/kubernetes.conf can point
/// <c>class</c> back at it and this file can go.
/// </remarks>
public sealed class KubernetesPodDiscovery : ServiceDiscovery
{
    private readonly ILoggingAdapter log;
    private readonly KubernetesDiscoverySettings settings;
    private readonly Kubernetes? client;
    private readonly string podNamespace;
    private readonly string apiServer;

    /// <summary>The constructor Akka.Discovery calls with the actor system only.</summary>
    public KubernetesPodDiscovery(ExtendedActorSystem system)
        : this(system, system.Settings.Config.GetConfig("akka.discovery.kubernetes-api"))
    {
    }

    /// <summary>The constructor Akka.Discovery calls with the method's own config section.</summary>
    public KubernetesPodDiscovery(ExtendedActorSystem system, Akka.Configuration.Config config)
    {
        log = Logging.GetLogger(system, this);
        // The package's reference.conf supplies every key this method's section does not set.
        settings = KubernetesDiscoverySettings.Create(config.WithFallback(
            KubernetesDiscovery.DefaultConfiguration().GetConfig("akka.discovery.kubernetes-api")));
        podNamespace = ResolveNamespace(settings);

        var host = Environment.GetEnvironmentVariable(settings.ApiServiceHostEnvName);
        var port = Environment.GetEnvironmentVariable(settings.ApiServicePortEnvName);
        apiServer = $"https://{(host is not null && host.Contains(':') ? "[" + host + "]" : host)}:{port}";
        if (string.IsNullOrWhiteSpace(host) || string.IsNullOrWhiteSpace(port))
        {
            // Outside Kubernetes (or without the service links) there is nobody to ask; say so once here and
            // fail every lookup, which bootstrap retries with backoff and reports.
            log.Error("Kubernetes API discovery is not available: environment variables {HostVariable} and {PortVariable} are not both set",
                settings.ApiServiceHostEnvName, settings.ApiServicePortEnvName);
            return;
        }

        var clientConfig = new KubernetesClientConfiguration
        {
            Host = apiServer,
            Namespace = podNamespace,
            // Re-reads the projected service account token, which the kubelet rotates.
            TokenProvider = new TokenFileAuth(settings.ApiTokenPath),
        };
        if (File.Exists(settings.ApiCaPath))
        {
            var ca = new X509Certificate2Collection();
            ca.ImportFromPemFile(settings.ApiCaPath);
            clientConfig.SslCaCerts = ca;
        }
        client = new Kubernetes(clientConfig);
    }

    /// <summary>The namespace whose pods are listed: the configured one, else the service account's, else "default".</summary>
    public string PodNamespace => podNamespace;

    /// <inheritdoc />
    public override async Task<Resolved> Lookup(Lookup lookup, TimeSpan resolveTimeout)
    {
        if (client is null)
            throw new InvalidOperationException("Kubernetes API discovery is not configured: no API server address in the environment");

        var selector = settings.PodLabelSelector(lookup.ServiceName);
        log.Debug("Listing pods with label selector {Selector} in namespace {Namespace}, port name {PortName}",
            selector, settings.AllNamespaces ? "(all)" : podNamespace, lookup.PortName);

        V1PodList pods;
        using var timeout = new CancellationTokenSource(resolveTimeout);
        try
        {
            pods = await ListPodsAsync(lookup.ServiceName, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"Listing pods at {apiServer} took longer than {resolveTimeout}", e);
        }

        var targets = Targets(pods, lookup.PortName, settings.ContainerName).ToList();
        if (targets.Count == 0)
            log.Warning("No contact points among {Pods} pods matching {Selector} in namespace {Namespace} (port name {PortName})",
                pods.Items.Count, selector, podNamespace, lookup.PortName);
        return new Resolved(lookup.ServiceName, targets);
    }

    /// <summary>The configured container's name (<c>container-name</c>), or null.</summary>
    public string? ContainerName => string.IsNullOrEmpty(settings.ContainerName) ? null : settings.ContainerName;

    /// <summary>The pods labelled for <paramref name="serviceName"/> in the pod's namespace (or all, when configured).</summary>
    public async Task<V1PodList> ListPodsAsync(string serviceName, CancellationToken cancellationToken)
    {
        if (client is null)
            throw new InvalidOperationException("Kubernetes API discovery is not configured: no API server address in the environment");
        var selector = settings.PodLabelSelector(serviceName);
        try
        {
            return settings.AllNamespaces
                ? await client.CoreV1.ListPodForAllNamespacesAsync(labelSelector: selector, cancellationToken: cancellationToken).ConfigureAwait(false)
                : await client.CoreV1.ListNamespacedPodAsync(podNamespace, labelSelector: selector, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Forbidden)
        {
            log.Warning("Forbidden to list pods in namespace {Namespace}: check the Role and RoleBinding of the pod's service account", podNamespace);
            throw;
        }
    }

    /// <summary>
    /// The pods that can be contact points: running, not being deleted, with an IP, the named container
    /// (when configured) not waiting, and a container port whose name contains <paramref name="portName"/>
    /// (when given). Hosts are raw pod IPs, the address each node also advertises for Akka remoting.
    /// </summary>
    public static IEnumerable<ResolvedTarget> Targets(V1PodList pods, string? portName, string? containerName)
    {
        foreach (var pod in pods.Items ?? [])
        {
            if (pod.Metadata?.DeletionTimestamp is not null) continue;
            if (!string.Equals(pod.Status?.Phase, "Running", StringComparison.OrdinalIgnoreCase)) continue;
            var ip = pod.Status?.PodIP;
            if (string.IsNullOrWhiteSpace(ip) || !IPAddress.TryParse(ip, out var address)) continue;
            if (!string.IsNullOrEmpty(containerName)
                && (pod.Status!.ContainerStatuses ?? []).Any(s => s.Name == containerName && s.State?.Waiting is not null)) continue;

            int? port = null;
            if (!string.IsNullOrEmpty(portName))
            {
                var named = (pod.Spec?.Containers ?? [])
                    .SelectMany(c => c.Ports ?? [])
                    .FirstOrDefault(p => p.Name is not null && p.Name.Contains(portName, StringComparison.Ordinal));
                if (named is null) continue;
                port = named.ContainerPort;
            }
            yield return new ResolvedTarget(ip, port, address);
        }
    }

    private static string ResolveNamespace(KubernetesDiscoverySettings settings)
    {
        if (!string.IsNullOrWhiteSpace(settings.PodNamespace) && settings.PodNamespace != "<pod-namespace>")
            return settings.PodNamespace;
        if (File.Exists(settings.PodNamespacePath))
        {
            var fromFile = File.ReadAllText(settings.PodNamespacePath).Trim();
            if (fromFile.Length > 0) return fromFile;
        }
        return "default";
    }
}
