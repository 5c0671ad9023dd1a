using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/AkkaVoice.Benchmarks -- --filter '*' --job short
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
