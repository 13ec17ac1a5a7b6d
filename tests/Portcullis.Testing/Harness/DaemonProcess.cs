using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Portcullis.Testing.World;

namespace Portcullis.Testing.Harness;

/// <summary>
/// The real Portcullis binary as a child process: `serve` on a loopback port, or one `query` run.
/// The environment (SSL_CERT_FILE, SSL_CERT_DIR) points .NET's OpenSSL at the test CA, as an administrator could.
/// Its output is captured by <see cref="ChildProcess"/>.
/// </summary>
public sealed class DaemonProcess : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private DaemonProcess(ChildProcess process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public int Pid => _process.Id;

    /// <summary>Resident memory from /proc, in bytes.</summary>
    public long ResidentBytes()
    {
        foreach (string line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        return 0;
    }

    /// <summary>Interleaved stdout and stderr captured so far.</summary>
    public string Output => _process.Output;

    public static string Binary => Path.Combine(AppContext.BaseDirectory, "portcullis.dll");

    /// <summary>
    /// The published native executable under test (PORTCULLIS_TEST_BINARY, set by scripts/test.sh), so an
    /// AOT-only failure cannot hide behind the JIT build; unset: <c>dotnet portcullis.dll</c>.
    /// </summary>
    public static string? Native => Environment.GetEnvironmentVariable("PORTCULLIS_TEST_BINARY") is { Length: > 0 } p ? p : null;

    /// <summary>The program and leading arguments that run Portcullis: [native] or [dotnet, portcullis.dll].</summary>
    public static IReadOnlyList<string> Command => Native is { } n ? [n] : ["dotnet", Binary];

    /// <summary><see cref="Command"/> for a shell command line.</summary>
    public static string ShellCommand => string.Join(' ', Command.Select(a => "'" + a.Replace("'", "'\\''", StringComparison.Ordinal) + "'"));

    public static async Task<DaemonProcess> StartAsync(IPEndPoint dns, IReadOnlyDictionary<string, string> env, string cachePath, string? yaml,
        CancellationToken ct, bool extraListen = true)
    {
        int port = FreePort.Tcp();
        var args = new List<string> { "serve", "--dns", dns.ToString(), "--cache", cachePath };
        if (extraListen)
            args.AddRange(["--listen", $"127.0.0.1:{port}"]);
        if (yaml is not null)
        {
            string cfg = Path.Combine(Path.GetDirectoryName(cachePath)!, $"portcullis-{port}.yaml");
            await File.WriteAllTextAsync(cfg, yaml, ct);
            args.AddRange(["--config", cfg]);
        }
        var process = ChildProcess.Start(StartInfo(args, env));
        var daemon = new DaemonProcess(process, port);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"portcullis exited with {process.ExitCode}:\n{daemon.Output}");
            if (!extraListen)
            {
                // Only the log tells: nothing listens on the reserved port (another test may, later).
                if (daemon.Output.Contains("listening on", StringComparison.Ordinal))
                    return daemon;
                await Task.Delay(100, ct);
                continue;
            }
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port, ct);
                return daemon;
            }
            catch (SocketException)
            {
                await Task.Delay(100, ct);
            }
        }
        string stuck = await ProcessDiagnostics.DescribeAsync(process.Id);
        await daemon.DisposeAsync();
        throw new TimeoutException($"portcullis did not listen on {(extraListen ? port.ToString(System.Globalization.CultureInfo.InvariantCulture) : "its configured listeners")} " +
            $"within 30 s:\n{daemon.Output}\n{stuck}");
    }

    /// <summary>Runs `portcullis query …` to completion.</summary>
    /// <param name="allowPrivate">Test policy hosts live on loopback, which the default configuration refuses.</param>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunQueryAsync(IPEndPoint dns, IReadOnlyDictionary<string, string> env,
        IEnumerable<string> extraArgs, CancellationToken ct, bool allowPrivate = true)
    {
        string config = Path.Combine(Path.GetTempPath(), $"portcullis-query-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(config, $"mta_sts:\n  allow_private_addresses: {(allowPrivate ? "true" : "false")}\n", ct);
        using var cleanup = new TempFileDeleter(config);
        return await ChildProcess.RunAsync(StartInfo(["query", "--dns", dns.ToString(), "--config", config, .. extraArgs], env), ct);
    }

    /// <summary>Runs any `portcullis …` command to completion.</summary>
    /// <remarks>A run the test gives up on is killed: a `serve` that should have refused to start must not keep
    /// its port (127.0.0.1:8642 by default) and break every later test that expects it free.</remarks>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunCliAsync(IReadOnlyDictionary<string, string> env,
        IEnumerable<string> args, CancellationToken ct) => ChildProcess.RunAsync(StartInfo(args, env), ct);

    public Task<SocketmapClient> ConnectAsync(CancellationToken ct) => SocketmapClient.ConnectAsync(Port, ct);

    /// <summary>SIGTERM, then waits for a clean exit; returns the exit code.</summary>
    public async Task<int> StopAsync(CancellationToken ct)
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, "TERM");
            await _process.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromSeconds(20), ct);
        }
        return _process.ExitCode;
    }

    /// <summary>Waits (bounded) until the daemon's log contains <paramref name="text"/>: its output pipe may lag.</summary>
    public async Task<bool> WaitForOutputAsync(string text, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(5));
        while (!Output.Contains(text, StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        return Output.Contains(text, StringComparison.Ordinal);
    }

    /// <summary>Sends a signal by name (e.g. HUP).</summary>
    public Task SignalAsync(string signal)
    {
        _ = Kill(_process.Id, signal);
        return Task.CompletedTask;
    }

    /// <summary>kill -9: no chance to flush anything.</summary>
    public async Task KillHardAsync()
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, "KILL");
            await _process.WaitForExitAsync();
        }
    }

    private static ProcessStartInfo StartInfo(IEnumerable<string> args, IReadOnlyDictionary<string, string> env)
    {
        var psi = new ProcessStartInfo(Command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in Command.Skip(1).Concat(args))
            psi.ArgumentList.Add(a);
        foreach (var (k, v) in env)
            psi.Environment[k] = v;
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return psi;
    }

    /// <summary>kill(1) with a signal name (TERM, KILL, HUP); its exit code.</summary>
    private static int Kill(int pid, string signal)
    {
        using var kill = Process.Start("kill", $"-{signal} {pid}");
        kill.WaitForExit();
        return kill.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        await KillHardAsync();
        await _process.DisposeAsync();
    }
}

/// <summary>Deletes a temporary file when disposed.</summary>
internal sealed class TempFileDeleter(string path) : IDisposable
{
    public void Dispose() => File.Delete(path);
}
