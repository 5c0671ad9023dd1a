using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Configuration;
using Akka.Discovery;
using AkkaVoice.Server.Bootstrap;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Xunit;

namespace AkkaVoice.IntegrationTests;

/// <summary>
/// Cluster bootstrap's view of Kubernetes: <see cref="KubernetesPodDiscovery"/>, loaded the way bootstrap
/// loads it (hocon/kubernetes.conf's <c>akka.discovery.kubernetes-api</c>), against a stand-in API server
/// on loopback that speaks HTTPS with its own CA and wants the service account token, like the real one;
/// and the dead-node detector's witness that reads the same API, <see cref="KubernetesPodRecords"/>.
/// </summary>
public sealed class K8sPodDiscoveryTests : IAsyncLifetime
{
    private const string Token = "test-service-account-token";
    private const string Namespace = "voice";
    private readonly string directory = Directory.CreateTempSubdirectory("akkavoice-k8s-").FullName;
    private readonly List<string> requests = [];
    private WebApplication apiServer = null!;
    private ActorSystem system = null!;
    private int apiPort;
    private volatile string served = PodListJson;

    public async Task InitializeAsync()
    {
        using var certificate = SelfSignedLoopbackCertificate();
        File.WriteAllText(Path.Combine(directory, "ca.crt"), certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(directory, "token"), Token);
        File.WriteAllText(Path.Combine(directory, "namespace"), Namespace + "\n");

        var serverCertificate = X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(serverCertificate)));
        apiServer = builder.Build();
        apiServer.MapGet("/api/v1/namespaces/{ns}/pods", (HttpRequest request, string ns) =>
        {
            lock (requests) requests.Add($"{ns} {request.Query["labelSelector"]}");
            if (request.Headers.Authorization != $"Bearer {Token}") return Results.StatusCode(401);
            return Results.Text(served, "application/json");
        });
        await apiServer.StartAsync();
        apiPort = new Uri(apiServer.Urls.Single()).Port;

        Environment.SetEnvironmentVariable("AKKAVOICE_TEST_K8S_HOST", "127.0.0.1");
        Environment.SetEnvironmentVariable("AKKAVOICE_TEST_K8S_PORT", apiPort.ToString());
        var kubernetesConf = ConfigurationFactory.ParseString(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "hocon", "kubernetes.conf")));
        var config = ConfigurationFactory.ParseString($$"""
            akka.loglevel = WARNING
            # kubernetes.conf ends the process when a system shuts down; a test process must outlive it.
            akka.coordinated-shutdown.exit-clr = off
            akka.discovery.kubernetes-api {
              api-ca-path = "{{Path.Combine(directory, "ca.crt")}}"
              api-token-path = "{{Path.Combine(directory, "token")}}"
              pod-namespace-path = "{{Path.Combine(directory, "namespace")}}"
              api-service-host-env-name = AKKAVOICE_TEST_K8S_HOST
              api-service-port-env-name = AKKAVOICE_TEST_K8S_PORT
            }
            """).WithFallback(kubernetesConf);
        system = ActorSystem.Create("k8s-discovery-test", config);
    }

    public async Task DisposeAsync()
    {
        await system.Terminate();
        await apiServer.DisposeAsync();
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task Bootstraps_lookup_lists_the_labelled_pods_in_the_pods_own_namespace()
    {
        var discovery = Discovery.Get(system).LoadServiceDiscovery("kubernetes-api");
        var k8s = Assert.IsType<KubernetesPodDiscovery>(discovery);
        Assert.Equal(Namespace, k8s.PodNamespace);

        var resolved = await discovery.Lookup(new Lookup("akkavoice", "management", "tcp"), TimeSpan.FromSeconds(10));

        Assert.Equal(["voice app.kubernetes.io/name=akkavoice"], requests);
        var targets = resolved.Addresses.Select(t => $"{t.Host}:{t.Port}").Order().ToArray();
        Assert.Equal(new[] { "10.1.0.10:8558", "10.1.0.11:8558" }, targets);
        Assert.All(resolved.Addresses, t => Assert.Equal(t.Host, t.Address?.ToString()));
    }

    [Fact]
    public async Task A_wrong_token_fails_the_lookup_instead_of_finding_nobody()
    {
        File.WriteAllText(Path.Combine(directory, "token"), "not-the-token");
        var discovery = new KubernetesPodDiscovery((ExtendedActorSystem)system);
        await Assert.ThrowsAnyAsync<Exception>(() => discovery.Lookup(new Lookup("akkavoice", "management", "tcp"), TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void Only_running_pods_with_an_ip_a_started_container_and_the_named_port_are_contact_points()
    {
        var pods = k8s.KubernetesJson.Deserialize<V1PodList>(PodListJson);
        var targets = KubernetesPodDiscovery.Targets(pods, "management", "akkavoice").Select(t => t.Host).Order();
        Assert.Equal(new[] { "10.1.0.10", "10.1.0.11" }, targets);

        // Without a port name every running pod counts, with no port.
        var any = KubernetesPodDiscovery.Targets(pods, null, null).ToList();
        Assert.Equal(4, any.Count);
        Assert.All(any, t => Assert.Null(t.Port));
    }

    [Fact]
    public async Task The_pod_records_see_a_members_container_restarted_or_its_pod_deleted_and_nothing_while_it_runs()
    {
        var records = new KubernetesPodRecords(new KubernetesPodDiscovery((ExtendedActorSystem)system), "akkavoice", "10.1.0.10");
        var member = Address.Parse("akka.tcp://akkavoice@10.1.0.11:4053");
        served = Pods(("akkavoice-0", "10.1.0.10", "containerd://a0", 0, """{"running": {}}"""), ("akkavoice-1", "10.1.0.11", "containerd://b0", 0, """{"running": {}}"""));
        await records.RememberAsync(member, CancellationToken.None);

        // Paused or cut off, the member's pod still runs the container it came up in: no evidence.
        Assert.Null(await records.GoneAsync(member, CancellationToken.None));
        served = Pods(("akkavoice-0", "10.1.0.10", "containerd://a0", 0, """{"running": {}}"""), ("akkavoice-1", "10.1.0.11", "containerd://b1", 1, """{"running": {}}"""));
        Assert.Equal("pod akkavoice-1 runs a new container (restarted 1 times)", await records.GoneAsync(member, CancellationToken.None));
        served = Pods(("akkavoice-0", "10.1.0.10", "containerd://a0", 0, """{"running": {}}"""));
        Assert.Equal("no pod has its address 10.1.0.11 any more (the pod was deleted)", await records.GoneAsync(member, CancellationToken.None));
    }

    [Fact]
    public void A_terminated_or_waiting_container_is_gone_and_a_listing_without_this_node_proves_nothing()
    {
        string? Gone(params (string, string, string, int, string)[] pods) =>
            KubernetesPodRecords.Gone(k8s.KubernetesJson.Deserialize<V1PodList>(Pods(pods)), "10.1.0.11", "10.1.0.10", "akkavoice", "containerd://b0");
        var self = ("akkavoice-0", "10.1.0.10", "containerd://a0", 0, """{"running": {}}""");

        Assert.Equal("its container in pod akkavoice-1 has terminated (OOMKilled)",
            Gone(self, ("akkavoice-1", "10.1.0.11", "containerd://b0", 0, """{"terminated": {"reason": "OOMKilled", "exitCode": 137}}""")));
        Assert.Equal("its container in pod akkavoice-1 is waiting to start again (CrashLoopBackOff)",
            Gone(self, ("akkavoice-1", "10.1.0.11", "containerd://b0", 1, """{"waiting": {"reason": "CrashLoopBackOff"}}""")));
        Assert.Null(Gone(self, ("akkavoice-1", "10.1.0.11", "containerd://b0", 0, """{"running": {}}""")));
        // An empty or partial answer (a wrong selector, an API hiccup) must not read as "every pod was deleted".
        Assert.Null(Gone());
        Assert.Null(Gone(("akkavoice-1", "10.1.0.11", "containerd://b1", 1, """{"running": {}}""")));
    }

    /// <summary>A pod list of akkavoice pods: name, IP, the akkavoice container's id, restart count and state.</summary>
    private static string Pods(params (string Name, string Ip, string Container, int Restarts, string State)[] pods)
    {
        var items = pods.Select(p =>
            $"{{\"metadata\": {{\"name\": \"{p.Name}\"}}, " +
            "\"spec\": {\"containers\": [{\"name\": \"akkavoice\", \"ports\": [{\"name\": \"management\", \"containerPort\": 8558}]}]}, " +
            $"\"status\": {{\"phase\": \"Running\", \"podIP\": \"{p.Ip}\", \"containerStatuses\": [{{\"name\": \"akkavoice\", \"ready\": true, " +
            $"\"restartCount\": {p.Restarts}, \"image\": \"akkavoice\", \"imageID\": \"\", \"containerID\": \"{p.Container}\", \"state\": {p.State}}}]}}}}");
        return "{\"kind\": \"PodList\", \"apiVersion\": \"v1\", \"items\": [" + string.Join(",", items) + "]}";
    }

    /// <summary>What the API server answers: two good pods and one of each kind that must be skipped.</summary>
    private const string PodListJson = """
        {"kind": "PodList", "apiVersion": "v1", "items": [
          {"metadata": {"name": "akkavoice-0"},
           "spec": {"containers": [{"name": "akkavoice", "ports": [{"name": "http", "containerPort": 5000}, {"name": "akka", "containerPort": 4053}, {"name": "management", "containerPort": 8558}]}]},
           "status": {"phase": "Running", "podIP": "10.1.0.10", "containerStatuses": [{"name": "akkavoice", "ready": false, "restartCount": 0, "image": "akkavoice", "imageID": "", "state": {"running": {}}}]}},
          {"metadata": {"name": "akkavoice-1"},
           "spec": {"containers": [{"name": "akkavoice", "ports": [{"name": "management", "containerPort": 8558}]}]},
           "status": {"phase": "Running", "podIP": "10.1.0.11"}},
          {"metadata": {"name": "akkavoice-2", "deletionTimestamp": "2026-01-01T00:00:00Z"},
           "spec": {"containers": [{"name": "akkavoice", "ports": [{"name": "management", "containerPort": 8558}]}]},
           "status": {"phase": "Running", "podIP": "10.1.0.12"}},
          {"metadata": {"name": "akkavoice-3"},
           "spec": {"containers": [{"name": "akkavoice", "ports": [{"name": "management", "containerPort": 8558}]}]},
           "status": {"phase": "Pending"}},
          {"metadata": {"name": "akkavoice-4"},
           "spec": {"containers": [{"name": "akkavoice", "ports": [{"name": "management", "containerPort": 8558}]}]},
           "status": {"phase": "Running", "podIP": "10.1.0.14", "containerStatuses": [{"name": "akkavoice", "ready": false, "restartCount": 3, "image": "akkavoice", "imageID": "", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}},
          {"metadata": {"name": "other-5"},
           "spec": {"containers": [{"name": "sidecar", "ports": [{"name": "metrics", "containerPort": 9090}]}]},
           "status": {"phase": "Running", "podIP": "10.1.0.15"}}
        ]}
        """;

    private static X509Certificate2 SelfSignedLoopbackCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=kubernetes-api-stand-in", key, HashAlgorithmName.SHA256);
        // Its own CA, as a cluster's API server certificate is signed by the CA in the pod's ca.crt.
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
    }
}
