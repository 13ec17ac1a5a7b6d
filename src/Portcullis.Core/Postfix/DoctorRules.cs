using System.Text.RegularExpressions;

namespace Portcullis.Core.Postfix;

/// <summary>Outcome of one <c>portcullis doctor</c> check.</summary>
public enum DoctorStatus { Ok, Warn, Fail }

/// <summary>One printed line: status, what was found and, unless ok, the fix.</summary>
public sealed record DoctorLine(DoctorStatus Status, string Check, string Found, string? Fix = null)
{
    public override string ToString()
    {
        string s = Status switch { DoctorStatus.Ok => "ok  ", DoctorStatus.Warn => "warn", _ => "FAIL" };
        return $"{s} {Check}: {Found}{(Fix is null ? "" : " -> fix: " + Fix)}";
    }
}

/// <summary>A socketmap entry of smtp_tls_policy_maps: <c>socketmap:inet:HOST:PORT:NAME</c> or <c>socketmap:unix:PATH:NAME</c>.</summary>
public sealed record SocketmapEntry(string Map, string Transport, string Address, string Name)
{
    /// <summary>Finds the first socketmap entry in a postconf value (maps separated by commas or white space).</summary>
    public static SocketmapEntry? FindIn(string maps)
    {
        foreach (string m in maps.Split([',', ' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (!m.StartsWith("socketmap:", StringComparison.Ordinal))
                continue;
            string rest = m["socketmap:".Length..];
            int last = rest.LastIndexOf(':');
            int first = rest.IndexOf(':');
            if (first <= 0 || last <= first + 1 || last == rest.Length - 1)
                continue;
            return new SocketmapEntry(m, rest[..first], rest[(first + 1)..last], rest[(last + 1)..]);
        }
        return null;
    }
}

/// <summary>The kind of answer <c>postmap -q</c> gave (see tests' PostfixHarness for the observed forms).</summary>
public enum PostmapKind { Ok, NotFound, Temp, Perm, Unreachable }

/// <summary>The pure decisions of <c>portcullis doctor</c>, separate from running postconf, postmap and DNS.</summary>
public static partial class DoctorRules
{
    public const string QueryWithTlsRpt = "QUERYwithTLSRPT";
    public const string Query = "QUERY";

    public static readonly Version TlsRptVersion = new(3, 10);

    /// <summary>Classifies postmap's exit code and output: exit 1 alone is NOTFOUND, errors say "fatal:" on stderr.</summary>
    public static PostmapKind ClassifyPostmap(int exit, string stderr)
    {
        if (exit == 0)
            return PostmapKind.Ok;
        if (stderr.Contains("temporary error", StringComparison.Ordinal))
            return PostmapKind.Temp;
        if (stderr.Contains("permanent error", StringComparison.Ordinal))
            return PostmapKind.Perm;
        return stderr.Contains("fatal:", StringComparison.Ordinal) || stderr.Contains("warning:", StringComparison.Ordinal)
            ? PostmapKind.Unreachable
            : PostmapKind.NotFound;
    }

    /// <summary>The kind of a raw socketmap reply (<c>OK …</c>, <c>NOTFOUND </c>, <c>TEMP …</c>, <c>PERM …</c>).</summary>
    public static PostmapKind ClassifyReply(string reply) => reply.Split(' ', 2)[0] switch
    {
        "OK" => PostmapKind.Ok,
        "NOTFOUND" => PostmapKind.NotFound,
        "TEMP" => PostmapKind.Temp,
        _ => PostmapKind.Perm,
    };

    /// <summary>The map name for this Postfix version: QUERYwithTLSRPT needs 3.10 (older ones reject its attributes).</summary>
    public static DoctorLine MapName(Version postfix, string version, SocketmapEntry entry)
    {
        const string check = "map name";
        bool tlsrpt = string.Equals(entry.Name, QueryWithTlsRpt, StringComparison.OrdinalIgnoreCase);
        bool query = string.Equals(entry.Name, Query, StringComparison.OrdinalIgnoreCase);
        string fixTo(string name) => $"postconf -e 'smtp_tls_policy_maps=socketmap:{entry.Transport}:{entry.Address}:{name}'";
        if (postfix >= TlsRptVersion)
        {
            return tlsrpt ? new(DoctorStatus.Ok, check, $"{entry.Name} on Postfix {version}")
                : query ? new(DoctorStatus.Warn, check, $"QUERY on Postfix {version}: MX patterns are not enforced (smtp_tls_enforce_sts_mx_patterns needs QUERYwithTLSRPT, see README)", fixTo(QueryWithTlsRpt))
                : new(DoctorStatus.Warn, check, $"{entry.Name} (a map from maps:, not QUERY or QUERYwithTLSRPT)");
        }
        return tlsrpt ? new(DoctorStatus.Fail, check, $"QUERYwithTLSRPT on Postfix {version}: Postfix 3.9 and older reject its attributes", fixTo(Query))
            : query ? new(DoctorStatus.Ok, check, $"QUERY on Postfix {version}")
            : new(DoctorStatus.Warn, check, $"{entry.Name} (a map from maps:, not QUERY)");
    }

    /// <summary>smtp_dns_support_level must be dnssec (else Postfix ignores DNSSEC and DANE), the level should be dane.</summary>
    public static IEnumerable<DoctorLine> Levels(string dnsSupport, string securityLevel)
    {
        yield return dnsSupport == "dnssec"
            ? new(DoctorStatus.Ok, "smtp_dns_support_level", "dnssec")
            : new(DoctorStatus.Fail, "smtp_dns_support_level", $"'{dnsSupport}': Postfix does not ask for DNSSEC, so no DANE", "postconf -e smtp_dns_support_level=dnssec");
        yield return securityLevel == "dane"
            ? new(DoctorStatus.Ok, "smtp_tls_security_level", "dane")
            : new(DoctorStatus.Warn, "smtp_tls_security_level", $"'{securityLevel}' (domains without a policy get this level, not opportunistic DANE)", "postconf -e smtp_tls_security_level=dane");
    }

    /// <summary>smtp_tlsrpt_enable must be on exactly when Portcullis collects (Postfix 3.10+ with libtlsrpt).</summary>
    public static DoctorLine TlsRptEnable(Version postfix, string version, string? enable, bool collecting)
    {
        const string check = "smtp_tlsrpt_enable";
        if (postfix < TlsRptVersion)
        {
            return collecting
                ? new(DoctorStatus.Warn, check, $"not present in Postfix {version}, but tlsrpt.collect_socket is set: nothing will arrive", "upgrade to Postfix 3.10.6+ or clear tlsrpt.collect_socket")
                : new(DoctorStatus.Ok, check, $"not present in Postfix {version} (TLSRPT needs 3.10)");
        }
        if (enable is null)
        {
            return collecting
                ? new(DoctorStatus.Fail, check, $"Postfix {version} is built without TLSRPT (no smtp_tlsrpt_enable), but tlsrpt.collect_socket is set", "install a Postfix with libtlsrpt or clear tlsrpt.collect_socket")
                : new(DoctorStatus.Warn, check, $"Postfix {version} is built without TLSRPT: no TLS-RPT reporting");
        }
        bool on = enable == "yes";
        if (on == collecting)
            return new(DoctorStatus.Ok, check, on ? "yes, and Portcullis collects (tlsrpt.collect_socket)" : "no, and Portcullis does not collect");
        return on
            ? new(DoctorStatus.Fail, check, "yes, but tlsrpt.collect_socket is not set: Postfix's events go nowhere", "set tlsrpt.collect_socket (see portcullis postfix-setup) or postconf -e smtp_tlsrpt_enable=no")
            : new(DoctorStatus.Fail, check, "no, but Portcullis collects (tlsrpt.collect_socket is set): nothing will arrive", "postconf -e smtp_tlsrpt_enable=yes");
    }

    /// <summary>The socket path as seen from Postfix's root: relative to queue_directory, under it when smtp is chrooted.</summary>
    public static string TlsRptSocketPath(string socketName, string queueDirectory, bool chrooted) =>
        !socketName.StartsWith('/') ? Path.Combine(queueDirectory, socketName)
        : chrooted ? queueDirectory.TrimEnd('/') + socketName
        : socketName;

    /// <summary>Can a process with <paramref name="uid"/> and <paramref name="gids"/> write a file of this owner, group and mode?</summary>
    public static bool CanWrite(int fileUid, int fileGid, int mode, int uid, IReadOnlyCollection<int> gids) => Can(fileUid, fileGid, mode, uid, gids, 2);

    /// <summary>Can it search (traverse) a directory of this owner, group and mode?</summary>
    public static bool CanSearch(int fileUid, int fileGid, int mode, int uid, IReadOnlyCollection<int> gids) => Can(fileUid, fileGid, mode, uid, gids, 1);

    private static bool Can(int fileUid, int fileGid, int mode, int uid, IReadOnlyCollection<int> gids, int bit)
    {
        if (uid == 0)
            return true;
        if (uid == fileUid)
            return (mode & (bit << 6)) != 0;
        if (gids.Contains(fileGid))
            return (mode & (bit << 3)) != 0;
        return (mode & bit) != 0;
    }

    /// <summary>resolv.conf: the nameservers (glibc uses at most 3) and whether <c>options trust-ad</c> is set.</summary>
    public static (IReadOnlyList<string> Nameservers, bool TrustAd) ParseResolvConf(string text)
    {
        var ns = new List<string>();
        bool trustAd = false;
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.Split('#', ';')[0];
            var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length >= 2 && parts[0] == "nameserver" && ns.Count < 3)
                ns.Add(parts[1]);
            else if (parts.Length >= 2 && parts[0] == "options" && parts.Skip(1).Contains("trust-ad"))
                trustAd = true;
        }
        return (ns, trustAd);
    }

    /// <summary>The leading <c>MAJOR.MINOR[.PATCH]</c> of mail_version, or null.</summary>
    public static Version? ParseVersion(string mailVersion)
    {
        var m = VersionRegex().Match(mailVersion);
        return m.Success
            ? new Version(int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value), m.Groups[3].Success ? int.Parse(m.Groups[3].Value) : 0)
            : null;
    }

    [GeneratedRegex(@"^(\d+)\.(\d+)(?:\.(\d+))?")]
    private static partial Regex VersionRegex();
}
