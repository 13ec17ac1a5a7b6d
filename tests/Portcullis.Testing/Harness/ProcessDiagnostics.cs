using System.Diagnostics;
using System.Text;
using Portcullis.Testing.World;

namespace Portcullis.Testing.Harness;

/// <summary>
/// What a process that did not get ready was doing, for the failure message: its state and wait channel per
/// thread from /proc and, when gdb is installed, every thread's stack (a native binary's frames carry names).
/// </summary>
public static class ProcessDiagnostics
{
    private const int MaxLines = 200;

    public static async Task<string> DescribeAsync(int pid)
    {
        var text = new StringBuilder($"--- process {pid} ---\n");
        try
        {
            foreach (string task in Directory.GetDirectories($"/proc/{pid}/task"))
            {
                string comm = Read(Path.Combine(task, "comm")), wchan = Read(Path.Combine(task, "wchan"));
                string state = File.ReadLines(Path.Combine(task, "status")).FirstOrDefault(l => l.StartsWith("State:", StringComparison.Ordinal)) ?? "";
                text.Append($"thread {Path.GetFileName(task)} {comm} {state.Replace("State:", "", StringComparison.Ordinal).Trim()} wchan={wchan}\n");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            text.Append($"/proc/{pid}: {e.Message}\n");
        }
        text.Append(await StacksAsync(pid));
        return text.ToString();
    }

    private static string Read(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static async Task<string> StacksAsync(int pid)
    {
        if (!File.Exists("/usr/bin/gdb"))
            return "(gdb not installed: no stacks)\n";
        var psi = new ProcessStartInfo("/usr/bin/gdb");
        foreach (string a in new[] { "-p", pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "-batch", "-nx", "-ex", "thread apply all bt 12" })
            psi.ArgumentList.Add(a);
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        string output;
        try
        {
            (_, output, _) = await ChildProcess.RunAsync(psi, limit.Token);
        }
        catch (OperationCanceledException)
        {
            return "(gdb did not finish in 20 s)\n";
        }
        var lines = output.Split('\n').Where(l => l.StartsWith('#') || l.StartsWith("Thread", StringComparison.Ordinal)).Take(MaxLines);
        return string.Join('\n', lines) + "\n";
    }
}
