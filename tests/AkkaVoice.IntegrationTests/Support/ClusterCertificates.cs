using System.Diagnostics;

namespace AkkaVoice.IntegrationTests.Support;

/// <summary>
/// A cluster certificate made by scripts/make-cluster-cert.sh (openssl) in a temporary folder: the
/// PKCS#12 file for <c>--tls-cert</c> and the file holding its password.
/// </summary>
public sealed record ClusterCertificate(string Folder)
{
    public string Pkcs12 => Path.Combine(Folder, "cluster.p12");
    public string PasswordFile => Path.Combine(Folder, "cluster.password");

    /// <summary>The flags of a node presenting this certificate.</summary>
    public string[] Flags => ["--tls-cert", Pkcs12, "--tls-cert-password-file", PasswordFile];

    /// <summary>Makes a new CA and a cluster certificate signed by it.</summary>
    public static ClusterCertificate Make()
    {
        var folder = Path.Combine(Path.GetTempPath(), "akkavoice-cert-" + Guid.NewGuid().ToString("N"));
        var info = new ProcessStartInfo("bash", [Path.Combine(RepositoryRoot, "scripts", "make-cluster-cert.sh"), folder])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"make-cluster-cert.sh failed ({process.ExitCode}): {output}");
        return new ClusterCertificate(folder);
    }

    /// <summary>The repository's root: the first folder above the test binary with scripts/make-cluster-cert.sh.</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "scripts", "make-cluster-cert.sh"))) return dir.FullName;
            throw new DirectoryNotFoundException("no scripts/make-cluster-cert.sh above " + AppContext.BaseDirectory);
        }
    }
}
