using System.Diagnostics;
using System.Text;

namespace Portcullis.Testing.World;

/// <summary>
/// A child process with captured stdout/stderr, killed (whole tree) on dispose: the one output capture of the
/// test world (DaemonProcess runs the Portcullis binary through it too).
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ChildProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Interleaved stdout and stderr captured so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    public static ChildProcess Start(string program, IEnumerable<string> args, string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null) =>
        Start(NewStartInfo(program, args, workingDirectory, environment));

    /// <summary>
    /// Starts <paramref name="psi"/> with stdout and stderr captured into <see cref="Output"/>; stdin is closed
    /// when <paramref name="psi"/> redirects it, else inherited.
    /// </summary>
    public static ChildProcess Start(ProcessStartInfo psi)
    {
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.UseShellExecute = false;
        var p = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var child = new ChildProcess(p);
        p.OutputDataReceived += (_, e) => child.Append(e.Data);
        p.ErrorDataReceived += (_, e) => child.Append(e.Data);
        if (!p.Start())
            throw new InvalidOperationException("Could not start " + psi.FileName);
        if (psi.RedirectStandardInput)
            p.StandardInput.Close();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return child;
    }

    /// <summary>Runs a program to completion and returns its exit code and output.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(
        string program, IEnumerable<string> args, string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null, CancellationToken ct = default) =>
        RunAsync(NewStartInfo(program, args, workingDirectory, environment), ct);

    /// <summary>
    /// Runs <paramref name="psi"/> to completion: stdout and stderr apart, <paramref name="stdin"/> written first when
    /// <paramref name="psi"/> redirects stdin. A run the caller gives up on (<paramref name="ct"/>) is killed, whole tree.
    /// </summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(ProcessStartInfo psi, CancellationToken ct, string? stdin = null)
    {
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.UseShellExecute = false;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("Could not start " + psi.FileName);
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        if (psi.RedirectStandardInput)
        {
            if (stdin is not null)
                await p.StandardInput.WriteAsync(stdin);
            p.StandardInput.Close();
        }
        try
        {
            await p.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw;
        }
        return (p.ExitCode, await stdout, await stderr);
    }

    /// <summary>Like RunAsync but throws with the program's output when the exit code is not 0.</summary>
    public static async Task<string> RunCheckedAsync(string program, IEnumerable<string> args, string? workingDirectory = null, CancellationToken ct = default)
    {
        var list = args.ToList();
        var (code, stdout, stderr) = await RunAsync(program, list, workingDirectory, null, ct);
        if (code != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', list)} exited with {code}:\n{stdout}\n{stderr}");
        return stdout;
    }

    /// <summary>Output redirected, stdin a pipe that is closed at start (the child reads EOF, never the test's terminal).</summary>
    private static ProcessStartInfo NewStartInfo(string program, IEnumerable<string> args, string? workingDirectory,
        IReadOnlyDictionary<string, string>? environment)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
            psi.Environment[k] = v;
        return psi;
    }

    /// <summary>Waits until the process has exited and its output is read to the end.</summary>
    public Task WaitForExitAsync(CancellationToken ct = default) => _process.WaitForExitAsync(ct);

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
                _process.Kill(entireProcessTree: true);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
        {
            // Already gone or refused to die; nothing more we can do.
        }
        _process.Dispose();
    }
}
