using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Portcullis.Core.Checking;
using Portcullis.Core.Dane;
using Portcullis.Core.Dns;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Monitoring;
using Portcullis.Dns;
using Portcullis.Http;

namespace Portcullis.Checking;

/// <summary>
/// `check DOMAIN`: audits a domain's inbound transport security the way online validators do —
/// MX and DNSSEC, MTA-STS record and policy, MX coverage, STARTTLS and certificates per MX host,
/// TLSA against the certificate actually served, and the TLS-RPT record.
/// </summary>
public sealed partial class DomainChecker(IDnsResolver dns, IPolicyFetcher fetcher, TimeProvider time, TimeSpan probeTimeout)
{
    /// <summary>Per address: connect, greeting, EHLO, STARTTLS and the TLS handshake together.</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(15);

    private delegate void Adder(CheckKind kind, string area, string title, CheckStatus s, string detail, string? fix = null);

    public async Task<IReadOnlyList<CheckItem>> CheckAsync(string domain, CancellationToken ct) => (await RunAsync(domain, ct)).Items;

    /// <summary>The findings, plus the certificate each MX host address served (for the own-domain monitor).</summary>
    public async Task<DomainCheckResult> RunAsync(string domain, CancellationToken ct)
    {
        var items = new List<CheckItem>();
        var certificates = new List<HostCertificate>();
        void Add(CheckKind kind, string area, string title, CheckStatus s, string detail, string? fix = null) =>
            items.Add(new(area, title, s, detail, fix) { Kind = kind });

        // MX
        var mx = await dns.QueryMxAsync(domain, ct);
        var hosts = new List<string>();
        switch (mx.Status)
        {
            case DnsStatus.Secure or DnsStatus.Insecure when mx.Records.Any(r => r.Exchange.Length == 0):
                Add(CheckKind.Mx, "MX", "MX records", CheckStatus.Info, "null MX (RFC 7505): the domain accepts no mail");
                break;
            case DnsStatus.Secure or DnsStatus.Insecure:
                hosts = mx.Records.OrderBy(r => r.Preference).Select(r => r.Exchange).Distinct().ToList();
                Add(CheckKind.Mx, "MX", "MX records", CheckStatus.Pass, string.Join(", ", mx.Records.OrderBy(r => r.Preference).Select(r => $"{r.Preference} {r.Exchange}")));
                break;
            case DnsStatus.NoData or DnsStatus.NxDomain:
                if (mx.Status == DnsStatus.NoData)
                    hosts.Add(domain);
                Add(CheckKind.Mx, "MX", "MX records", CheckStatus.Warn, $"{mx.Detail}; mail goes to the domain's own address (implicit MX)",
                    "Publish MX records naming your mail servers.");
                break;
            default:
                Add(CheckKind.Mx, "MX", "MX records", CheckStatus.Fail, mx.Detail, "Fix the zone's DNS or DNSSEC: senders cannot deliver while MX lookups fail.");
                break;
        }
        if (mx.HasRecords || mx.Status == DnsStatus.NoData)
        {
            Add(CheckKind.Dnssec, "DNSSEC", "MX records signed", mx.Authenticated ? CheckStatus.Pass : CheckStatus.Warn,
                mx.Authenticated ? "validated (AD)" : "not DNSSEC-validated: DANE cannot protect this domain",
                mx.Authenticated ? null : "Sign the zone (DNSSEC) to make DANE possible.");
        }

        // DANE protects the domain when the MX RRset is signed and every MX host has usable TLSA:
        // then a missing MTA-STS record is not an opening for downgrade attacks on DANE senders.
        bool daneProtected = mx.Authenticated && hosts.Count > 0;
        foreach (string h in hosts.Take(10))
        {
            var t = await dns.QueryTlsaAsync("_25._tcp." + h, ct);
            daneProtected &= t.Status == DnsStatus.Secure && t.Records.Any(r => TlsaUsability.WhyUnusable(r) is null);
        }

        // MTA-STS
        var policy = await CheckMtaStsAsync(domain, daneProtected, Add, ct);
        if (policy is not null && policy.Mode != StsMode.None)
        {
            foreach (string h in hosts)
            {
                bool covered = MxPatternMatch.Covered(policy.MxPatterns, h);
                Add(CheckKind.MxCoverage, "MTA-STS", $"policy covers {h}", covered ? CheckStatus.Pass : policy.Mode == StsMode.Enforce ? CheckStatus.Fail : CheckStatus.Warn,
                    covered ? "matches an mx pattern" : $"no mx pattern matches ({string.Join(", ", policy.MxPatterns)}); '*.' covers exactly one label",
                    covered ? null : $"Add 'mx: {h}' to the policy (and a new id), or senders enforcing it will not deliver to {h}.");
            }
        }

        // Per MX host: addresses, STARTTLS, certificate, TLSA
        foreach (string h in hosts.Take(10))
            await CheckHostAsync(h, policy, Add, certificates, ct);

        // TLS-RPT
        var rpt = await dns.QueryTxtAsync("_smtp._tls." + domain, ct);
        items.Add(TlsRptRecord.Judge(domain, rpt.IsError ? rpt.Detail : null, [.. rpt.Records.Select(r => string.Concat(r))]));
        return new DomainCheckResult(items, certificates);
    }

    private async Task<StsPolicy?> CheckMtaStsAsync(string domain, bool daneProtected, Adder add,
        CancellationToken ct)
    {
        var txt = await dns.QueryTxtAsync("_mta-sts." + domain, ct);
        if (txt.IsError)
        {
            add(CheckKind.MtaStsRecord, "MTA-STS", "_mta-sts record", CheckStatus.Fail, txt.Detail, "Fix the DNS of _mta-sts." + domain);
            return null;
        }
        var parsed = StsTxtParser.Parse(txt.Records);
        switch (parsed.Status)
        {
            case StsTxtStatus.NoRecord when daneProtected:
                add(CheckKind.MtaStsRecord, "MTA-STS", "_mta-sts record", CheckStatus.Info,
                    "no MTA-STS record; DANE protects delivery from senders that support it (MTA-STS would add the others)",
                    "Publish a policy too (see `portcullis records`) for senders without DANE.");
                return null;
            case StsTxtStatus.NoRecord:
                add(CheckKind.MtaStsRecord, "MTA-STS", "_mta-sts record", CheckStatus.Warn, "no MTA-STS record: senders may deliver without TLS under attack",
                    "Publish a policy (see `portcullis records`).");
                return null;
            case StsTxtStatus.Multiple:
                add(CheckKind.MtaStsRecord, "MTA-STS", "_mta-sts record", CheckStatus.Fail, "several v=STSv1 records: senders treat this as no policy", "Keep exactly one.");
                return null;
            case StsTxtStatus.Invalid:
                // The policy file is still checked, so both problems are known at once.
                add(CheckKind.MtaStsRecord, "MTA-STS", "_mta-sts record", CheckStatus.Fail, $"\"{parsed.Record}\": {parsed.Detail}; senders ignore the policy until this is fixed",
                    "Use v=STSv1; id=<1-32 letters or digits>");
                break;
            default:
                add(CheckKind.MtaStsRecord, "MTA-STS", "_mta-sts record", CheckStatus.Pass, $"\"{parsed.Record}\" (id {parsed.Id})", null);
                break;
        }

        var fetch = await fetcher.FetchAsync(domain, ct);
        if (fetch.Outcome.Policy is not { } policy)
        {
            var hostAddresses = await dns.QueryAddressesAsync("mta-sts." + domain, ct);
            var nonPublic = hostAddresses.Records.Where(a => !AddressScope.IsPublic(a)).ToList();
            string fix = fetch.Outcome.Failure switch
            {
                Core.Policy.StsFailureType.WebPkiInvalid => $"Serve a publicly trusted certificate valid for mta-sts.{domain}.",
                Core.Policy.StsFailureType.PolicyInvalid => "Serve a valid policy as text/plain (RFC 8461 §3.2), at most 64 KiB.",
                _ when nonPublic.Count > 0 && nonPublic.Count == hostAddresses.Records.Count =>
                    $"mta-sts.{domain} resolves only to private/non-public addresses ({string.Join(", ", nonPublic)}): that is why the fetch " +
                    "was refused, and senders on the Internet cannot reach it either. Give it a public A/AAAA address " +
                    "(for a lab, mta_sts.allow_private_addresses: true lets this checker fetch from it).",
                _ => $"Serve the policy with status 200 at {fetch.Url} (no redirects).",
            };
            add(CheckKind.MtaStsPolicy, "MTA-STS", "policy fetch", CheckStatus.Fail, fetch.Outcome.Detail, fix);
            return null;
        }
        add(CheckKind.MtaStsPolicy, "MTA-STS", "policy fetch", CheckStatus.Pass, $"HTTP 200, {fetch.ContentType}, {fetch.BodyBytes} bytes, certificate valid for mta-sts.{domain}", null);
        if (fetch.Body is { } body && body.Contains('\n', StringComparison.Ordinal) && !body.Contains("\r\n", StringComparison.Ordinal))
            add(CheckKind.MtaStsPolicy, "MTA-STS", "line endings", CheckStatus.Info, "LF line endings; RFC 8461 specifies CRLF (LF is widely accepted)", "Serve CRLF line endings.");
        var (status, detail, fixMode) = policy.Mode switch
        {
            StsMode.Enforce when policy.MaxAgeSeconds < 86400 => (CheckStatus.Warn, $"enforce with max_age {policy.MaxAgeSeconds} s: an attacker only has to wait for expiry", "Use max_age of at least 86400 (a week or more is common)."),
            StsMode.Enforce => (CheckStatus.Pass, $"enforce, max_age {policy.MaxAgeSeconds} s", (string?)null),
            StsMode.Testing => (CheckStatus.Info, $"testing, max_age {policy.MaxAgeSeconds} s: failures are reported, not prevented", "Switch to enforce once TLS-RPT shows no failures."),
            _ => (CheckStatus.Info, "mode none: the policy is being withdrawn", (string?)null),
        };
        add(CheckKind.MtaStsPolicy, "MTA-STS", "policy mode", status, detail, fixMode);
        return parsed.Status == StsTxtStatus.Valid ? policy : null;
    }

    /// <summary>Senders may reach any address of an MX host, so each is probed (at most this many).</summary>
    private const int MaxProbedAddresses = 8;

    private async Task CheckHostAsync(string host, StsPolicy? policy, Adder add, List<HostCertificate> certificates, CancellationToken ct)
    {
        var a = await dns.QueryAAsync(host, ct);
        var aaaa = await dns.QueryAaaaAsync(host, ct);
        var addresses = a.Records.Concat(aaaa.Records).Distinct().Take(MaxProbedAddresses).ToList();
        if (addresses.Count == 0)
        {
            add(CheckKind.StartTls, host, "address", CheckStatus.Fail, $"{a.Detail}; {aaaa.Detail}", "Give the MX host A/AAAA records.");
            return;
        }
        var probes = await Task.WhenAll(addresses.Select(ip => StartTlsProbe.RunAsync(host, ip, probeTimeout, ct)));
        // One address keeps the plain titles; several get the address in each title.
        string Title(string what, string? where) => addresses.Count == 1 || where is null ? what : $"{what} {where}";
        foreach (var probe in probes)
        {
            if (probe.Error is not null)
                add(CheckKind.StartTls, host, Title("STARTTLS", probe.Address.ToString()), CheckStatus.Fail, $"{probe.Address}: {probe.Error}", "Offer STARTTLS with a valid certificate on port 25.");
            else
                add(CheckKind.StartTls, host, Title("STARTTLS", probe.Address.ToString()), CheckStatus.Pass, $"{probe.Address}: offered and negotiated", null);
        }
        // Each distinct certificate is judged once, naming the addresses that serve it when they differ.
        var served = probes.Where(p => p.Error is null && p.Chain.Count > 0).GroupBy(p => p.Chain[0].Thumbprint).ToList();
        certificates.AddRange(served.SelectMany(g => g).Select(p => new HostCertificate(host, p.Address.ToString(), p.Chain[0].NotAfter.ToUniversalTime())));
        if (served.Count == 0)
            return;
        var tlsa = await dns.QueryTlsaAsync("_25._tcp." + host, ct);
        foreach (var group in served)
        {
            string? where = served.Count == 1 ? null : string.Join(", ", group.Select(p => p.Address));
            CheckCertificate(host, group.First(), policy, tlsa, t => Title(t, where), add);
        }
    }

    private void CheckCertificate(string host, ProbeResult probe, StsPolicy? policy, DnsResult<Core.Dns.TlsaRecord> tlsa, Func<string, string> title,
        Adder add)
    {
        var leaf = probe.Chain[0];
        bool nameOk = (probe.Errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0;
        bool chainOk = (probe.Errors & SslPolicyErrors.RemoteCertificateChainErrors) == 0;
        var sts = policy?.Mode == StsMode.Enforce ? CheckStatus.Fail : CheckStatus.Warn;
        // Name which field matched: with a subjectAltName, TLS clients ignore the subject CN (RFC 6125 §6.4.4).
        var sans = leaf.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(e => e.EnumerateDnsNames()).ToList();
        string? matched = sans.FirstOrDefault(n => MxPatternMatch.Matches(n, host));
        string nameDetail = nameOk
            ? matched is not null ? $"subjectAltName DNS:{matched} covers {host}" : $"{leaf.Subject} covers {host} (no subjectAltName)"
            : sans.Count > 0 ? $"subjectAltName DNS:{string.Join(", DNS:", sans)} ({leaf.Subject}) does not cover {host}"
            : $"{leaf.Subject} (no subjectAltName) does not cover {host}";
        add(CheckKind.Certificate, host, title("certificate name"), nameOk ? CheckStatus.Pass : sts, nameDetail,
            nameOk ? null : $"Use a certificate whose subjectAltName includes {host} (required under MTA-STS enforce).");
        add(CheckKind.Certificate, host, title("certificate chain"), chainOk ? CheckStatus.Pass : sts, chainOk ? "trusted (Web PKI)" : $"not trusted: {probe.ChainStatus}",
            chainOk ? null : "Serve the full chain from a publicly trusted CA (required under MTA-STS; DANE-EE does not need it).");
        var notAfter = new DateTimeOffset(leaf.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        var expiry = CertificateExpiry.Judge(notAfter, time.GetUtcNow());
        add(CheckKind.Certificate, host, title("certificate expiry"), expiry,
            $"expires {notAfter:yyyy-MM-dd} ({CertificateExpiry.DaysLeft(notAfter, time.GetUtcNow()):0} days)", expiry != CheckStatus.Pass ? "Renew the certificate." : null);

        if (tlsa.Status == DnsStatus.Secure)
        {
            var usable = tlsa.Records.Where(r => TlsaUsability.WhyUnusable(r) is null).ToList();
            bool match = usable.Any(r => TlsaMatch.Matches(r, probe.Chain));
            add(CheckKind.Tlsa, host, title("TLSA"), usable.Count == 0 ? CheckStatus.Fail : match ? CheckStatus.Pass : CheckStatus.Fail,
                usable.Count == 0 ? $"{tlsa.Records.Count} TLSA record(s), none usable (usage 2/3, selector 0/1, matching 0/1/2)"
                    : match ? $"{usable.Count} usable TLSA record(s); the served certificate matches"
                    : "no usable TLSA record matches the certificate served: DANE senders will defer",
                match ? null : "Publish 3 1 1 <SHA-256 of the served key> (see `portcullis records`) before switching certificates.");
        }
        else if (tlsa.Status is DnsStatus.NoData or DnsStatus.NxDomain && tlsa.Authenticated)
        {
            add(CheckKind.Tlsa, host, title("TLSA"), CheckStatus.Warn, $"no TLSA records at _25._tcp.{host} although the zone is DNSSEC-signed: DANE senders cannot authenticate this host",
                "Publish 3 1 1 <SHA-256 of the served key> (see `portcullis records`) to protect delivery with DANE.");
        }
        else if (tlsa.Status == DnsStatus.Insecure)
        {
            add(CheckKind.Tlsa, host, title("TLSA"), CheckStatus.Warn, "TLSA records in an unsigned zone are ignored by senders", "Sign the zone with DNSSEC.");
        }
        else if (tlsa.IsError)
        {
            add(CheckKind.Tlsa, host, title("TLSA"), CheckStatus.Fail, tlsa.Detail, "Fix the zone: DANE senders defer mail while TLSA lookups fail.");
        }
    }
}

/// <summary>What <see cref="DomainChecker.RunAsync"/> found.</summary>
public sealed record DomainCheckResult(IReadOnlyList<CheckItem> Items, IReadOnlyList<HostCertificate> MxCertificates);
