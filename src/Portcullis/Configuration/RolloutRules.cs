using Portcullis.Dns;

namespace Portcullis.Configuration;

/// <summary>The rules of publish.readiness and each domain's max_age_steps and dns_update (called by ConfigLoader.Validate after PublishRules).</summary>
internal static class RolloutRules
{
    public static void Validate(PortcullisConfig c, Action<string> err)
    {
        var r = c.Publish.Readiness;
        if (r.WindowDays < 1 || r.WindowDays > Storage.Reports.SqlReportStore.MaxDays)
            err($"publish.readiness.window_days: between 1 and {Storage.Reports.SqlReportStore.MaxDays}");
        if (r.MinDays < 0 || r.MinDays > r.WindowDays)
            err("publish.readiness.min_days: between 0 and window_days");
        if (r.MinOrganizations < 0)
            err("publish.readiness.min_organizations: must not be negative");
        if (r.MinSessions < 0)
            err("publish.readiness.min_sessions: must not be negative");
        if (r.MaxFailurePercent is < 0 or > 100)
            err("publish.readiness.max_failure_percent: between 0 and 100");
        if (r.MxCertificateDays < 0)
            err("publish.readiness.mx_certificate_days: must not be negative");
        foreach (var (domain, d) in c.Publish.Domains)
        {
            string at = $"publish.domains.{domain}";
            long previous = 0;
            foreach (long step in d.MaxAgeSteps)
            {
                if (step <= previous || step > Core.MtaSts.StsPolicyParser.MaxMaxAge)
                {
                    err($"{at}.max_age_steps: each step must be larger than the one before, from 1 to {Core.MtaSts.StsPolicyParser.MaxMaxAge}");
                    break;
                }
                previous = step;
            }
            var u = d.DnsUpdate;
            if (u.Server.Length > 0 && !ResolvConf.TryParseEndpoint(u.Server, 53, out _))
                err($"{at}.dns_update.server: '{u.Server}' is not HOST[:PORT] with an IP address");
            foreach (string v in u.Verify)
            {
                if (!ResolvConf.TryParseEndpoint(v, 53, out _))
                    err($"{at}.dns_update.verify: '{v}' is not HOST[:PORT] with an IP address");
            }
            string zone = u.Zone.TrimEnd('.').ToLowerInvariant();
            string name = domain.TrimEnd('.').ToLowerInvariant();
            if (zone.Length > 0 && name != zone && !name.EndsWith("." + zone, StringComparison.Ordinal))
                err($"{at}.dns_update.zone: '{u.Zone}' does not contain _mta-sts.{domain}");
            if (u.TsigKeyFile.Length > 0 && !Path.IsPathRooted(u.TsigKeyFile))
                err($"{at}.dns_update.tsig_key_file: '{u.TsigKeyFile}' must be an absolute path");
            if (u.Ttl is < 60 or > 86400)
                err($"{at}.dns_update.ttl: between 60 and 86400");
            if (u.TimeoutMs is < 100 or > 60000)
                err($"{at}.dns_update.timeout_ms: between 100 and 60000");
            if (u.VerifyTimeout is < 1 or > 86400)
                err($"{at}.dns_update.verify_timeout: between 1 and 86400");
        }
    }
}
