using AkkaVoice.Server;

return await VoiceHost.RunAsync(args);
