namespace Portcullis.Configuration;

/// <summary>The rules of the answers: MTA-STS fetching and rechecks, the no-policy level, overrides and named maps.</summary>
internal static class PolicyRules
{
    private static readonly string[] Levels = ["notfound", "none", "may", "encrypt", "dane", "dane-only", "verify", "secure"];

    public static void Validate(PortcullisConfig c, ConfigErrors e)
    {
        e.Positive("mta_sts.connect_timeout_ms", c.MtaSts.ConnectTimeoutMs);
        e.Positive("mta_sts.fetch_timeout_ms", c.MtaSts.FetchTimeoutMs);
        if (c.MtaSts.FetchTimeoutMs > 60_000)
            e.Err("mta_sts.fetch_timeout_ms: at most 60000, Postfix gives up on the socketmap after 100 s");
        if (c.MtaSts.FailureRetry < 300)
            e.Err("mta_sts.failure_retry: at least 300 seconds (RFC 8461 §5.1)");
        e.Positive("mta_sts.txt_recheck_min", c.MtaSts.TxtRecheckMin);
        if (c.MtaSts.TxtRecheckMax < c.MtaSts.TxtRecheckMin)
            e.Err("mta_sts.txt_recheck_max: must not be below txt_recheck_min");
        if (!Levels.Contains(c.Tlsrpt.NoPolicyLevel))
            e.Err($"tlsrpt.no_policy_level: '{c.Tlsrpt.NoPolicyLevel}' is not one of {string.Join(", ", Levels)}");
        foreach (var (domain, o) in c.Overrides)
        {
            if (!Core.Names.DomainName.TryParse(domain, out _))
            {
                e.Err($"overrides: '{domain}' is not a domain name");
                continue;
            }
            string level = o.Policy.Split(' ', 2)[0];
            if (!Levels.Contains(level) || level == "notfound" || o.Policy.AsSpan().IndexOfAny('\n', '\r') >= 0)
                e.Err($"overrides.{domain}.policy: '{o.Policy}' does not start with a Postfix security level");
        }
        foreach (string name in c.Maps.Keys)
        {
            if (name.Length == 0 || name.Any(ch => !char.IsAsciiLetterOrDigit(ch) && ch != '_' && ch != '-'))
                e.Err($"maps: '{name}' is not a valid map name (letters, digits, '_', '-')");
            if (name.Equals("QUERY", StringComparison.OrdinalIgnoreCase) || name.Equals("QUERYwithTLSRPT", StringComparison.OrdinalIgnoreCase))
                e.Err($"maps: '{name}' is built in");
        }
    }
}
