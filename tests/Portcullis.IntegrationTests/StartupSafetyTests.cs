using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Data.Sqlite;
using Portcullis.Configuration;
using Portcullis.Testing.Harness;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests;

/// <summary>
/// What a careless administrator gets wrong at start-up, against the real binary: a second daemon, files at socket
/// paths, unwritable or odd data paths, a permissive umask, relative paths under systemd, ports in use.
/// </summary>
public sealed class StartupSafetyTests : IDisposable
{
    private static readonly IPEndPoint NoResolver = new(IPAddress.Loopback, 9);
    private static readonly Dictionary<string, string> NoEnv = [];
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-startup-").FullName;
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromSeconds(90)).Token;

    private const string Datagram = """{"d": "ok.rcv.test","pr": "v=TLSRPTv1; rua=mailto:r@ok.rcv.test","policies":[{"policy-type":2,"policy-domain": "ok.rcv.test","policy-string":["version: STSv1","mode: enforce","mx: mx.ok.rcv.test","max_age: 86400"],"mx-host":["mx.ok.rcv.test"],"t":0,"f":0}]}""";

    private const string Report = """
        {"organization-name":"Sender","date-range":{"start-datetime":"2026-11-20T00:00:00Z","end-datetime":"2026-11-20T23:59:59Z"},
         "contact-info":"tlsrpt@sender.example","report-id":"rel-1",
         "policies":[{"policy":{"policy-type":"sts","policy-domain":"example.com","mx-host":["mx.example.com"]},
                      "summary":{"total-successful-session-count":3,"total-failure-session-count":0}}]}
        """;

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>`serve` to completion (it is expected to refuse), with the config file and cache given.</summary>
    private Task<(int ExitCode, string Stdout, string Stderr)> ServeAsync(string config, string? cache = null) =>
        DaemonProcess.RunCliAsync(NoEnv, ["serve", "--dns", NoResolver.ToString(), "--config", config, "--cache", cache ?? Path.Combine(_dir, "cache.db")], _ct);

    /// <summary>A refusal: the exit code, one line on stderr naming <paramref name="expected"/>, no stack frame anywhere.</summary>
    private static void AssertOneLine((int ExitCode, string Stdout, string Stderr) run, int exitCode, params string[] expected)
    {
        string stderr = run.Stderr.Trim();
        Assert.True(run.ExitCode == exitCode, $"exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.DoesNotContain('\n', stderr);
        Assert.StartsWith("portcullis: ", stderr);
        foreach (string e in expected)
            Assert.Contains(e, stderr);
        Assert.DoesNotContain("   at ", run.Stdout + run.Stderr);
        Assert.DoesNotContain("Exception", run.Stdout + run.Stderr);
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>`serve` under a shell, to give it a umask, environment and working directory as systemd or a login would.</summary>
    private static ChildProcess StartShell(string prelude, string cwd, params string[] args) =>
        ChildProcess.Start("sh", ["-c", $"{prelude}; exec {DaemonProcess.ShellCommand} {string.Join(' ', args.Select(Quote))}"], cwd);

    private static async Task WaitForAsync(ChildProcess p, string text, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(40);
        while (!p.Output.Contains(text, StringComparison.Ordinal))
        {
            Assert.False(p.HasExited, "portcullis exited:\n" + p.Output);
            Assert.True(DateTime.UtcNow < deadline, $"no '{text}' in:\n{p.Output}");
            await Task.Delay(50, ct);
        }
    }

    private static async Task<string> MetricsAsync(int port, string expect, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        string metrics = "";
        for (int i = 0; i < 100 && !metrics.Contains(expect, StringComparison.Ordinal); i++)
        {
            metrics = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics", ct);
            await Task.Delay(100, ct);
        }
        return metrics;
    }

    private static async Task<string> QueryUnixAsync(string sock, CancellationToken ct)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(sock), ct);
        await socket.SendAsync(SocketmapClient.Frame("QUERY .example.com"), ct);
        byte[] buffer = new byte[64];
        int n = await socket.ReceiveAsync(buffer, ct);
        return Encoding.ASCII.GetString(buffer, 0, n);
    }

    [Fact]
    public async Task A_second_serve_refuses_the_running_daemons_sockets_and_the_first_still_answers_and_collects()
    {
        string sock = Path.Combine(_dir, "pc.sock"), collect = Path.Combine(_dir, "collect.sock");
        int metrics = FreePort.Tcp();
        string yaml = $"listen: [\"unix:{sock}\"]\ntlsrpt:\n  database: {_dir}/tlsrpt.db\n  collect_socket: {collect}\nmetrics:\n  listen: [\"127.0.0.1:{metrics}\"]\n";
        await using var first = await DaemonProcess.StartAsync(NoResolver, NoEnv, Path.Combine(_dir, "cache.db"), yaml, _ct, extraListen: false);
        Assert.True(await first.WaitForOutputAsync("Collecting TLS-RPT session results"), first.Output);

        // The same configuration: the socketmap socket is the first one checked.
        AssertOneLine(await ServeAsync(Write("same.yaml", yaml)), ExitCodes.Unavailable, sock, "in use by another running daemon", $"pid {first.Pid}");
        // Another socketmap path, the same collector socket.
        string other = yaml.Replace(sock, Path.Combine(_dir, "other.sock"), StringComparison.Ordinal);
        AssertOneLine(await ServeAsync(Write("other.yaml", other)), ExitCodes.Unavailable, "tlsrpt.collect_socket", collect, "in use");

        Assert.Equal(FileKind.Socket, Posix.Kind(sock));
        Assert.Equal(FileKind.Socket, Posix.Kind(collect));
        Assert.Equal("9:NOTFOUND ,", await QueryUnixAsync(sock, _ct));
        using (var client = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified))
            client.SendTo(Encoding.UTF8.GetBytes(Datagram), new UnixDomainSocketEndPoint(collect));
        string expect = "portcullis_tlsrpt_datagrams_total{outcome=\"recorded\"} 1";
        Assert.Contains(expect, await MetricsAsync(metrics, expect, _ct));
    }

    [Theory]
    [InlineData("listen")]
    [InlineData("collect")]
    [InlineData("symlink")]
    public async Task A_file_at_a_socket_path_is_refused_and_left_intact(string where)
    {
        string file = Write("main.cf", "myhostname = mail.example.net\n");
        string path = file;
        if (where == "symlink")
        {
            path = Path.Combine(_dir, "link.sock");
            File.CreateSymbolicLink(path, file);
        }
        string yaml = where == "collect"
            ? $"listen: [\"unix:{_dir}/pc.sock\"]\ntlsrpt:\n  collect_socket: {path}\n  database: {_dir}/tlsrpt.db\n"
            : $"listen: [\"unix:{path}\"]\n";
        AssertOneLine(await ServeAsync(Write("p.yaml", yaml)), ExitCodes.CantCreate, path,
            where == "symlink" ? "is a symbolic link, not a socket" : "is a regular file, not a socket");
        Assert.Equal("myhostname = mail.example.net\n", await File.ReadAllTextAsync(file, _ct));
        if (where == "symlink")
            Assert.Equal(FileKind.SymbolicLink, Posix.Kind(path));
    }

    [Fact]
    public async Task A_cache_path_that_is_a_directory_fails_with_one_line_and_exit_73()
    {
        string cache = Directory.CreateDirectory(Path.Combine(_dir, "cache.db")).FullName;
        AssertOneLine(await ServeAsync(Write("c.yaml", "log_level: information\n"), cache), ExitCodes.CantCreate,
            $"cache.path: {cache} is a directory");
    }

    [Fact]
    public async Task A_tlsrpt_database_that_cannot_be_opened_fails_the_start_not_each_report()
    {
        // Received reports live in tlsrpt.reports_database (the session counts in tlsrpt.database, used by the collector).
        string db = Directory.CreateDirectory(Path.Combine(_dir, "tlsrpt-reports.db")).FullName;
        string yaml = $"tlsrpt:\n  reports_database: {db}\n  receive_listen: [\"127.0.0.1:{FreePort.Tcp()}\"]\n";
        AssertOneLine(await ServeAsync(Write("t.yaml", yaml)), ExitCodes.CantCreate, $"tlsrpt.reports_database: {db} is a directory");
    }

    [Fact]
    public async Task A_read_only_data_directory_fails_with_one_line_naming_it_and_exit_77()
    {
        // As under ProtectSystem=strict: a read-only mount (root would write through a mere chmod).
        string data = Directory.CreateDirectory(Path.Combine(_dir, "ro")).FullName;
        string config = Write("ro.yaml", $"data_dir: {data}\n");
        var run = await ChildProcess.RunAsync(TestBinaries.Require("unshare"), ["-m", "sh", "-c",
            $"mount --bind -o ro {Quote(data)} {Quote(data)} && exec {DaemonProcess.ShellCommand} serve --dns {NoResolver} --config {Quote(config)}"],
            ct: _ct);
        AssertOneLine(run, ExitCodes.NoPermission, $"cache.path: cannot write {data}/cache.db: read-only file system", $"make {data} writable");
    }

    [Fact]
    public async Task Under_umask_000_no_socket_is_ever_more_open_than_configured_and_nobody_cannot_reach_control()
    {
        File.SetUnixFileMode(_dir, (UnixFileMode)0b111_101_101); // 0755: only the sockets' own modes protect them
        string sock = Path.Combine(_dir, "pc.sock"), collect = Path.Combine(_dir, "collect.sock"), control = Path.Combine(_dir, "cache.sock");
        string config = Write("u.yaml", $"listen: [\"unix:{sock}\"]\nsocket_permissions: \"0660\"\ntlsrpt:\n  database: {_dir}/tlsrpt.db\n  collect_socket: {collect}\n");
        string[] paths = [sock, collect, control];
        var modes = new UnixFileMode[paths.Length];
        using var stop = new CancellationTokenSource();
        // Poll the modes as fast as possible from before the daemon starts until it is up.
        var poll = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                for (int i = 0; i < paths.Length; i++)
                {
                    try
                    {
                        modes[i] |= File.GetUnixFileMode(paths[i]) | UnixFileMode.SetUser; // SetUser marks "seen"
                    }
                    catch (FileNotFoundException)
                    {
                    }
                }
            }
        }, CancellationToken.None);
        await using var daemon = StartShell("umask 000", _dir, "serve", "--dns", NoResolver.ToString(), "--config", config,
            "--cache", Path.Combine(_dir, "cache.db"));
        await WaitForAsync(daemon, "listening on", _ct);
        await WaitForAsync(daemon, "Collecting TLS-RPT session results", _ct);
        await stop.CancelAsync();
        await poll;

        const UnixFileMode rw = UnixFileMode.UserRead | UnixFileMode.UserWrite, group = UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
        Assert.Equal(rw | UnixFileMode.SetUser, modes[2]); // control: 0600 from its creation
        Assert.True((modes[0] & ~(rw | group | UnixFileMode.SetUser)) == 0, $"socketmap socket seen as {modes[0]}");
        Assert.True((modes[1] & ~(rw | group | UnixFileMode.SetUser)) == 0, $"collector socket seen as {modes[1]}");
        Assert.Equal(rw, File.GetUnixFileMode(control));
        Assert.Equal(rw | group, File.GetUnixFileMode(sock));
        Assert.Equal(rw | group, File.GetUnixFileMode(collect));

        // An unprivileged local user cannot purge the cache through the control socket.
        var asNobody = await ChildProcess.RunAsync(TestBinaries.Require("setpriv"), ["--reuid", "nobody", "--regid", "nogroup", "--clear-groups",
            "/usr/bin/python3", "-c", $"import socket; s = socket.socket(socket.AF_UNIX); s.connect({Quote(control)}); print('connected')"], ct: _ct);
        Assert.NotEqual(0, asNobody.ExitCode);
        Assert.Contains("PermissionError", asNobody.Stderr);
    }

    [Fact]
    public async Task Databases_are_created_0600_in_a_0750_data_directory_under_umask_022()
    {
        string data = Path.Combine(_dir, "new", "data");
        int port = FreePort.Tcp();
        string config = Write("m.yaml", $"data_dir: {data}\ntlsrpt:\n  receive_listen: [\"127.0.0.1:{port}\"]\n  collect_socket: {_dir}/collect.sock\n");
        await using var daemon = StartShell("umask 022", _dir, "serve", "--dns", NoResolver.ToString(), "--config", config,
            "--listen", $"127.0.0.1:{FreePort.Tcp()}");
        await WaitForAsync(daemon, "listening on", _ct);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var content = new StringContent(Report, Encoding.UTF8, "application/tlsrpt+json");
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsync($"http://127.0.0.1:{port}/tlsrpt", content, _ct)).StatusCode);

        const UnixFileMode owner = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        foreach (string file in new[] { "cache.db", "cache.db-wal", "cache.db-shm", "tlsrpt.db", "tlsrpt.db-wal", "tlsrpt.db-shm" })
            Assert.True(File.GetUnixFileMode(Path.Combine(data, file)) == owner, $"{file}: {File.GetUnixFileMode(Path.Combine(data, file))}");
        Assert.Equal((UnixFileMode)0b111_101_000, File.GetUnixFileMode(data)); // 0750, like mkdir -p -m: parents keep the umask
    }

    [Theory]
    [InlineData("CREATE TABLE messages (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO messages VALUES (1, 'keep');", "messages")]
    [InlineData("CREATE TABLE sts_cache (domain TEXT PRIMARY KEY, policy TEXT); INSERT INTO sts_cache VALUES ('a.example', 'keep');", "sts_cache")]
    public async Task A_cache_file_with_another_schema_is_set_aside_and_a_fresh_cache_used(string sql, string table)
    {
        string cache = Path.Combine(_dir, "cache.db");
        using (var db = new SqliteConnection($"Data Source={cache};Pooling=False"))
        {
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = sql;
            cmd.ExecuteNonQuery();
        }
        await using var daemon = await DaemonProcess.StartAsync(NoResolver, NoEnv, cache, null, _ct);
        await using (var client = await daemon.ConnectAsync(_ct))
            Assert.Equal("NOTFOUND ", await client.QueryAsync("QUERY", "[192.0.2.1]", _ct));
        Assert.True(await daemon.WaitForOutputAsync("wrong schema"), daemon.Output);
        string aside = Assert.Single(Directory.GetFiles(_dir, "cache.db.corrupt-*"), f => !f.EndsWith("-wal", StringComparison.Ordinal) && !f.EndsWith("-shm", StringComparison.Ordinal));
        using (var db = new SqliteConnection($"Data Source={aside};Mode=ReadOnly;Pooling=False"))
        {
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = $"SELECT count(*) FROM {table}";
            Assert.Equal(1L, cmd.ExecuteScalar()); // set aside untouched, not altered
        }
        await daemon.StopAsync(_ct);
        using (var db = new SqliteConnection($"Data Source={cache};Mode=ReadOnly;Pooling=False"))
        {
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = "SELECT count(*) FROM pragma_table_info('sts_cache') WHERE name IN ('domain', 'entry', 'discard_after', 'updated_at')";
            Assert.Equal(4L, cmd.ExecuteScalar());
        }
    }

    [Fact]
    public async Task Relative_paths_resolve_against_the_state_directory_when_started_from_root()
    {
        // As the shipped unit runs it: working directory /, STATE_DIRECTORY from StateDirectory=.
        string state = Directory.CreateDirectory(Path.Combine(_dir, "state")).FullName;
        int port = FreePort.Tcp(), console = FreePort.Tcp();
        string config = Write("r.yaml", $"cache:\n  path: cache/policies.db\ntlsrpt:\n  database: reports/tlsrpt.db\n  receive_listen: [\"127.0.0.1:{port}\"]\n" +
            $"console:\n  listen: [\"127.0.0.1:{console}\"]\n");
        bool before = File.Exists("/reports/tlsrpt.db") || File.Exists("/cache/policies.db");
        Assert.False(before);
        await using var daemon = StartShell($"export STATE_DIRECTORY={Quote(state)}", "/", "serve", "--dns", NoResolver.ToString(),
            "--config", config, "--listen", $"127.0.0.1:{FreePort.Tcp()}");
        await WaitForAsync(daemon, "listening on", _ct);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var content = new StringContent(Report, Encoding.UTF8, "application/tlsrpt+json");
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsync($"http://127.0.0.1:{port}/tlsrpt", content, _ct)).StatusCode);
        Assert.Contains("Sender", await http.GetStringAsync($"http://127.0.0.1:{console}/api/tlsrpt/received", _ct));
        // Received reports go beside tlsrpt.database, in the state directory.
        Assert.True(File.Exists(Path.Combine(state, "reports", "tlsrpt-reports.db")));
        Assert.True(File.Exists(Path.Combine(state, "cache", "policies.db")));
        Assert.True(File.Exists(Path.Combine(state, "cache", "policies.sock")), daemon.Output); // the control socket beside the cache
        Assert.False(File.Exists("/reports/tlsrpt.db") || File.Exists("/cache/policies.db"));
    }

    [Fact]
    public async Task Only_the_configuration_file_opens_listeners_not_appsettings_json_or_ASPNETCORE_variables()
    {
        // ASP.NET's default host reads appsettings.json from the working directory and ASPNETCORE_URLS from the
        // environment; a daemon run from / or a shared directory must not open listeners or change logging from there.
        int fromFile = FreePort.Tcp(), fromEnv = FreePort.Tcp(), socketmap = FreePort.Tcp();
        Write("appsettings.json", "{\"Kestrel\":{\"Endpoints\":{\"Stray\":{\"Url\":\"http://127.0.0.1:" + fromFile + "\"}}},"
            + "\"Logging\":{\"LogLevel\":{\"Default\":\"Trace\"}}}");
        string config = Write("a.yaml", "log_level: information\n");
        await using var daemon = StartShell($"export ASPNETCORE_URLS=http://127.0.0.1:{fromEnv} ASPNETCORE_ENVIRONMENT=Development", _dir, "serve",
            "--dns", NoResolver.ToString(), "--config", config, "--cache", Path.Combine(_dir, "cache.db"), "--listen", $"127.0.0.1:{socketmap}");
        await WaitForAsync(daemon, "listening on", _ct);
        await using (var client = await SocketmapClient.ConnectAsync(socketmap, _ct))
            Assert.Equal("NOTFOUND ", await client.QueryAsync("QUERY", ".example.com", _ct));
        foreach (int port in new[] { fromFile, fromEnv })
        {
            using var probe = new TcpClient();
            var refused = await Assert.ThrowsAsync<SocketException>(() => probe.ConnectAsync(IPAddress.Loopback, port, _ct).AsTask());
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        }
        Assert.DoesNotContain("trce:", daemon.Output);
        Assert.DoesNotContain("dbug:", daemon.Output);
    }

    [Theory]
    [InlineData("serve")]
    [InlineData("policy-host")]
    public async Task A_port_in_use_is_one_line_and_exit_69(string command)
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        // policy-host needs a real certificate, else it stops at that first (exit 66).
        using (var cert = TestCa.CreateSelfSigned("mta-sts.example.com"))
        {
            File.WriteAllText(Path.Combine(_dir, "c.pem"), cert.ExportCertificatePem());
            File.WriteAllText(Path.Combine(_dir, "c.key"), cert.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        }
        string config = Write("p.yaml", command == "serve" ? "log_level: information\n" : $"""
            publish:
              listen: ["127.0.0.1:{port}"]
              domains:
                example.com: {"{"} mode: enforce, mx: [mx.example.com], certificate: {_dir}/c.pem, key: {_dir}/c.key {"}"}
            """);
        var run = command == "serve"
            ? await DaemonProcess.RunCliAsync(NoEnv, ["serve", "--dns", NoResolver.ToString(), "--config", config, "--cache", Path.Combine(_dir, "cache.db"),
                "--listen", $"127.0.0.1:{port}"], _ct)
            : await DaemonProcess.RunCliAsync(NoEnv, ["policy-host", "--config", config], _ct);
        AssertOneLine(run, ExitCodes.Unavailable);
        Assert.Equal($"portcullis: cannot listen on 127.0.0.1:{port}: address already in use", run.Stderr.Trim());
    }

    [Fact]
    public async Task The_start_up_log_lists_every_listener_with_its_address()
    {
        string sock = Path.Combine(_dir, "pc.sock"), collect = Path.Combine(_dir, "collect.sock");
        int tcp = FreePort.Tcp(), metrics = FreePort.Tcp(), reports = FreePort.Tcp();
        string yaml = $"listen: [\"unix:{sock}\", \"127.0.0.1:{tcp}\"]\nmetrics:\n  listen: [\"127.0.0.1:{metrics}\"]\n"
            + $"tlsrpt:\n  database: {_dir}/tlsrpt.db\n  receive_listen: [\"127.0.0.1:{reports}\"]\n  collect_socket: {collect}\n";
        await using var daemon = await DaemonProcess.StartAsync(NoResolver, NoEnv, Path.Combine(_dir, "cache.db"), yaml, _ct, extraListen: false);
        Assert.True(await daemon.WaitForOutputAsync("Listener: TLS-RPT collector"), daemon.Output);
        foreach (string expected in new[]
                 {
                     $"Listener: socketmap on unix:{sock} (mode 0660)",
                     $"Listener: socketmap on 127.0.0.1:{tcp}",
                     $"Listener: control (cache commands) on unix:{_dir}/cache.sock (mode 0600)",
                     $"Listener: metrics (GET /metrics) on http://127.0.0.1:{metrics}",
                     $"Listener: TLS-RPT reports (POST only) on http://127.0.0.1:{reports}",
                     $"Listener: TLS-RPT collector (datagrams from Postfix) on unix:{collect} (mode 0660)",
                 })
            Assert.Contains(expected, daemon.Output);
    }

    public void Dispose() => Directory.Delete(_dir, true);
}
