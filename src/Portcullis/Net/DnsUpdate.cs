using System.Diagnostics;
using System.Net;
using Portcullis.Core.Dns;
using Portcullis.Core.MtaSts;
using Portcullis.Dns;

namespace Portcullis.Net;

/// <summary>The outcome of one update or one server's answer, as a value.</summary>
public sealed record DnsUpdateResult(bool Ok, string Detail);

/// <summary>What one authoritative server answers for _mta-sts.DOMAIN: the id, no record, or an error.</summary>
public sealed record ServerAnswer(IPEndPoint Server, string? Id, string Detail);

/// <summary>
/// The _mta-sts TXT record of an own domain: changed by an RFC 2136 dynamic update signed with TSIG (RFC 8945),
/// sent by BIND's <c>nsupdate</c> over TCP to the zone's primary, and read back directly from each authoritative
/// server. Every step is bounded in time.
/// </summary>
public sealed class DnsUpdate(IPEndPoint primary, string zone, string tsigKeyFile, int ttl, TimeSpan timeout, string nsupdate = "nsupdate")
{
    /// <summary>Replaces every TXT record at _mta-sts.DOMAIN with one carrying <paramref name="id"/>.</summary>
    public async Task<DnsUpdateResult> ReplaceAsync(string domain, string id, CancellationToken ct)
    {
        string name = $"_mta-sts.{domain}.";
        string script = $"server {primary.Address} {primary.Port}\nzone {zone}.\nupdate delete {name} TXT\n" +
            $"update add {name} {ttl} TXT \"v=STSv1; id={id}\"\nsend\n";
        int seconds = Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds));
        var psi = new ProcessStartInfo(nsupdate)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (string a in (string[])["-v", "-k", tsigKeyFile, "-t", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)])
            psi.ArgumentList.Add(a);
        Process p;
        try
        {
            p = Process.Start(psi) ?? throw new InvalidOperationException("no process");
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return new(false, $"cannot run {nsupdate}: {ex.Message} (install bind9-dnsutils)");
        }
        using (p)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(timeout + TimeSpan.FromSeconds(5)); // nsupdate's own -t first, then ours
            var stdout = p.StandardOutput.ReadToEndAsync(deadline.Token);
            var stderr = p.StandardError.ReadToEndAsync(deadline.Token);
            try
            {
                await p.StandardInput.WriteAsync(script.AsMemory(), deadline.Token);
                p.StandardInput.Close();
                await p.WaitForExitAsync(deadline.Token);
                string err = (await stderr).Trim(), o = (await stdout).Trim();
                if (p.ExitCode == 0)
                    return new(true, $"{primary} accepted the signed update of {name} TXT");
                string why = string.Join("; ", (err + "\n" + o).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Take(3));
                return new(false, $"{primary} did not take the update of {name}: {Core.Text.TerminalText.Escape(why)}");
            }
            catch (OperationCanceledException)
            {
                try
                {
                    p.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                    // already gone
                }
                ct.ThrowIfCancellationRequested();
                return new(false, $"no answer from {primary} within {seconds + 5} s");
            }
        }
    }

    /// <summary>What <paramref name="server"/> itself answers for the _mta-sts record (no resolver in between).</summary>
    public static async Task<ServerAnswer> AskAsync(IPEndPoint server, string domain, TimeSpan timeout, CancellationToken ct)
    {
        var dns = new DnsClientResolver(server, timeout, 1);
        var r = await dns.QueryTxtAsync($"_mta-sts.{domain}", ct);
        if (r.IsError)
            return new(server, null, r.Detail);
        var txt = StsTxtParser.Parse(r.Records);
        return txt.Status == StsTxtStatus.Valid ? new(server, txt.Id, $"id {txt.Id}")
            : new(server, null, r.Status is DnsStatus.NxDomain or DnsStatus.NoData ? "no _mta-sts record" : txt.Detail);
    }

    /// <summary>The addresses of the zone's NS set, looked up through the configured resolver.</summary>
    public static async Task<(IReadOnlyList<IPEndPoint> Servers, string? Error)> NameServersAsync(IPEndPoint resolver, string zone, TimeSpan timeout, CancellationToken ct)
    {
        var client = new DnsClient.LookupClient(new DnsClient.LookupClientOptions(new DnsClient.NameServer(resolver))
        {
            UseCache = false, Timeout = timeout, Retries = 1, ThrowDnsErrors = false, UseTcpFallback = true,
        });
        DnsClient.IDnsQueryResponse ns;
        try
        {
            ns = await client.QueryAsync(zone, DnsClient.QueryType.NS, cancellationToken: ct);
        }
        catch (DnsClient.DnsResponseException ex)
        {
            return ([], $"NS lookup of {zone} failed: {ex.Message}");
        }
        var names = ns.Answers.NsRecords().Select(n => n.NSDName.Value.TrimEnd('.')).Distinct().ToList();
        if (ns.HasError || names.Count == 0)
            return ([], $"NS lookup of {zone}: {(ns.HasError ? ns.ErrorMessage : "no NS records")}");
        var dns = new DnsClientResolver(resolver, timeout, 2);
        var servers = new List<IPEndPoint>();
        foreach (string n in names)
        {
            var a = await dns.QueryAddressesAsync(n, ct);
            if (a.IsError || a.Records.Count == 0)
                return ([], $"the address of name server {n}: {a.Detail}");
            servers.AddRange(a.Records.Select(ip => new IPEndPoint(ip, 53)));
        }
        return (servers, null);
    }
}
