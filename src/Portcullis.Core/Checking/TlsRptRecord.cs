namespace Portcullis.Core.Checking;

/// <summary>The <c>_smtp._tls</c> TXT record of RFC 8460 §3, parsed for a checker.</summary>
public static class TlsRptRecord
{
    /// <summary>The `check` finding for a domain's <c>_smtp._tls</c> TXT records.</summary>
    /// <param name="lookupError">Why the lookup failed; null when it answered (with or without records).</param>
    public static CheckItem Judge(string domain, string? lookupError, IReadOnlyList<string> records)
    {
        CheckItem Item(CheckStatus s, string detail, string? fix = null) =>
            new("TLS-RPT", "_smtp._tls record", s, detail, fix) { Kind = CheckKind.TlsRptRecord };
        if (lookupError is not null)
            return Item(CheckStatus.Fail, lookupError);
        if (!records.Any(r => r.StartsWith("v=TLSRPTv1", StringComparison.Ordinal)))
        {
            return Item(CheckStatus.Warn, "no TLS-RPT record: you will not hear about delivery failures",
                $"Publish _smtp._tls.{domain} TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@{domain}\".");
        }
        return Problem(records, out var rua) is { } problem
            ? Item(CheckStatus.Fail, problem, "Use exactly one record: v=TLSRPTv1; rua=mailto:… or https://…")
            : Item(CheckStatus.Pass, "reports go to " + string.Join(", ", rua));
    }

    /// <returns>Null when valid; otherwise why not.</returns>
    public static string? Problem(IReadOnlyList<string> records, out IReadOnlyList<string> rua)
    {
        rua = [];
        var candidates = records.Where(r => r.StartsWith("v=TLSRPTv1", StringComparison.Ordinal)).ToList();
        if (candidates.Count == 0)
            return "no record starts with v=TLSRPTv1";
        if (candidates.Count > 1)
            return $"{candidates.Count} v=TLSRPTv1 records (exactly one is allowed)";
        var fields = candidates[0].Split(';').Select(f => f.Trim()).Where(f => f.Length > 0).ToList();
        if (fields[0] != "v=TLSRPTv1")
            return "the version field must be exactly v=TLSRPTv1 followed by ';'";
        var ruaField = fields.FirstOrDefault(f => f.StartsWith("rua=", StringComparison.Ordinal));
        if (ruaField is null)
            return "no rua= field";
        var uris = ruaField[4..].Split(',').Select(u => u.Trim()).ToList();
        foreach (string u in uris)
        {
            bool ok = (u.StartsWith("mailto:", StringComparison.Ordinal) && u.Length > 7 && u.Contains('@', StringComparison.Ordinal))
                || (u.StartsWith("https://", StringComparison.Ordinal) && Uri.TryCreate(u, UriKind.Absolute, out _));
            if (!ok)
                return $"rua entry '{u}' is not a mailto: or https: URI";
        }
        rua = uris;
        return null;
    }
}
