namespace Portcullis.Configuration;

/// <summary>publish.domains.*.dns_update: the zone's primary, which accepts TSIG-signed RFC 2136 updates.</summary>
public sealed class DnsUpdateConfig
{
    /// <summary>HOST[:PORT] (an IP address) of the primary; "" = unknown, so `rollout` refuses to start.</summary>
    public string Server { get; set; } = "";
    /// <summary>The zone holding _mta-sts.DOMAIN; "" = the domain itself.</summary>
    public string Zone { get; set; } = "";
    /// <summary>TSIG key in the format nsupdate -k reads (key "name" { algorithm …; secret "…"; };).</summary>
    public string TsigKeyFile { get; set; } = "";
    /// <summary>Authoritative servers (HOST[:PORT]) that must all answer the new id; [] = the addresses of the zone's NS set.</summary>
    public List<string> Verify { get; set; } = [];
    /// <summary>TTL of the _mta-sts TXT record written.</summary>
    public int Ttl { get; set; } = 3600;
    /// <summary>Per update and per query.</summary>
    public int TimeoutMs { get; set; } = 5000;
    /// <summary>Seconds to wait for every authoritative server to answer the new id (secondaries transfer the zone).</summary>
    public int VerifyTimeout { get; set; } = 300;
}

/// <summary>publish.readiness: the evidence `rollout status` wants before testing → enforce.</summary>
public sealed class ReadinessConfig
{
    /// <summary>Reports of the last this many days are read.</summary>
    public int WindowDays { get; set; } = 30;
    /// <summary>Distinct UTC days with reports about the domain's MTA-STS policy.</summary>
    public int MinDays { get; set; } = 7;
    /// <summary>Distinct reporting organisations (one provider's view is not enough).</summary>
    public int MinOrganizations { get; set; } = 2;
    public long MinSessions { get; set; } = 100;
    /// <summary>Largest failure rate per failure type and per MX host, in percent of all sessions.</summary>
    public double MaxFailurePercent { get; set; } = 1.0;
    /// <summary>Each MX certificate must stay valid this many more days.</summary>
    public int MxCertificateDays { get; set; } = 14;
}
