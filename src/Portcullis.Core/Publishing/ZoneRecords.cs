using System.Text;

namespace Portcullis.Core.Publishing;

/// <summary>One TLSA 3 1 1 record to publish for an MX host.</summary>
public sealed record TlsaToPublish(string MxHost, string Sha256Hex, string Source);

/// <summary>Renders the DNS records a domain publishes for MTA-STS, TLS-RPT and DANE, in zone-file syntax.</summary>
public static class ZoneRecords
{
    public static string Render(PublishedPolicy policy, string? tlsRptRua, string? policyHostTarget, IEnumerable<TlsaToPublish> tlsa,
        int ttl = 3600)
    {
        string d = policy.Domain.TrimEnd('.') + ".";
        var sb = new StringBuilder();
        sb.Append($"; MTA-STS for {policy.Domain}: mode {Publishing(policy)}, {policy.Mx.Count} mx pattern(s), max_age {policy.MaxAge}\n");
        sb.Append($"_mta-sts.{d}\t{ttl}\tIN\tTXT\t\"{policy.TxtRecord}\"\n");
        if (policyHostTarget is null)
            sb.Append($"; mta-sts.{d} must have A/AAAA records of the host running `portcullis policy-host` (or a CNAME to it)\n");
        else
            sb.Append($"mta-sts.{d}\t{ttl}\tIN\tCNAME\t{policyHostTarget.TrimEnd('.')}.\n");
        if (tlsRptRua is not null)
            sb.Append($"_smtp._tls.{d}\t{ttl}\tIN\tTXT\t\"v=TLSRPTv1; rua={tlsRptRua}\"\n");
        foreach (var t in tlsa)
            sb.Append($"_25._tcp.{t.MxHost.TrimEnd('.')}.\t{ttl}\tIN\tTLSA\t3 1 1 {t.Sha256Hex}\t; {t.Source}\n");
        return sb.ToString();
    }

    private static string Publishing(PublishedPolicy p) => MtaSts.StsModeNames.ToWire(p.Mode);

    /// <summary>The order that never leaves senders with a policy they cannot fetch or an MX they reject.</summary>
    public const string ChangeProcedure = """
        ; Safe changes:
        ;  1. Change the policy here and let `policy-host` serve it BEFORE publishing the new _mta-sts id
        ;     (senders fetch when the id changes; the new file must already be there).
        ;  2. Start in mode testing; switch to enforce after TLS-RPT reports show no failures.
        ;  3. Before changing MX hosts: add the new host to mx first, lower max_age (e.g. 86400) and wait
        ;     for the old max_age to pass; only then move the MX records.
        ;  4. TLSA: publish the record of the next key beside the current one, wait two TTLs, then
        ;     switch the certificate, then remove the old record.
        """;
}
