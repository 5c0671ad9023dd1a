using AkkaVoice.Cluster;
using Prometheus;

namespace AkkaVoice.Server;

/// <summary>
/// Exports the node's <see cref="NodeStats"/> as the Prometheus metrics of PROTOCOL.md section 5. The
/// counters live in the node and are copied into prometheus-net just before each scrape, so the frame
/// path never touches the metrics library.
/// </summary>
public static class MetricsExport
{
    /// <summary>Adds the gauges and counters to the node's own registry (so nodes sharing a process never mix figures) and returns it.</summary>
    public static CollectorRegistry Register(NodeStats s)
    {
        var registry = s.Registry;
        var factory = Metrics.WithCustomRegistry(registry);
        var connections = factory.CreateGauge("akkavoice_connections", "Open client WebSocket connections on this node.");
        var rooms = factory.CreateGauge("akkavoice_rooms_hosted", "Room actors running on this node.");
        var shards = factory.CreateGauge("akkavoice_shards_hosted", "Room shards hosted on this node.");
        var handoffs = factory.CreateCounter("akkavoice_shard_handoffs_total", "Room shards this node handed off to another node.");
        var received = factory.CreateCounter("akkavoice_frames_received_total", "Voice frames received from clients on this node.");
        var delivered = factory.CreateCounter("akkavoice_frames_delivered_total", "Voice frames written to client sockets on this node.");
        var dropped = factory.CreateCounter("akkavoice_frames_dropped_total", "Voice frames dropped on this node, by reason.", "reason");
        var nodeMessages = factory.CreateCounter("akkavoice_node_messages_sent_total", "Voice frame messages this node sent to other nodes.");
        var textMessages = factory.CreateCounter("akkavoice_node_text_messages_sent_total",
            "Text messages (said, member events, direct) this node sent to other nodes, one per message and target node.");
        var directoryUsers = factory.CreateGauge("akkavoice_directory_users", "Users held by the user directory entries on this node: users with at least one open connection.");
        var said = factory.CreateCounter("akkavoice_said_total", "Chat lines (said) numbered by the rooms hosted on this node.");
        var rejoins = factory.CreateCounter("akkavoice_room_rejoins_total",
            "Rejoins this node started for rooms that moved or restarted: one per room and node (not per member) each time; repeats of an unanswered rejoin are not counted.");
        var textLimited = factory.CreateCounter("akkavoice_text_rate_limited_total", "Client text messages refused by the per-connection text rate limit.");
        var batches = factory.CreateCounter("akkavoice_node_batches_sent_total",
            "Messages this node's relay outbox sent to other nodes' relays, each carrying one or more voice frames (frames per message = akkavoice_node_messages_sent_total / this).");
        var refused = factory.CreateCounter("akkavoice_connections_refused_total",
            "WebSocket upgrades refused with 503 by an edge limit: max-connections (the node's) or max-connections-per-ip (one client address's).", "reason");
        var relayed = factory.CreateCounter("akkavoice_relay_frames_received_total", "Voice frame messages that reached this node's relay.");
        var webhooks = factory.CreateCounter("akkavoice_webhooks_total",
            "Webhook events by event and outcome: delivered (a 2xx), retried (an attempt failed and will be retried), dropped (given up after give-up-after, or pushed out of a full queue); per URL.",
            "event", "outcome");
        var webhookQueue = factory.CreateGauge("akkavoice_webhook_queue", "Webhook events waiting on this node (in flight included), every URL's together.");
        string[] outcomes = ["delivered", "retried", "dropped"];

        registry.AddBeforeCollectCallback(() =>
        {
            for (int e = 0; e < Cluster.Webhooks.WebhookEvent.Names.Length; e++)
            for (int o = 0; o < outcomes.Length; o++)
                webhooks.WithLabels(Cluster.Webhooks.WebhookEvent.Names[e], outcomes[o]).IncTo(s.Webhooks[e, o].Value);
            webhookQueue.Set(s.WebhookQueue.Value);
            connections.Set(s.Connections.Value);
            rooms.Set(s.RoomsHosted.Value);
            shards.Set(s.ShardsHosted.Value);
            handoffs.IncTo(s.ShardHandoffs.Value);
            received.IncTo(s.FramesReceived.Value);
            delivered.IncTo(s.FramesDelivered.Value);
            dropped.WithLabels("rate-limited").IncTo(s.FramesDroppedRateLimited.Value);
            dropped.WithLabels("slow-receiver").IncTo(s.FramesDroppedSlowReceiver.Value);
            dropped.WithLabels("not-joined").IncTo(s.FramesDroppedNotJoined.Value);
            dropped.WithLabels("not-seated").IncTo(s.FramesDroppedNotSeated.Value);
            dropped.WithLabels("muted").IncTo(s.FramesDroppedMuted.Value);
            nodeMessages.IncTo(s.NodeMessagesSent.Value);
            textMessages.IncTo(s.NodeTextMessagesSent.Value);
            textLimited.IncTo(s.TextRateLimited.Value);
            rejoins.IncTo(s.Rejoins.Value);
            said.IncTo(s.Said.Value);
            directoryUsers.Set(s.DirectoryUsers.Value);
            batches.IncTo(s.NodeBatchesSent.Value);
            relayed.IncTo(s.RelayFramesReceived.Value);
            refused.WithLabels("max-connections").IncTo(s.ConnectionsRefusedNodeLimit.Value);
            refused.WithLabels("max-connections-per-ip").IncTo(s.ConnectionsRefusedPerIp.Value);
        });
        return registry;
    }
}
