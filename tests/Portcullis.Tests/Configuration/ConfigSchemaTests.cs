using System.Globalization;
using System.Text.RegularExpressions;
using Portcullis.Configuration;

namespace Portcullis.Tests.Configuration;

/// <summary>The key table (<see cref="ConfigSchema"/>) binds every documented key, to its default and to any other value.</summary>
public sealed class ConfigSchemaTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"portcullis-schema-{Guid.NewGuid():N}.yaml");

    private PortcullisConfig Read(string yaml, out ConfigReader.Source source)
    {
        File.WriteAllText(_file, yaml);
        var c = ConfigLoader.Read(_file);
        Assert.True(ConfigReader.Sources.TryGetValue(c, out source!));
        return c;
    }

    private static string ReadmeBlock(Func<string, bool> which)
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "README.md")))
            dir = Path.GetDirectoryName(dir);
        string readme = File.ReadAllText(Path.Combine(dir ?? throw new FileNotFoundException("README.md"), "README.md"));
        return Regex.Matches(readme, "```yaml\n(.*?)```", RegexOptions.Singleline).Select(m => m.Groups[1].Value).Single(which);
    }

    // The configuration reference: from "Example with all defaults:" to the closing fence.
    private static string DefaultsBlock()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "README.md")))
            dir = Path.GetDirectoryName(dir);
        string readme = File.ReadAllText(Path.Combine(dir!, "README.md"));
        var m = Regex.Match(readme, "Example with all defaults:\\s*```yaml\n(.*?)```", RegexOptions.Singleline);
        Assert.True(m.Success, "README has no \"Example with all defaults:\" block");
        return m.Groups[1].Value;
    }

    /// <summary>Every value of a configuration as path=value lines (dictionary entries by name), to compare whole configurations.</summary>
    private static List<string> Flatten(PortcullisConfig c) => [.. Rows.Select(r => $"{r.Path}={Show(Get(r, c))}")];

    private static object? Get(Row r, PortcullisConfig c)
    {
        try
        {
            return r.Get(c);
        }
        catch (KeyNotFoundException)
        {
            return "(absent)";
        }
    }

    private static string Show(object? v) => v switch
    {
        null => "(null)",
        string text => text,
        IEnumerable<string> list => "[" + string.Join(", ", list) + "]",
        DateTime d => d.ToString("o", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        _ => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "",
    };

    [Fact]
    public void The_readme_example_with_all_defaults_binds_every_key_to_its_default()
    {
        var c = Read(DefaultsBlock(), out var source);
        Assert.Empty(source.ReadErrors); // no unknown key, no wrong type
        Assert.Equal(Flatten(new PortcullisConfig()), Flatten(c));
        Assert.Empty(c.Overrides);
        Assert.Empty(c.Maps);
        Assert.Empty(c.Publish.Domains);

        // …and documents every key: those not in the block are dictionary entries shown in its comments,
        // the removed report_policy_failures, and publish (its own README section, checked below).
        var documented = source.KeyLines.Keys.ToHashSet();
        string[] notInBlock = ["tlsrpt.report_policy_failures", "overrides.*", "maps.*", "publish"];
        var missing = ConfigSchema.Root.Paths("").Where(p => !notInBlock.Any(n => p == n || p.StartsWith(n + ".", StringComparison.Ordinal)))
            .Where(p => !documented.Contains(p)).ToList();
        Assert.Equal([], missing);
    }

    [Fact]
    public void The_readme_publish_example_names_every_publish_key()
    {
        var c = Read(ReadmeBlock(b => b.StartsWith("publish:", StringComparison.Ordinal)), out var source);
        Assert.Empty(source.ReadErrors);
        Assert.Equal(["mx1.example.com", "*.mx.example.net"], c.Publish.Domains["example.com"].Mx);
        var documented = source.KeyLines.Keys.Select(k => Regex.Replace(k, @"^(publish\.domains)\.example\.com", "$1.*")
            .Replace(".mx_certificates.mx1.example.com", ".mx_certificates", StringComparison.Ordinal)).ToHashSet();
        var missing = ConfigSchema.Root.Paths("").Where(p => p.StartsWith("publish", StringComparison.Ordinal) && !documented.Contains(p)).ToList();
        Assert.Equal([], missing);
    }

    private sealed record Row(string Path, Func<PortcullisConfig, object?> Get, object? Expected);

    /// <summary>Every key of the schema with a value unlike its default; <see cref="AllSet"/> sets each of them.</summary>
    private static readonly Row[] Rows =
    [
        new("listen", c => c.Listen, new[] { "127.0.0.1:9000", "unix:/run/portcullis/sock" }),
        new("socket_permissions", c => c.SocketPermissions, "0640"),
        new("data_dir", c => c.DataDir, "/var/lib/pc"),
        new("control_socket", c => c.ControlSocket, "none"),
        new("log_level", c => c.LogLevel, "debug"),
        new("dns", c => null, null),
        new("dns.server", c => c.Dns.Server, "127.0.0.1:5353"),
        new("dns.timeout_ms", c => c.Dns.TimeoutMs, 1500),
        new("dns.attempts", c => c.Dns.Attempts, 3),
        new("cache", c => null, null),
        new("cache.type", c => c.Cache.Type, "redis"),
        new("cache.redis", c => c.Cache.Redis, "127.0.0.1:6379,password=x"),
        new("cache.postgres", c => c.Cache.Postgres, "Host=db"),
        new("cache.key_prefix", c => c.Cache.KeyPrefix, "pc_1"),
        new("cache.path", c => c.Cache.Path, "/tmp/c.db"),
        new("cache.negative_ttl", c => c.Cache.NegativeTtl, 700),
        new("mta_sts", c => null, null),
        new("mta_sts.enforce_testing", c => c.MtaSts.EnforceTesting, true),
        new("mta_sts.connect_timeout_ms", c => c.MtaSts.ConnectTimeoutMs, 4000),
        new("mta_sts.fetch_timeout_ms", c => c.MtaSts.FetchTimeoutMs, 14000),
        new("mta_sts.failure_retry", c => c.MtaSts.FailureRetry, 400),
        new("mta_sts.txt_recheck_min", c => c.MtaSts.TxtRecheckMin, 70),
        new("mta_sts.txt_recheck_max", c => c.MtaSts.TxtRecheckMax, 3700),
        new("mta_sts.allow_private_addresses", c => c.MtaSts.AllowPrivateAddresses, true),
        new("tlsrpt", c => null, null),
        new("tlsrpt.no_policy_level", c => c.Tlsrpt.NoPolicyLevel, "encrypt"),
        new("tlsrpt.report_policy_failures", c => c.Tlsrpt.ReportPolicyFailures, false),
        new("tlsrpt.database", c => c.Tlsrpt.Database, "/tmp/t.db"),
        new("tlsrpt.store", c => c.Tlsrpt.Store, "postgres"),
        new("tlsrpt.postgres", c => c.Tlsrpt.Postgres, "Host=db2"),
        new("tlsrpt.receive_listen", c => c.Tlsrpt.ReceiveListen, new[] { "127.0.0.1:8443" }),
        new("tlsrpt.receive_certificate", c => c.Tlsrpt.ReceiveCertificate, "/c.pem"),
        new("tlsrpt.receive_key", c => c.Tlsrpt.ReceiveKey, "/k.pem"),
        new("tlsrpt.collect_socket", c => c.Tlsrpt.CollectSocket, "/run/t.sock"),
        new("tlsrpt.reports_database", c => c.Tlsrpt.ReportsDatabase, "/tmp/r.db"),
        new("tlsrpt.receive_workers", c => c.Tlsrpt.ReceiveWorkers, 2),
        new("tlsrpt.receive_queue", c => c.Tlsrpt.ReceiveQueue, 17),
        new("tlsrpt.receive_max_bytes", c => c.Tlsrpt.ReceiveMaxBytes, 1000000),
        new("tlsrpt.receive_quota_mb", c => c.Tlsrpt.ReceiveQuotaMb, 64),
        new("tlsrpt.send", c => null, null),
        new("tlsrpt.send.enabled", c => c.Tlsrpt.Send.Enabled, true),
        new("tlsrpt.send.organization_name", c => c.Tlsrpt.Send.OrganizationName, "Org"),
        new("tlsrpt.send.contact_info", c => c.Tlsrpt.Send.ContactInfo, "mailto:a@b.example"),
        new("tlsrpt.send.submitter", c => c.Tlsrpt.Send.Submitter, "sub.example"),
        new("tlsrpt.send.mail_from", c => c.Tlsrpt.Send.MailFrom, "r@b.example"),
        new("tlsrpt.send.smtp_server", c => c.Tlsrpt.Send.SmtpServer, "127.0.0.1:2525"),
        new("tlsrpt.send.smtp_tls", c => c.Tlsrpt.Send.SmtpTls, "tls"),
        new("tlsrpt.send.smtp_username", c => c.Tlsrpt.Send.SmtpUsername, "u"),
        new("tlsrpt.send.smtp_password_file", c => c.Tlsrpt.Send.SmtpPasswordFile, "/pw"),
        new("tlsrpt.send.dkim_key_file", c => c.Tlsrpt.Send.DkimKeyFile, "/dk.pem"),
        new("tlsrpt.send.dkim_domain", c => c.Tlsrpt.Send.DkimDomain, "b.example"),
        new("tlsrpt.send.dkim_selector", c => c.Tlsrpt.Send.DkimSelector, "s1"),
        new("tlsrpt.send.send_after", c => c.Tlsrpt.Send.SendAfter, 16),
        new("tlsrpt.send.spread", c => c.Tlsrpt.Send.Spread, 90),
        new("tlsrpt.send.retry_for", c => c.Tlsrpt.Send.RetryFor, 1000),
        new("tlsrpt.send.retention_days", c => c.Tlsrpt.Send.RetentionDays, 8),
        new("tlsrpt.send.allow_private_addresses", c => c.Tlsrpt.Send.AllowPrivateAddresses, true),
        new("metrics", c => null, null),
        new("metrics.listen", c => c.Metrics.Listen, new[] { "127.0.0.1:9642" }),
        new("console", c => null, null),
        new("console.listen", c => c.Console.Listen, new[] { "127.0.0.1:9643" }),
        new("trusted_proxies", c => c.TrustedProxies, new[] { "127.0.0.1", "10.0.0.0/8" }),
        new("refresh", c => null, null),
        new("refresh.enabled", c => c.Refresh.Enabled, false),
        new("refresh.ahead", c => c.Refresh.Ahead, 301),
        new("refresh.idle_after", c => c.Refresh.IdleAfter, 86401),
        new("refresh.max_backoff", c => c.Refresh.MaxBackoff, 601),
        new("limits", c => null, null),
        new("limits.max_connections", c => c.Limits.MaxConnections, -5),
        new("limits.idle_timeout", c => c.Limits.IdleTimeout, 7),
        new("limits.write_timeout", c => c.Limits.WriteTimeout, 11),
        new("limits.shutdown_grace", c => c.Limits.ShutdownGrace, 3),
        new("limits.max_mx_hosts", c => c.Limits.MaxMxHosts, 6),
        new("overrides", c => string.Join(" ", c.Overrides.Keys.Order(StringComparer.Ordinal)), "old.example smarthost.example.net"),
        new("overrides.*.policy", c => c.Overrides["smarthost.example.net"].Policy, "encrypt protocols=>=TLSv1.2"),
        new("overrides.*.expires", c => c.Overrides["old.example"].Expires, new DateTime(2020, 1, 1)),
        new("maps", c => string.Join(" ", c.Maps.Keys.Order(StringComparer.Ordinal)), "R S STRICT"),
        new("maps.*.enforce_testing", c => c.Maps["STRICT"].EnforceTesting, true),
        new("maps.*.tlsrpt", c => c.Maps["S"].Tlsrpt, true), // through an alias
        new("publish", c => null, null),
        new("publish.listen", c => c.Publish.Listen, new[] { "127.0.0.1:8443" }),
        new("publish.acme_webroot", c => c.Publish.AcmeWebroot, "/var/lib/portcullis/acme"),
        new("publish.acme_listen", c => c.Publish.AcmeListen, new[] { "127.0.0.1:8080" }),
        new("publish.domains", c => string.Join(" ", c.Publish.Domains.Keys), "example.com other.example"),
        new("publish.domains.*.mode", c => c.Publish.Domains["example.com"].Mode, "enforce"),
        new("publish.domains.*.mx", c => c.Publish.Domains["example.com"].Mx, new[] { "mx1.example.com", "*.mx.example.net" }),
        new("publish.domains.*.max_age", c => c.Publish.Domains["example.com"].MaxAge, long.MaxValue),
        new("publish.domains.*.certificate", c => c.Publish.Domains["example.com"].Certificate, "/c"),
        new("publish.domains.*.key", c => c.Publish.Domains["example.com"].Key, "/k"),
        new("publish.domains.*.tlsrpt_rua", c => c.Publish.Domains["example.com"].TlsrptRua, "mailto:tlsrpt@example.com"),
        new("publish.domains.*.policy_host_target", c => c.Publish.Domains["example.com"].PolicyHostTarget, "web.example.com"),
        new("publish.domains.*.mx_certificates", c => string.Join(" ", c.Publish.Domains["example.com"].MxCertificates), "[mx1.example.com, /etc/ssl/mx1.pem] [mx2.example.com, 5]"),
    ];

    // Every key set, in the file's various spellings (flow and block style, YAML 1.1 booleans and integers).
    private const string AllSet = """
        listen: ["127.0.0.1:9000", "unix:/run/portcullis/sock"]
        socket_permissions: "0640"
        data_dir: /var/lib/pc
        control_socket: none
        log_level: debug
        dns: { server: "127.0.0.1:5353", timeout_ms: 1500, attempts: 3 }
        cache:
          type: redis
          redis: "127.0.0.1:6379,password=x"
          postgres: "Host=db"
          key_prefix: pc_1
          path: /tmp/c.db
          negative_ttl: 700
        mta_sts:
          enforce_testing: true
          connect_timeout_ms: 4000
          fetch_timeout_ms: 14000
          failure_retry: 400
          txt_recheck_min: 70
          txt_recheck_max: 3700
          allow_private_addresses: yes
        tlsrpt:
          no_policy_level: encrypt
          report_policy_failures: false
          database: /tmp/t.db
          store: postgres
          postgres: Host=db2
          receive_listen: ["127.0.0.1:8443"]
          receive_certificate: /c.pem
          receive_key: /k.pem
          collect_socket: /run/t.sock
          reports_database: /tmp/r.db
          receive_workers: 2
          receive_queue: 17
          receive_max_bytes: 1000000
          receive_quota_mb: 64
          send:
            enabled: On
            organization_name: Org
            contact_info: mailto:a@b.example
            submitter: sub.example
            mail_from: r@b.example
            smtp_server: 127.0.0.1:2525
            smtp_tls: tls
            smtp_username: u
            smtp_password_file: /pw
            dkim_key_file: /dk.pem
            dkim_domain: b.example
            dkim_selector: s1
            send_after: 0x10
            spread: 1:30
            retry_for: 1_000
            retention_days: 010
            allow_private_addresses: Y
        metrics:
          listen:
            - 127.0.0.1:9642
        console: { listen: ["127.0.0.1:9643"] }
        trusted_proxies: [127.0.0.1, 10.0.0.0/8]
        refresh: { enabled: no, ahead: 301, idle_after: 86401, max_backoff: 601 }
        limits: {max_connections: -5, idle_timeout: +7, write_timeout: "11", shutdown_grace: 3, max_mx_hosts: 6}
        overrides:
          smarthost.example.net: { policy: "encrypt protocols=>=TLSv1.2" }
          old.example: { policy: none, expires: 2020-01-01 }
        maps:
          STRICT: { enforce_testing: true, tlsrpt: false }
          R: &m { tlsrpt: true }
          S: *m
        publish:
          listen: ["127.0.0.1:8443"]
          acme_webroot: /var/lib/portcullis/acme
          acme_listen: ["127.0.0.1:8080"]
          domains:
            example.com:
              mode: enforce
              mx: [mx1.example.com, "*.mx.example.net"]
              max_age: 9223372036854775807
              certificate: /c
              key: /k
              tlsrpt_rua: "mailto:tlsrpt@example.com"
              policy_host_target: web.example.com
              mx_certificates:
                mx1.example.com: /etc/ssl/mx1.pem
                mx2.example.com: 5
            other.example: {}
        """;

    [Fact]
    public void Every_key_set_to_a_non_default_value_reads_back()
    {
        // The table covers the schema exactly: a key added to one without the other fails here.
        Assert.Equal(ConfigSchema.Root.Paths("").Order(StringComparer.Ordinal), Rows.Select(r => r.Path).Order(StringComparer.Ordinal));

        var c = Read(AllSet, out var source);
        Assert.Empty(source.ReadErrors);
        // Defaults of a dictionary entry's keys: those of a fresh entry under the same name.
        var plain = new PortcullisConfig();
        var entries = new PortcullisConfig();
        entries.Overrides["smarthost.example.net"] = new();
        entries.Overrides["old.example"] = new();
        entries.Maps["STRICT"] = entries.Maps["S"] = new();
        entries.Publish.Domains["example.com"] = new();
        foreach (var row in Rows.Where(r => r.Expected is not null))
        {
            Assert.True(Show(row.Expected) == Show(Get(row, c)), $"{row.Path}: expected {Show(row.Expected)}, read {Show(Get(row, c))}");
            var defaults = row.Path.Contains('*', StringComparison.Ordinal) ? entries : plain;
            Assert.True(Show(row.Expected) != Show(Get(row, defaults)), $"{row.Path}: {Show(row.Expected)} is its default, so the test proves nothing");
            Assert.True(row.Path.Contains('*', StringComparison.Ordinal) || source.KeyLines.ContainsKey(row.Path), $"{row.Path}: no line remembered");
        }
        Assert.Equal(new PublishedDomainConfig().MaxAge, c.Publish.Domains["other.example"].MaxAge); // an entry starts from the defaults
        Assert.Equal(6, source.KeyLines["dns.attempts"]); // flow-style keys have their line too
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("# only a comment\n", "")]
    [InlineData("~\n", "")]
    [InlineData("---\n...\n", "")]
    [InlineData("dns:\n", "")] // an empty section: its defaults
    [InlineData("overrides:\nmaps: ~\npublish:\n  domains:\n", "")]
    [InlineData("listen:\n", "listen=[]")]
    [InlineData("dns:\n  server: ~\n", "")] // no null strings: Validate would crash on them
    [InlineData("dns:\n  timeout_ms: ~\n", "dns.timeout_ms=0")]
    [InlineData("refresh:\n  enabled: ~\n", "refresh.enabled=false")]
    [InlineData("dns:\n  timeout_ms: 010\n  attempts: -0b11\n", "dns.attempts=-3 dns.timeout_ms=8")]
    [InlineData("dns:\n  timeout_ms: 2147483647\n  attempts: -2147483648\n", "dns.attempts=-2147483648 dns.timeout_ms=2147483647")]
    [InlineData("dns:\n  timeout_ms: \" 5\"\n", "dns.timeout_ms=5")]
    [InlineData("refresh:\n  enabled: NO\nmta_sts:\n  enforce_testing: \"TRUE\"\n", "mta_sts.enforce_testing=true refresh.enabled=false")]
    [InlineData("overrides:\n  old.example: { policy: none, expires: \"2021-02-03T04:05:06Z\" }\n",
        "overrides.*.expires=2021-02-03T04:05:06.0000000Z overrides=old.example")]
    public void Empty_and_unusual_values_read_as_before(string yaml, string changed)
    {
        var c = Read(yaml, out var source);
        Assert.Empty(source.ReadErrors);
        var defaults = Flatten(new PortcullisConfig());
        var values = Flatten(c);
        string diff = string.Join(" ", values.Where(v => !defaults.Contains(v)).Order(StringComparer.Ordinal));
        Assert.Equal(changed, diff.Replace("overrides.*.policy=(absent) ", "", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("dns: 5\n", "FILE:1: dns: expected a mapping (key: value lines), got \"5\"")]
    [InlineData("dns: [1]\n", "FILE:1: dns: expected a mapping (key: value lines), got a list")]
    [InlineData("overrides:\n  a.example: 5\n", "FILE:2: overrides.a.example: expected a mapping (key: value lines), got \"5\"")]
    [InlineData("publish:\n  domains:\n    x.example:\n      mx_certificates: [a]\n",
        "FILE:4: publish.domains.x.example.mx_certificates: expected a mapping (key: value lines), got a list")]
    [InlineData("hello\n", "FILE:1: expected a mapping (key: value lines), got \"hello\"")]
    [InlineData("- a\n", "FILE:1: expected a mapping (key: value lines), got a list")]
    [InlineData("listen: \"\"\n", "FILE:1: listen: expected a list, got \"\"")]
    [InlineData("listen: ~\n", "FILE:1: listen: expected a list, got \"~\"")]
    [InlineData("listen: {a: b}\n", "FILE:1: listen: expected a list, got a mapping")]
    [InlineData("listen:\n  - 127.0.0.1:1\n  - [a]\n", "FILE:3: listen: expected a text value, got a list")]
    [InlineData("dns:\n  timeout_ms: \"\"\n", "FILE:2: dns.timeout_ms: expected an integer from -2147483648 to 2147483647, got \"\"")]
    [InlineData("dns:\n  timeout_ms: 2147483648\n", "FILE:2: dns.timeout_ms: expected an integer from -2147483648 to 2147483647, got \"2147483648\"")]
    [InlineData("dns:\n  timeout_ms: \"-\"\n", "FILE:2: dns.timeout_ms: expected an integer from -2147483648 to 2147483647, got \"-\"")]
    [InlineData("dns:\n  timeout_ms: 08\n", "FILE:2: dns.timeout_ms: expected an integer from -2147483648 to 2147483647, got \"08\"")]
    [InlineData("tlsrpt:\n  report_policy_failures: maybe\n", "FILE:2: tlsrpt.report_policy_failures: expected true or false, got \"maybe\"")]
    [InlineData("overrides:\n  a.example: { policy: none, expires: 2020-13-01 }\n",
        "FILE:2: overrides.a.example.expires: expected a date (YYYY-MM-DD) or an ISO 8601 date and time, got \"2020-13-01\"")]
    [InlineData("tlsrpt:\n  send:\n    bogus: 2\n", "FILE:3: unknown key 'tlsrpt.send.bogus'")]
    [InlineData("maps:\n  A: { tlsrpt: true, nope: 1 }\n", "FILE:2: unknown key 'maps.A.nope'")]
    [InlineData("Dns:\n  timeout_ms: 7\n", "FILE:1: unknown key 'Dns'")] // keys are exact
    public void Wrong_shapes_are_one_line_each_without_dotnet_type_names(string yaml, string expected)
    {
        File.WriteAllText(_file, yaml);
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Load(_file));
        Assert.Equal(expected, ex.Errors[0].Replace(_file, "FILE", StringComparison.Ordinal));
        Assert.DoesNotContain(ex.Errors, e => e.Contains("System.", StringComparison.Ordinal) || e.Contains("Portcullis.", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("a: 1\n---\nb: 2\n", "FILE:3: a second YAML document (after '---') is not supported; put all keys in one")]
    [InlineData("dns: {timeout_ms: 5}\ndns: {attempts: 3}\n", "FILE:2:1: Duplicate key dns")]
    [InlineData("[1, 2\n", "FILE:2:1: While parsing a flow sequence, did not find expected ',' or ']'.")]
    [InlineData("dns:\n\ttimeout_ms: 1\n", "FILE:1:1: While scanning a mapping, found invalid tab as indentation.")]
    public void A_broken_file_is_one_error_with_its_position(string yaml, string expected)
    {
        File.WriteAllText(_file, yaml);
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Read(_file));
        Assert.Equal([expected], ex.Errors.Select(e => e.Replace(_file, "FILE", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("0", 0L)]
    [InlineData("-0", 0L)]
    [InlineData("+7", 7L)]
    [InlineData("0x1F", 31L)]
    [InlineData("-0x10", -16L)]
    [InlineData("0b101", 5L)]
    [InlineData("0755", 493L)]
    [InlineData("1:30", 90L)]
    [InlineData("1_000_000", 1000000L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    [InlineData("-9223372036854775808", long.MinValue)]
    public void Integers_are_read_as_yaml_1_1(string text, long expected)
    {
        Assert.True(YamlValues.TryInteger(text, out long v));
        Assert.Equal(expected, v);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-")]
    [InlineData("abc")]
    [InlineData("1.5")]
    [InlineData("1e3")]
    [InlineData("0x")]
    [InlineData("09")]
    [InlineData("0b2")]
    [InlineData("9223372036854775808")]
    [InlineData("-9223372036854775809")]
    [InlineData("0xFFFFFFFFFFFFFFFFF")]
    public void Non_integers_are_refused(string text) => Assert.False(YamlValues.TryInteger(text, out _));

    public void Dispose() => File.Delete(_file);
}
