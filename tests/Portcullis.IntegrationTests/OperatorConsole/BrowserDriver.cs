using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests.OperatorConsole;

/// <summary>One browser step for tests/browser/console.mjs: load a view, act on it, read a value, take a screenshot.</summary>
public sealed record BrowserStep(string Name, string? Goto = null, IReadOnlyList<JsonObject>? Actions = null, string? WaitFor = null,
    string? Evaluate = null, string? Screenshot = null);

/// <summary>What a step saw: console errors and uncaught exceptions, the evaluated value, or why it failed.</summary>
public sealed record BrowserResult(string Name, IReadOnlyList<string> Errors, JsonNode? Value, string? Error);

/// <summary>
/// Debian's Chromium (/usr/bin/chromium) driven by playwright-core from tests/browser (npm ci'd there on first use,
/// from its pinned package-lock.json). Screenshots go to $PORTCULLIS_ARTIFACTS/console, else tests/browser/artifacts.
/// </summary>
public static class BrowserDriver
{
    public const string Chromium = "/usr/bin/chromium";
    private static readonly SemaphoreSlim Install = new(1, 1);

    public static string Dir
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            {
                string candidate = Path.Combine(d.FullName, "tests", "browser");
                if (File.Exists(Path.Combine(candidate, "console.mjs")))
                    return candidate;
            }
            throw new InvalidOperationException("tests/browser/console.mjs not found above " + AppContext.BaseDirectory);
        }
    }

    public static string Artifacts
    {
        get
        {
            string dir = Environment.GetEnvironmentVariable("PORTCULLIS_ARTIFACTS") is { Length: > 0 } a
                ? Path.Combine(a, "console") : Path.Combine(Dir, "artifacts");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    public static async Task<IReadOnlyList<BrowserResult>> RunAsync(string baseUrl, IEnumerable<BrowserStep> steps, CancellationToken ct)
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: run scripts/install-test-deps.sh (apt-get install chromium)");
        await EnsureInstalledAsync(ct);
        var spec = new JsonObject
        {
            ["base"] = baseUrl,
            ["chromium"] = Chromium,
            ["artifacts"] = Artifacts,
            ["timeoutMs"] = 90_000, // generous: the machine may be loaded 5x
            ["steps"] = new JsonArray([.. steps.Select(s => (JsonNode)new JsonObject
            {
                ["name"] = s.Name,
                ["goto"] = s.Goto,
                ["actions"] = new JsonArray([.. (s.Actions ?? []).Select(a => (JsonNode)a.DeepClone())]),
                ["waitFor"] = s.WaitFor,
                ["evaluate"] = s.Evaluate,
                ["screenshot"] = s.Screenshot,
            })]),
        };
        var (code, stdout, stderr) = await RunAsync("node", ["console.mjs"], spec.ToJsonString(), ct);
        Assert.True(code == 0, $"node console.mjs exited {code}:\n{stderr}\n{stdout}");
        var doc = JsonNode.Parse(stdout)!;
        return [.. doc["results"]!.AsArray().Select(r => new BrowserResult(r!["name"]!.GetValue<string>(),
            [.. r["errors"]!.AsArray().Select(e => e!.GetValue<string>())], r["value"]?.DeepClone(), r["error"]?.GetValue<string>()))];
    }

    private static async Task EnsureInstalledAsync(CancellationToken ct)
    {
        await Install.WaitAsync(ct);
        try
        {
            if (Directory.Exists(Path.Combine(Dir, "node_modules", "playwright-core")))
                return;
            var (code, stdout, stderr) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund"], null, ct);
            Assert.True(code == 0, $"npm ci in {Dir} failed ({code}):\n{stdout}\n{stderr}");
        }
        finally
        {
            Install.Release();
        }
    }

    private static async Task<(int, string, string)> RunAsync(string program, IEnumerable<string> args, string? stdin, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(program) { WorkingDirectory = Dir, RedirectStandardInput = true };
        foreach (string a in args)
            psi.ArgumentList.Add(a);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(10));
        return await ChildProcess.RunAsync(psi, timeout.Token, stdin);
    }
}
