using System.Text.Json;

namespace AkkaVoice.IntegrationTests;

/// <summary>A page in a real browser, driven by a test: evaluate JavaScript in it, take a screenshot, close it.</summary>
public interface IBrowserPage : IAsyncDisposable
{
    /// <summary>Evaluates a JavaScript expression in the page and returns its value as JSON (undefined: default).</summary>
    Task<JsonElement> EvaluateAsync(string expression);

    Task ScreenshotAsync(string path);
}
