using System.Net;
using System.Security.Cryptography;

namespace Portcullis.Testing.World;

/// <summary>
/// Knot DNS (Debian's knotd) as the authoritative server of one zone on a loopback port: the primary accepts
/// RFC 2136 updates signed with one TSIG key and signs the zone online (automatic DNSSEC); a secondary
/// transfers it from the primary on NOTIFY. Started and killed by the test.
/// </summary>
public sealed class KnotServer : IAsyncDisposable
{
    public const string KeyName = "rollout-key";
    private readonly TempDir _dir;
    private readonly ChildProcess _knotd;

    private KnotServer(TempDir dir, ChildProcess knotd, IPEndPoint endpoint)
    {
        _dir = dir;
        _knotd = knotd;
        Endpoint = endpoint;
    }

    public IPEndPoint Endpoint { get; }

    public string Log => _knotd.Output;

    /// <summary>A fresh HMAC-SHA256 secret, base64.</summary>
    public static string NewSecret() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>The key in the format nsupdate -k reads.</summary>
    public static string NsupdateKeyFile(string secret) => $"key \"{KeyName}\" {{ algorithm hmac-sha256; secret \"{secret}\"; }};\n";

    /// <param name="zoneText">Zone file body (after $TTL/SOA, which are added).</param>
    /// <param name="notify">A secondary to NOTIFY and let transfer the zone.</param>
    public static Task<KnotServer> StartPrimaryAsync(string zone, string zoneText, string secret, int port, IPEndPoint? notify, CancellationToken ct)
    {
        string remotes = notify is null ? "" : $"remote:\n  - id: secondary\n    address: {notify.Address}@{notify.Port}\n";
        string acl = $"""
            acl:
              - id: update
                key: {KeyName}
                action: update
              - id: transfer
                address: 127.0.0.0/8
                action: transfer
            """;
        string zoneConf = $"""
            zone:
              - domain: {zone}
                file: {zone}.zone
                acl: [update, transfer]
                dnssec-signing: on
                zonefile-sync: -1
                zonefile-load: difference-no-serial
                journal-content: all
            {(notify is null ? "" : "    notify: secondary\n")}
            """;
        string soa = $"$TTL 60\n@ SOA ns1.{zone}. hostmaster.{zone}. 1 5 5 3600 60\n";
        return StartAsync("primary", port, $"key:\n  - id: {KeyName}\n    algorithm: hmac-sha256\n    secret: {secret}\n{remotes}{acl}\n{zoneConf}",
            (zone + ".zone", soa + zoneText), ct);
    }

    public static Task<KnotServer> StartSecondaryAsync(string zone, int port, IPEndPoint primary, CancellationToken ct)
    {
        string conf = $"""
            remote:
              - id: primary
                address: {primary.Address}@{primary.Port}
            acl:
              - id: notify
                address: 127.0.0.0/8
                action: notify
            zone:
              - domain: {zone}
                file: {zone}.zone
                master: primary
                acl: notify
                zonefile-sync: -1
            """;
        return StartAsync("secondary", port, conf, null, ct);
    }

    private static async Task<KnotServer> StartAsync(string role, int port, string body, (string Name, string Text)? zoneFile, CancellationToken ct)
    {
        var dir = new TempDir($"portcullis-knot-{role}-");
        Directory.CreateDirectory(dir.File("db"));
        if (zoneFile is { } z)
            await File.WriteAllTextAsync(dir.File(z.Name), z.Text, ct);
        string conf = $"""
            server:
              rundir: {dir.Path}
              listen: 127.0.0.1@{port}
              user: root:root
            log:
              - target: stdout
                any: info
            database:
              storage: {dir.File("db")}
            template:
              - id: default
                storage: {dir.Path}
            {body}
            """;
        await File.WriteAllTextAsync(dir.File("knot.conf"), conf, ct);
        var knotd = ChildProcess.Start("knotd", ["-c", dir.File("knot.conf")], dir.Path);
        var server = new KnotServer(dir, knotd, new IPEndPoint(IPAddress.Loopback, port));
        // Up when it answers TCP; a zone that failed to load is in the log.
        if (!await FreePort.WaitUntilListeningAsync(port, 300, ct))
        {
            string log = knotd.Output;
            await server.DisposeAsync();
            throw new InvalidOperationException($"knotd ({role}) did not listen on {port}:\n{log}");
        }
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _knotd.DisposeAsync();
        _dir.Dispose();
    }
}
