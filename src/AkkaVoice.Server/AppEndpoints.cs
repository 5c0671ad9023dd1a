using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;

namespace AkkaVoice.Server;

/// <summary>
/// The browser app of PROTOCOL.md section 7 at <c>/</c> and the JavaScript client at <c>/client/akkavoice.js</c>
/// (with <c>/client/akkavoice.d.ts</c>): static files from the <c>app/</c> folder next to the binary.
/// </summary>
public static class AppEndpoints
{
    public static void MapApp(this WebApplication app)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "app");
        if (!File.Exists(Path.Combine(folder, "index.html")))
            throw new InvalidOperationException($"the browser app is missing: no index.html in {folder}");
        var files = new PhysicalFileProvider(folder);
        var types = new FileExtensionContentTypeProvider();
        types.Mappings[".js"] = "text/javascript; charset=utf-8";
        types.Mappings[".ts"] = "text/plain; charset=utf-8"; // .d.ts, not an MPEG transport stream
        types.Mappings[".css"] = "text/css; charset=utf-8";
        types.Mappings[".html"] = "text/html; charset=utf-8";
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            ContentTypeProvider = types,
            // Always revalidate (ETag): a page never runs yesterday's script against today's node.
            OnPrepareResponse = ctx => ctx.Context.Response.Headers.CacheControl = "no-cache",
        });
    }
}
