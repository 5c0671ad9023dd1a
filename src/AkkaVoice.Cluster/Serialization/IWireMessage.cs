namespace AkkaVoice.Cluster.Serialization;

/// <summary>Marks the messages that cross nodes; HOCON binds them all to <see cref="WireSerializer"/>.</summary>
public interface IWireMessage;
