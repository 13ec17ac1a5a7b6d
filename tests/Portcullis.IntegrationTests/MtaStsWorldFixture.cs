using System.Text;
using Portcullis.Testing.Harness;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests;

/// <summary>
/// The classes that share one <see cref="MtaStsWorldFixture"/>, built once for all of them. A collection runs its
/// classes one after another; the rest of the suite runs beside it.
/// </summary>
[CollectionDefinition(Name)]
public sealed class MtaStsWorld : ICollectionFixture<MtaStsWorldFixture>
{
    public const string Name = "MTA-STS world";
}

/// <summary>
/// One DNSSEC world, one HTTPS policy host and one daemon for all MTA-STS scenarios (the classes of
/// <see cref="MtaStsWorld"/>; TlsRptFloodTests, measured alone in SerialMeasurements, builds its own). Every
/// scenario has its own domain under mta.test, and a test that counts a host's requests uses a domain no other
/// test asks for, so tests stay independent.
/// </summary>
public sealed class MtaStsWorldFixture : IAsyncLifetime
{
    public const string Zone = "mta.test";
    public const string GoodPolicy = "version: STSv1\nmode: enforce\nmx: mail.good.mta.test\nmx: *.backup.good.mta.test\nmax_age: 86400\n";

    public TestCa Ca { get; } = TestCa.Create();
    public PolicyHost Host { get; private set; } = null!;
    public DnsWorld Dns { get; private set; } = null!;
    public DaemonProcess Daemon { get; private set; } = null!;
    public string Dir { get; } = Directory.CreateTempSubdirectory("portcullis-sts-").FullName;

    public const string DaemonYaml = """
        mta_sts:
          allow_private_addresses: true
          connect_timeout_ms: 2000
          fetch_timeout_ms: 3000
        """;

    /// <summary>Scenario name → (TXT lines or null for none, behaviour of mta-sts.NAME or null).</summary>
    private static IEnumerable<(string Name, string[] Txt, HostBehavior? Behavior)> Scenarios()
    {
        const string sts = "\"v=STSv1; id=20240101\"";
        yield return ("good", [sts], HostBehavior.Policy(GoodPolicy)
            .WithHeader("ETag", "\"v1\"").WithHeader("Cache-Control", "max-age=3600")
            .WithHeader("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT"));
        yield return ("split", ["\"v=STSv1; id=\" \"abc123;\""], HostBehavior.Policy(Policy("split")));
        yield return ("spf", ["\"v=spf1 -all\"", sts], HostBehavior.Policy(Policy("spf")));
        yield return ("crlf", [sts], HostBehavior.Policy(Policy("crlf").Replace("\n", "\r\n")));
        yield return ("testing", [sts], HostBehavior.Policy(Policy("testing", mode: "testing")));
        yield return ("none", [sts], HostBehavior.Policy("version: STSv1\nmode: none\nmax_age: 86400\n"));
        yield return ("twosts", [sts, "\"v=STSv1; id=2\""], HostBehavior.Policy(Policy("twosts")));
        yield return ("badid", ["\"v=STSv1; id=2024-01-01\""], HostBehavior.Policy(Policy("badid")));
        yield return ("nosts", [], HostBehavior.Policy(Policy("nosts")));
        yield return ("nohost", [sts], null);
        yield return ("notfound", [sts], HostBehavior.NotFound());
        yield return ("error500", [sts], HostBehavior.Text(500, Policy("error500")));
        yield return ("redirect", [sts], HostBehavior.Redirect("https://mta-sts.target.mta.test/.well-known/mta-sts.txt"));
        yield return ("target", [], HostBehavior.Policy(Policy("target")));
        yield return ("loop", [sts], HostBehavior.Redirect("https://mta-sts.loop.mta.test/.well-known/mta-sts.txt", 302));
        yield return ("html", [sts], HostBehavior.Html(Policy("html")));
        yield return ("notype", [sts], HostBehavior.Policy(Policy("notype")) with { ContentType = null });
        yield return ("charset", [sts], HostBehavior.Policy(Policy("charset")) with { ContentType = "Text/Plain; charset=utf-8" });
        yield return ("exact", [sts], HostBehavior.Sized(65536, Policy("exact")));
        yield return ("over", [sts], HostBehavior.Sized(65537, Policy("over")));
        yield return ("chunkedok", [sts], HostBehavior.Chunked(60000, Policy("chunkedok")));
        yield return ("chunkedover", [sts], HostBehavior.Chunked(65537, Policy("chunkedover")));
        yield return ("bigdeclared", [sts], HostBehavior.LyingLength(Policy("bigdeclared"), 70000));
        yield return ("endless", [sts], HostBehavior.Endless());
        yield return ("drip", [sts], HostBehavior.SlowDrip(Policy("drip"), TimeSpan.FromMilliseconds(500)));
        yield return ("stall", [sts], HostBehavior.StallBeforeHeaders());
        yield return ("tlsstall", [sts], HostBehavior.StallTls());
        yield return ("http10", [sts], HostBehavior.Http10NoLength(Policy("http10")));
        yield return ("selfsigned", [sts], HostBehavior.Policy(Policy("selfsigned")).WithCertificate(CertificateKind.SelfSigned));
        yield return ("wrongname", [sts], HostBehavior.Policy(Policy("wrongname")).WithCertificate(CertificateKind.WrongName));
        yield return ("expired", [sts], HostBehavior.Policy(Policy("expired")).WithCertificate(CertificateKind.Expired));
        yield return ("ipmx", [sts], HostBehavior.Policy("version: STSv1\nmode: enforce\nmx: 192.0.2.1\nmax_age: 86400\n"));
        yield return ("spacecolon", [sts], HostBehavior.Policy("version: STSv1\nmode : enforce\nmx: mail.x.test\nmax_age: 86400\n"));
        yield return ("braces", [sts], HostBehavior.Policy(Policy("braces") + "x-note: a } policy_failure=validation-failure {\n"));
        yield return ("xn--bcher-kva", [sts], HostBehavior.Policy(Policy("xn--bcher-kva")));
        yield return ("big", [sts], HostBehavior.Policy(BigPolicy()));
        yield return ("flaky", [sts], HostBehavior.Text(500, "down\n"));
        yield return ("single", [sts], HostBehavior.SlowDrip(Policy("single"), TimeSpan.FromMilliseconds(20)));
        yield return ("persist", [sts], HostBehavior.Policy(Policy("persist")));
        yield return ("killed", [sts], HostBehavior.Policy(Policy("killed")));
        yield return ("burst", [sts], HostBehavior.Policy(Policy("burst")));
        yield return ("sharedredis", [sts], HostBehavior.Policy(Policy("sharedredis")));
        yield return ("sharedpg", [sts], HostBehavior.Policy(Policy("sharedpg")));
    }

    public static string Policy(string name, string mode = "enforce") =>
        $"version: STSv1\nmode: {mode}\nmx: mail.{name}.{Zone}\nmax_age: 86400\n";

    /// <summary>2000 mx lines: fits 64 KiB and a QUERY reply, but not a QUERYwithTLSRPT reply (100,000 bytes).</summary>
    public static string BigPolicy()
    {
        var sb = new StringBuilder("version: STSv1\nmode: enforce\nmax_age: 86400\n");
        for (int i = 0; i < 2000; i++)
            sb.Append($"mx: mx{i:D4}.big.{Zone}\n");
        return sb.ToString();
    }

    public async Task InitializeAsync()
    {
        Host = PolicyHost.Start(Ca);
        var builder = new DnsWorldBuilder();
        var zone = builder.Zone(Zone);
        zone.Add("_mta-sts.cname CNAME _mta-sts.provider." + Zone + ".");
        zone.Add("_mta-sts.provider TXT \"v=STSv1; id=prov1\"");
        zone.A("mta-sts.cname", Host.Address.ToString());
        Host.Set("mta-sts.cname." + Zone, HostBehavior.Policy(Policy("cname")));
        foreach (var (name, txt, behavior) in Scenarios())
        {
            foreach (string t in txt)
                zone.Add($"_mta-sts.{name} TXT {t}");
            if (behavior is not null)
            {
                zone.A("mta-sts." + name, Host.Address.ToString());
                Host.Set($"mta-sts.{name}.{Zone}", behavior);
            }
        }
        Dns = await builder.StartAsync();
        Daemon = await StartDaemonAsync("cache.db");
    }

    public Task<DaemonProcess> StartDaemonAsync(string cacheFile, string extraYaml = "") =>
        DaemonProcess.StartAsync(Dns.ResolverEndpoint, Ca.ChildEnvironment, Path.Combine(Dir, cacheFile), DaemonYaml + "\n" + extraYaml,
            new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);

    public async Task DisposeAsync()
    {
        await Daemon.DisposeAsync();
        await Dns.DisposeAsync();
        await Host.DisposeAsync();
        Ca.Dispose();
        Directory.Delete(Dir, true);
    }
}
