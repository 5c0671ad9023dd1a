using System.Collections.Immutable;
using Akka.Actor;
using Akka.Hosting;
using Akka.Serialization;
using AkkaVoice.Cluster.Directory;
using AkkaVoice.Cluster.Serialization;

namespace AkkaVoice.Cluster;

/// <summary>Akka.Hosting registration of an AkkaVoice node.</summary>
public static class VoiceNodeHosting
{
    /// <summary>The serializer id of <see cref="WireSerializer"/>, bound to every <see cref="IWireMessage"/>.</summary>
    public const string SerializerId = "akkavoice";

    /// <summary>
    /// The node's serializer (every message that crosses nodes is binary, never JSON) and the node itself,
    /// started once the system runs; <paramref name="started"/> receives it. <paramref name="records"/> makes the
    /// second witness of dead processes (the Kubernetes pod API), if any.
    /// </summary>
    public static AkkaConfigurationBuilder WithVoiceNode(this AkkaConfigurationBuilder akka, VoiceSettings settings, NodeStats stats,
        Webhooks.WebhookSettings? webhooks, Action<VoiceNode> started, Func<ActorSystem, IProcessRecords?>? records = null) =>
        akka.WithCustomSerializer(SerializerId, [typeof(IWireMessage)], system => new WireSerializer(system))
            .WithActors((system, registry) => started(VoiceNode.Start(system, settings, stats, webhooks, records?.Invoke(system))));

    /// <summary>The same serializer binding for a system built without the host (the TestKit specs).</summary>
    public static SerializationSetup Serialization => SerializationSetup.Create(system =>
        ImmutableHashSet.Create(SerializerDetails.Create(SerializerId, new WireSerializer(system), ImmutableHashSet.Create(typeof(IWireMessage)))));
}
