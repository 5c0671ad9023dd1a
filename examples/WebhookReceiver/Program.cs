using AkkaVoice.Examples.WebhookReceiver;

// A webhook receiver for AkkaVoice: POST /webhooks takes the events, GET /rooms shows each room's members as
// the events told them. Run: dotnet run --project examples/WebhookReceiver -- --urls http://127.0.0.1:8080
// with AKKAVOICE_WEBHOOK_SECRET set to the nodes' --webhook-secret, and start the nodes with
// --webhook-url http://127.0.0.1:8080/webhooks.
var secret = Environment.GetEnvironmentVariable("AKKAVOICE_WEBHOOK_SECRET");
if (secret is null || secret.Length < 32)
{
    Console.Error.WriteLine("Set AKKAVOICE_WEBHOOK_SECRET to the nodes' webhook secret (at least 32 bytes).");
    return 2;
}
var app = WebApplication.CreateSlimBuilder(args).Build();
var receiver = new WebhookReceiver(secret);
app.MapPost("/webhooks", receiver.HandleAsync);
app.MapGet("/rooms", () => Results.Json(receiver.Rooms().ToDictionary(r => r, r => receiver.Members(r).Values.OrderBy(m => m.Id))));
app.Run();
return 0;
