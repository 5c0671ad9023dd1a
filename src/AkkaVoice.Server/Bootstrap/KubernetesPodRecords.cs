using System.Collections.Concurrent;
using Akka.Actor;
using AkkaVoice.Cluster.Directory;
using k8s.Models;

namespace AkkaVoice.Server.Bootstrap;

/// <summary>
/// The pod API as a witness of dead processes for the <see cref="DeadNodeDetector"/>: a member (known by its
/// pod IP, its Akka host) whose pod is gone, whose container is not running, or whose container is not the
/// one that ran when the member came up, has no process left behind that address. A live member's pod
/// is listed with the same running container whatever the network does, so this never speaks for a pause
/// or a partition. Listing uses the bootstrap lookup's client, selector and container name.
/// </summary>
public sealed class KubernetesPodRecords(KubernetesPodDiscovery pods, string serviceName, string selfHost) : IProcessRecords
{
    // Pod IP -> the id of the container that ran there when the member came up.
    private readonly ConcurrentDictionary<string, string> containers = new();

    /// <summary>
    /// From the node's configuration: the bootstrap's service name and discovery settings; null unless
    /// bootstrap discovers its contact points through the Kubernetes API (kubernetes.conf).
    /// </summary>
    public static KubernetesPodRecords? Create(ActorSystem system, string selfHost)
    {
        var config = system.Settings.Config;
        if (config.GetString("akka.management.cluster.bootstrap.contact-point-discovery.discovery-method") != "kubernetes-api") return null;
        var serviceName = config.GetString("akka.management.cluster.bootstrap.contact-point-discovery.service-name");
        return new KubernetesPodRecords(new KubernetesPodDiscovery((ExtendedActorSystem)system), serviceName, selfHost);
    }

    public async Task RememberAsync(Address member, CancellationToken cancellationToken)
    {
        var list = await pods.ListPodsAsync(serviceName, cancellationToken).ConfigureAwait(false);
        if (ContainerOf(list, member.Host!, pods.ContainerName)?.Status is { ContainerID: { Length: > 0 } id, State.Running: not null })
            containers[member.Host!] = id;
    }

    public async Task<string?> GoneAsync(Address member, CancellationToken cancellationToken)
    {
        var list = await pods.ListPodsAsync(serviceName, cancellationToken).ConfigureAwait(false);
        return Gone(list, member.Host!, selfHost, pods.ContainerName, containers.GetValueOrDefault(member.Host!));
    }

    /// <summary>
    /// Why the process at <paramref name="host"/> is gone by <paramref name="list"/>, or null when nothing says so.
    /// A listing without this node's own pod (<paramref name="selfHost"/>) proves nothing and says nothing.
    /// </summary>
    public static string? Gone(V1PodList list, string host, string selfHost, string? containerName, string? knownContainer)
    {
        if (ContainerOf(list, selfHost, containerName) is null) return null;
        if (ContainerOf(list, host, containerName) is not { } found) return $"no pod has its address {host} any more (the pod was deleted)";
        var (pod, status) = found;
        var name = pod.Metadata?.Name;
        if (pod.Status?.Phase is "Failed" or "Succeeded") return $"pod {name} has ended ({pod.Status.Phase})";
        if (status is null) return null;
        if (status.State?.Terminated is { } t) return $"its container in pod {name} has terminated ({t.Reason})";
        if (status.State?.Waiting is { } w) return $"its container in pod {name} is waiting to start again ({w.Reason})";
        if (knownContainer is not null && !string.IsNullOrEmpty(status.ContainerID) && status.ContainerID != knownContainer)
            return $"pod {name} runs a new container (restarted {status.RestartCount} times)";
        return null;
    }

    private static (V1Pod Pod, V1ContainerStatus? Status)? ContainerOf(V1PodList list, string host, string? containerName)
    {
        var pod = (list.Items ?? []).FirstOrDefault(p => p.Status?.PodIP == host);
        if (pod is null) return null;
        var statuses = pod.Status?.ContainerStatuses ?? [];
        return (pod, containerName is null ? statuses.FirstOrDefault() : statuses.FirstOrDefault(s => s.Name == containerName));
    }
}
