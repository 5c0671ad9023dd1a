using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Event;
using Akka.Remote.Hosting;

namespace AkkaVoice.Server;

/// <summary>
/// Mutual TLS for Akka remoting (PROTOCOL.md section 11): this node presents the certificate of its PKCS#12
/// file and accepts a peer, on either end of a connection, only when the peer's certificate is that same
/// certificate or chains to a CA certificate held in the same file. The machine's trust store is never
/// consulted: a certificate from any public or company CA that is not the cluster's is refused.
/// </summary>
public sealed class ClusterTls
{
    private readonly X509Certificate2Collection anchors;

    private ClusterTls(X509Certificate2 certificate, X509Certificate2Collection anchors)
    {
        Certificate = certificate;
        this.anchors = anchors;
    }

    /// <summary>The certificate this node presents (with its private key).</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>
    /// Reads <paramref name="path"/>: the one certificate with a private key is the node's; its CA (the root
    /// of its chain in the file) is an anchor, and so is every other self-signed CA certificate in the file
    /// (a second CA during a CA rotation). A certificate that is not self-signed needs its CA in the file
    /// (scripts/make-cluster-cert.sh writes it there); otherwise the file is refused.
    /// </summary>
    public static ClusterTls Load(string path, string? password)
    {
        X509Certificate2Collection all;
        if (!File.Exists(path)) throw new ArgumentException($"--tls-cert {path} cannot be read: no such file");
        try
        {
            all = X509CertificateLoader.LoadPkcs12CollectionFromFile(path, password, X509KeyStorageFlags.Exportable);
        }
        catch (CryptographicException e)
        {
            throw new ArgumentException($"--tls-cert {path} is not a PKCS#12 file this password opens ({e.Message.TrimEnd('.')})");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"--tls-cert {path} cannot be read: {e.Message}");
        }
        var keyed = all.Where(c => c.HasPrivateKey).ToArray();
        if (keyed.Length != 1)
            throw new ArgumentException($"--tls-cert {path} must hold exactly one certificate with its private key, not {keyed.Length}");
        var own = keyed[0];
        if (own.NotAfter < DateTime.Now || own.NotBefore > DateTime.Now)
            throw new ArgumentException($"--tls-cert {path}: the certificate {own.Subject} is valid from {own.NotBefore:u} to {own.NotAfter:u}, not now");

        var anchors = new X509Certificate2Collection();
        if (IsSelfSigned(own)) anchors.Add(own);
        else
        {
            using var chain = NewChain(all);
            chain.ChainPolicy.ExtraStore.AddRange(all);
            if (!chain.Build(own))
                throw new ArgumentException($"--tls-cert {path}: the certificate {own.Subject} does not chain to a CA certificate in the same file " +
                    $"({string.Join(", ", chain.ChainStatus.Select(s => s.Status))}); put the cluster CA certificate in it (scripts/make-cluster-cert.sh does)");
            anchors.Add(chain.ChainElements[^1].Certificate);
        }
        foreach (var other in all)
        {
            if (other != own && IsSelfSigned(other) && other.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority)
                && !anchors.Contains(other))
                anchors.Add(other);
        }
        return new ClusterTls(own, anchors);
    }

    /// <summary>True when <paramref name="peer"/> is the node's own certificate or chains to one of its anchors.</summary>
    public bool Accepts(X509Certificate2? peer, X509Chain? presented, out string why)
    {
        if (peer is null)
        {
            why = "no certificate";
            return false;
        }
        if (peer.RawDataMemory.Span.SequenceEqual(Certificate.RawDataMemory.Span))
        {
            why = "";
            return true;
        }
        using var chain = NewChain(anchors);
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
                if (!element.Certificate.RawDataMemory.Span.SequenceEqual(peer.RawDataMemory.Span)) chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        }
        // CustomRootTrust alone already fails a chain that ends elsewhere; the root check says so in words.
        if (chain.Build(peer) && anchors.Any(a => a.RawDataMemory.Span.SequenceEqual(chain.ChainElements[^1].Certificate.RawDataMemory.Span)))
        {
            why = "";
            return true;
        }
        why = $"certificate {peer.Subject} (issuer {peer.Issuer}, {peer.Thumbprint}) is not the cluster's: " +
              string.Join(", ", chain.ChainStatus.Select(s => s.Status).DefaultIfEmpty(X509ChainStatusFlags.UntrustedRoot));
        return false;
    }

    /// <summary>Akka.Hosting's TLS options: mutual authentication, no host name check (nodes share one certificate), this pinning.</summary>
    public SslOptions Options() => new()
    {
        X509Certificate = Certificate,
        RequireMutualAuthentication = true,
        ValidateCertificateHostname = false,
        SuppressValidation = false,
        CustomValidator = Validate,
    };

    private bool Validate(X509Certificate2? peer, X509Chain? chain, string remote, SslPolicyErrors errors, ILoggingAdapter log)
    {
        if (Accepts(peer, chain, out var why)) return true;
        log.Warning("Refused remoting peer {0}: {1}", remote, why);
        return false;
    }

    private static X509Chain NewChain(X509Certificate2Collection trust)
    {
        var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trust.Where(IsSelfSigned).ToArray());
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        return chain;
    }

    private static bool IsSelfSigned(X509Certificate2 c) => c.SubjectName.RawData.AsSpan().SequenceEqual(c.IssuerName.RawData);
}
