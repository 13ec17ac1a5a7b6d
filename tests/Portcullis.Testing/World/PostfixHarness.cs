namespace Portcullis.Testing.World;

/// <summary>
/// A private Postfix configuration directory (main.cf + empty master.cf in a temp dir) for running
/// postmap against a socketmap server exactly as Postfix's smtp client would query it.
/// Observed with Postfix 3.7 (Debian 12) postmap -q against socketmap:
///   "OK &lt;data&gt;"      exit 0, stdout "&lt;data&gt;\n", stderr empty.
///   "NOTFOUND "        exit 1, stdout and stderr empty.
///   "TEMP &lt;reason&gt;"  exit 1, stderr "postmap: warning: ... socketmap server temporary error: &lt;reason&gt;"
///                      then "postmap: fatal: table ...: query error: ...".
///   "PERM &lt;reason&gt;"  exit 1, stderr "... socketmap server permanent error: &lt;reason&gt;" then the same fatal line.
///   connection refused exit 1, stderr "warning: connect to ...: Connection refused" ... "fatal: ... query error".
/// So exit 1 alone does not distinguish NOTFOUND from errors: check stderr for "fatal:".
/// postmap writes these diagnostics to stderr even when it is not a terminal. Every "fatal:" exit takes ~1 s
/// (Postfix sleeps before exiting on fatal errors), so error cases are slower than OK/NOTFOUND (~5 ms).
/// </summary>
public sealed class PostfixHarness : IDisposable
{
    private readonly TempDir _dir = new("postfix");

    public PostfixHarness()
    {
        Directory.CreateDirectory(_dir.File("queue"));
        Directory.CreateDirectory(_dir.File("data"));
        File.WriteAllText(_dir.File("main.cf"), $"""
            compatibility_level = 3.6
            queue_directory = {_dir.File("queue")}
            data_directory = {_dir.File("data")}
            mail_owner = postfix
            myhostname = portcullis-test.invalid
            mydomain = invalid
            inet_interfaces = loopback-only
            inet_protocols = ipv4

            """);
        File.WriteAllText(_dir.File("master.cf"), "");
    }

    public string ConfigDirectory => _dir.Path;

    /// <summary>The map string Postfix would use, e.g. socketmap:inet:127.0.0.1:10028:QUERY.</summary>
    public static string SocketmapInet(int port, string name, string host = "127.0.0.1") => $"socketmap:inet:{host}:{port}:{name}";

    /// <summary>Runs postmap -c DIR -q KEY MAP.</summary>
    public Task<(int ExitCode, string Stdout, string Stderr)> PostmapQueryAsync(string key, string map, CancellationToken ct = default) =>
        ChildProcess.RunAsync(TestBinaries.Require("postmap"), ["-c", _dir.Path, "-q", key, map], _dir.Path, ct: ct);

    /// <summary>Runs postconf -c DIR with the given arguments (e.g. "-h", "mail_version").</summary>
    public Task<(int ExitCode, string Stdout, string Stderr)> PostconfAsync(IEnumerable<string> args, CancellationToken ct = default) =>
        ChildProcess.RunAsync(TestBinaries.Require("postconf"), ["-c", _dir.Path, .. args], _dir.Path, ct: ct);

    public void Dispose() => _dir.Dispose();
}
