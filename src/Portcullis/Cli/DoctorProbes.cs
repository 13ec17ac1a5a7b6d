using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Configuration;
using Portcullis.Core.Dns;
using Portcullis.Core.Postfix;
using Portcullis.Dns;

namespace Portcullis.Cli;

/// <summary>The facts <see cref="DoctorCommand"/> gathers: Postfix's map answer, resolv.conf and its nameservers, the TLSRPT socket.</summary>
internal static class DoctorProbes
{
    private const int MaxReplyBytes = 100_100; // the daemon's largest reply (100,000 bytes) plus framing

    internal static async Task<DoctorLine> CheckMapAsync(DoctorCommand.Options o, string[] baseArgs, SocketmapEntry entry, CancellationToken ct)
    {
        const string check = "policy map";
        string postmap = o.Postmap ?? (o.Postconf.Contains('/', StringComparison.Ordinal)
            ? Path.Combine(Path.GetDirectoryName(o.Postconf)!, "postmap") : "postmap");
        var (exit, stdout, stderr) = await PostfixSetupCommand.RunProgramAsync(postmap, [.. baseArgs, "-q", o.Domain, entry.Map], ct);
        var kind = DoctorRules.ClassifyPostmap(exit, stderr);
        string viaPostmap = kind switch
        {
            PostmapKind.Ok => "OK " + stdout.Trim(),
            PostmapKind.NotFound => "NOTFOUND",
            _ => FirstLine(stderr, $"exit {exit}"),
        };
        string where = $"{entry.Map} for {o.Domain}";
        switch (kind)
        {
            case PostmapKind.Unreachable:
                return new(DoctorStatus.Fail, check, $"{where}: postmap got no answer: {viaPostmap}",
                    "start portcullis (systemctl start portcullis), or point smtp_tls_policy_maps at one of its listen addresses");
            case PostmapKind.Perm:
                return new(DoctorStatus.Fail, check, $"{where}: permanent error: {viaPostmap}", "use map name QUERY or QUERYwithTLSRPT (or one from maps:)");
            case PostmapKind.Temp:
                return new(DoctorStatus.Fail, check, $"{where}: temporary error: {viaPostmap}", "see the daemon's log (journalctl -u portcullis)");
        }
        string? direct = await AskDirectlyAsync(o.Root, entry, o.Domain, ct);
        if (direct is null)
            return new(DoctorStatus.Warn, check, $"{where}: postmap: {viaPostmap}; the daemon could not be asked directly to compare");
        var directKind = DoctorRules.ClassifyReply(direct);
        return directKind == kind
            ? new(DoctorStatus.Ok, check, $"{where}: postmap: {viaPostmap} (the daemon directly: {direct.TrimEnd()})")
            : new(DoctorStatus.Fail, check, $"{where}: postmap: {viaPostmap}, but the daemon directly: {direct.TrimEnd()}",
                "something other than Portcullis answers at that address, or Postfix rejects its answer; check the Postfix log");
    }

    /// <summary>Asks the map's address with our own netstring client; null when it cannot be reached.</summary>
    internal static async Task<string?> AskDirectlyAsync(string root, SocketmapEntry entry, string domain, CancellationToken ct)
    {
        EndPoint? ep = entry.Transport switch
        {
            "inet" when SplitHostPort(entry.Address) is var (host, port) && IPAddress.TryParse(host, out var ip) => new IPEndPoint(ip, port),
            "unix" => new UnixDomainSocketEndPoint(Within(root, entry.Address)),
            _ => null,
        };
        if (ep is null)
            return null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(DoctorCommand.SocketmapTimeout);
        try
        {
            using var socket = new Socket(ep.AddressFamily, SocketType.Stream, ep is IPEndPoint ? ProtocolType.Tcp : ProtocolType.Unspecified);
            await socket.ConnectAsync(ep, timeout.Token);
            byte[] request = Encoding.ASCII.GetBytes($"{entry.Name} {domain}");
            await socket.SendAsync(Encoding.ASCII.GetBytes($"{request.Length}:").Concat(request).Append((byte)',').ToArray(), timeout.Token);
            var reply = new List<byte>();
            byte[] buf = new byte[8192];
            while (reply.Count < MaxReplyBytes)
            {
                int n = await socket.ReceiveAsync(buf, timeout.Token);
                if (n == 0)
                    break;
                reply.AddRange(buf.AsSpan(0, n));
                int colon = reply.IndexOf((byte)':');
                if (colon > 0 && int.TryParse(Encoding.ASCII.GetString([.. reply.Take(colon)]), out int len) && reply.Count >= colon + len + 2)
                    return Encoding.UTF8.GetString([.. reply.Skip(colon + 1).Take(len)]);
            }
            return null;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or IOException)
        {
            return null;
        }
    }

    internal static (string Host, int Port)? SplitHostPort(string address)
    {
        int colon = address.LastIndexOf(':');
        return colon > 0 && int.TryParse(address[(colon + 1)..], out int port) ? (address[..colon].Trim('[', ']'), port) : null;
    }

    internal static async Task<List<DoctorLine>> CheckResolvConfAsync(string root, CancellationToken ct)
    {
        string path = Within(root, "/etc/resolv.conf");
        string text;
        try
        {
            text = await File.ReadAllTextAsync(path, ct);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [new(DoctorStatus.Fail, "resolv.conf", $"{path}: {e.Message}", "printf 'nameserver 127.0.0.1\\noptions trust-ad\\n' > /etc/resolv.conf (with a local validating unbound)")];
        }
        var (servers, trustAd) = DoctorRules.ParseResolvConf(text);
        var lines = new List<DoctorLine>
        {
            trustAd
                ? new(DoctorStatus.Ok, "resolv.conf", $"{path} has options trust-ad")
                : new(DoctorStatus.Fail, "resolv.conf", $"{path} has no 'options trust-ad': glibc 2.31 and later (Debian 12, 13) strip the AD bit, so Postfix sees no DNSSEC and does no DANE",
                    $"add the line 'options trust-ad' to {path} (or to what generates it)"),
        };
        if (servers.Count == 0)
            lines.Add(new(DoctorStatus.Fail, "resolv.conf", $"{path} names no nameserver", "add 'nameserver 127.0.0.1' (a local validating unbound)"));
        foreach (string ns in servers)
        {
            if (!IPAddress.TryParse(ns.Split('%')[0], out var ip))
            {
                lines.Add(new(DoctorStatus.Fail, "nameserver " + ns, "not an IP address", "use the address of a local validating resolver"));
                continue;
            }
            var soa = await new DnsClientResolver(new IPEndPoint(ip, 53), DoctorCommand.NameserverTimeout, 2).QuerySoaAsync(".", ct);
            lines.Add(soa.Status == DnsStatus.Secure
                ? new(DoctorStatus.Ok, "nameserver " + ns, "root SOA with AD (validates)")
                : new(DoctorStatus.Fail, "nameserver " + ns, soa.IsError ? $"no answer for the root SOA ({soa.Detail})" : "root SOA without AD: does not validate DNSSEC",
                    "run a local validating resolver (apt install unbound) and name only it in resolv.conf"));
        }
        return lines;
    }

    internal static async Task<DoctorLine> CheckTlsRptSocketAsync(string root, string collectSocket, Func<string[], Task<(bool Ok, string Out, string Err)>> postconf)
    {
        const string check = "tlsrpt socket";
        string name = (await postconf(["-h", "smtp_tlsrpt_socket_name"])).Out;
        string queue = (await postconf(["-h", "queue_directory"])).Out;
        string owner = (await postconf(["-h", "mail_owner"])).Out;
        var smtp = await postconf(["-M", "smtp/unix"]);
        string chrootColumn = smtp.Ok && smtp.Out.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries) is { Length: > 4 } f ? f[4] : "-";
        bool chrooted = chrootColumn == "y"; // "-" is n since Postfix 3.0
        string inside = DoctorRules.TlsRptSocketPath(name, queue, chrooted);
        string outside = Within(root, inside);
        string shown = $"{outside} (smtp_tlsrpt_socket_name = {name}, smtp chroot {(chrooted ? "y" : "n")})";
        if (collectSocket.Length > 0 && Path.GetFullPath(collectSocket) != Path.GetFullPath(outside))
            return new(DoctorStatus.Fail, check, $"Postfix writes to {shown}, but Portcullis collects at {collectSocket}",
                $"set tlsrpt.collect_socket: {outside}, or smtp_tlsrpt_socket_name to match");
        var st = Posix.Stat(outside);
        if (st is not { Kind: FileKind.Socket } s)
            return new(DoctorStatus.Fail, check, $"{shown} is {(st is null ? "missing" : Posix.Describe(st.Value.Kind))}", "start portcullis with tlsrpt.collect_socket at that path");
        if (LookupUser(root, owner) is not var (uid, gids))
            return new(DoctorStatus.Fail, check, $"mail_owner '{owner}' is not in {Within(root, "/etc/passwd")}", "check mail_owner");
        // Every directory from smtp's root down to the socket must be searchable by postfix.
        string jail = chrooted ? queue : "/";
        for (string? dir = Path.GetDirectoryName(inside); dir is not null && dir.Length >= jail.TrimEnd('/').Length; dir = Path.GetDirectoryName(dir))
        {
            if (Posix.Stat(Within(root, dir)) is { } d && !DoctorRules.CanSearch(d.Uid, d.Gid, d.Mode, uid, gids))
                return new(DoctorStatus.Fail, check, $"{Within(root, dir)} (mode {Convert.ToString(d.Mode, 8)}, uid {d.Uid}, gid {d.Gid}) cannot be entered by {owner}",
                    $"install -d -g {owner} -m 2750 on it (the README's collector directory)");
        }
        string mode = Convert.ToString(s.Mode, 8).PadLeft(4, '0');
        return DoctorRules.CanWrite(s.Uid, s.Gid, s.Mode, uid, gids)
            ? new(DoctorStatus.Ok, check, $"{shown} is a socket {owner} can write (mode {mode}, uid {s.Uid}, gid {s.Gid})")
            : new(DoctorStatus.Fail, check, $"{shown} is not writable by {owner} (mode {mode}, uid {s.Uid}, gid {s.Gid})",
                $"socket_permissions: \"0660\" and its directory setgid group {owner} (install -d -g {owner} -m 2750 DIR), then restart portcullis");
    }

    /// <summary>The user's uid and group ids (primary and supplementary) from the root's passwd and group files.</summary>
    internal static (int Uid, List<int> Gids)? LookupUser(string root, string user)
    {
        try
        {
            var pw = File.ReadLines(Within(root, "/etc/passwd")).Select(l => l.Split(':')).FirstOrDefault(p => p.Length > 3 && p[0] == user);
            if (pw is null || !int.TryParse(pw[2], out int uid) || !int.TryParse(pw[3], out int gid))
                return null;
            var gids = new List<int> { gid };
            foreach (var g in File.ReadLines(Within(root, "/etc/group")).Select(l => l.Split(':')))
            {
                if (g.Length > 3 && g[3].Split(',').Contains(user) && int.TryParse(g[2], out int sg))
                    gids.Add(sg);
            }
            return (uid, gids);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    internal static string Within(string root, string path) => root is "/" or "" ? path : Path.Combine(root, path.TrimStart('/'));

    /// <summary>The most telling line of a Postfix program's stderr: the first warning (the cause), else the fatal line.</summary>
    internal static string FirstLine(string text, string otherwise)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.FirstOrDefault(l => l.Contains("warning:", StringComparison.Ordinal))
            ?? lines.FirstOrDefault(l => l.Contains("fatal:", StringComparison.Ordinal)) ?? lines.FirstOrDefault() ?? otherwise;
    }
}
