using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AkkaVoice.IntegrationTests.Support;
using AkkaVoice.Server;
using Xunit;

namespace AkkaVoice.IntegrationTests;

/// <summary>
/// The pinning of <see cref="ClusterTls"/> on certificates made by scripts/make-cluster-cert.sh: a peer is
/// accepted when it presents the node's own certificate or one that chains to a CA of the node's file, and
/// refused otherwise, however trusted its issuer may be elsewhere.
/// </summary>
public sealed class ClusterTlsTests : IDisposable
{
    private readonly List<string> folders = [];

    private ClusterCertificate Make(string? trustAlso = null)
    {
        ClusterCertificate made;
        if (trustAlso is null) made = ClusterCertificate.Make();
        else
        {
            var folder = Path.Combine(Path.GetTempPath(), "akkavoice-cert-" + Guid.NewGuid().ToString("N"));
            var info = new ProcessStartInfo("bash", [Path.Combine(ClusterCertificate.RepositoryRoot, "scripts", "make-cluster-cert.sh"), folder]);
            info.Environment["TRUST_ALSO"] = trustAlso;
            using var process = Process.Start(info)!;
            process.WaitForExit();
            Assert.Equal(0, process.ExitCode);
            made = new ClusterCertificate(folder);
        }
        folders.Add(made.Folder);
        return made;
    }

    private static ClusterTls Load(ClusterCertificate c) => ClusterTls.Load(c.Pkcs12, File.ReadAllText(c.PasswordFile).Trim());

    /// <summary>The peer's certificate and the chain it presents (its CA from its own file).</summary>
    private static (X509Certificate2 Peer, X509Chain Chain) Presented(ClusterCertificate c)
    {
        var all = X509CertificateLoader.LoadPkcs12CollectionFromFile(c.Pkcs12, File.ReadAllText(c.PasswordFile).Trim());
        var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(all);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        var peer = all.Single(x => x.HasPrivateKey);
        chain.Build(peer);
        return (peer, chain);
    }

    private static bool Accepts(ClusterTls node, ClusterCertificate peer)
    {
        var (certificate, chain) = Presented(peer);
        return node.Accepts(certificate, chain, out _);
    }

    [Fact]
    public void A_node_accepts_its_own_cluster_and_refuses_another_and_no_certificate()
    {
        var cluster = Make();
        var other = Make();
        var node = Load(cluster);
        Assert.True(Accepts(node, cluster));
        Assert.True(node.Accepts(Presented(cluster).Peer, null, out _));
        Assert.False(Accepts(node, other));
        Assert.False(node.Accepts(null, null, out var why));
        Assert.Equal("no certificate", why);
    }

    [Fact]
    public void A_new_certificate_of_the_same_CA_is_accepted_both_ways()
    {
        var old = Make();
        // The same folder again: the CA stays, a new node certificate (the rotation of the node certificate).
        var info = new ProcessStartInfo("bash", [Path.Combine(ClusterCertificate.RepositoryRoot, "scripts", "make-cluster-cert.sh"), old.Folder + "-renewed"]);
        Directory.CreateDirectory(old.Folder + "-renewed");
        File.Copy(Path.Combine(old.Folder, "ca.key"), Path.Combine(old.Folder + "-renewed", "ca.key"));
        File.Copy(Path.Combine(old.Folder, "ca.crt"), Path.Combine(old.Folder + "-renewed", "ca.crt"));
        folders.Add(old.Folder + "-renewed");
        using (var process = Process.Start(info)!) process.WaitForExit();
        var renewed = new ClusterCertificate(old.Folder + "-renewed");
        Assert.True(Accepts(Load(old), renewed));
        Assert.True(Accepts(Load(renewed), old));
    }

    [Fact]
    public void During_a_CA_rotation_a_file_trusting_both_CAs_bridges_the_old_and_the_new()
    {
        var old = Make();
        var bridge = Make(trustAlso: Path.Combine(old.Folder, "ca.crt"));
        var stranger = Make();
        Assert.True(Accepts(Load(bridge), old));
        Assert.True(Accepts(Load(old), bridge) is false, "an old node does not know the new CA until its own file does");
        Assert.False(Accepts(Load(bridge), stranger));
    }

    [Fact]
    public void A_self_signed_certificate_pins_itself()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=akkavoice self", key, HashAlgorithmName.SHA256);
        using var self = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var file = Path.Combine(Path.GetTempPath(), $"akkavoice-self-{Guid.NewGuid():N}.p12");
        File.WriteAllBytes(file, self.Export(X509ContentType.Pkcs12, "pw"));
        try
        {
            var node = ClusterTls.Load(file, "pw");
            Assert.True(node.Accepts(X509CertificateLoader.LoadCertificate(self.RawData), null, out _));
            using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using var impostor = new CertificateRequest("CN=akkavoice self", otherKey, HashAlgorithmName.SHA256)
                .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
            Assert.False(node.Accepts(X509CertificateLoader.LoadCertificate(impostor.RawData), null, out _));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void A_file_that_is_not_a_cluster_certificate_is_refused_by_name()
    {
        var cluster = Make();
        Assert.Contains("is not a PKCS#12 file this password opens", Assert.Throws<ArgumentException>(() => ClusterTls.Load(cluster.Pkcs12, "wrong")).Message);
        Assert.Contains("cannot be read", Assert.Throws<ArgumentException>(() => ClusterTls.Load(cluster.Pkcs12 + ".missing", null)).Message);
    }

    public void Dispose()
    {
        foreach (var folder in folders.Where(Directory.Exists)) Directory.Delete(folder, true);
    }
}
