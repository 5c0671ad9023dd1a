using Xunit;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace AkkaVoice.IntegrationTests;

/// <summary>
/// One node for all the tests of a class (<c>IClassFixture</c>). Tests on a shared node use unique room and
/// user ids, and the classes run one after another: timing tests need the two cores to themselves.
/// </summary>
public abstract class NodeFixture : IAsyncLifetime
{
    public TestNode Node { get; private set; } = null!;

    protected virtual Task<TestNode> StartAsync() => TestNode.StartAsync();

    public async Task InitializeAsync() => Node = await StartAsync();

    public async Task DisposeAsync() => await Node.DisposeAsync();
}

/// <summary>A node with the contract's defaults, development mode (no JWT secret, no admin token).</summary>
public sealed class DefaultNode : NodeFixture;
