using System.Text.Json;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests;

/// <summary>
/// A fresh network namespace whose resolv.conf points at 127.0.0.1 (the scene's validating unbound on
/// port 53, so Postfix's libc resolver uses it), in which tests/Portcullis.DeliveryScene runs and writes
/// its results as JSON. Deleted on dispose.
/// </summary>
public sealed class SceneNamespace : IAsyncDisposable
{
    private readonly string _ip = TestBinaries.Require("ip");

    private SceneNamespace(string name) => Name = name;

    public string Name { get; }

    public static async Task<SceneNamespace> CreateAsync(string prefix)
    {
        var ns = new SceneNamespace($"{prefix}-{Environment.ProcessId}-{Random.Shared.Next(10000)}");
        await ChildProcess.RunCheckedAsync(ns._ip, ["netns", "add", ns.Name]);
        Directory.CreateDirectory($"/etc/netns/{ns.Name}");
        await File.WriteAllTextAsync($"/etc/netns/{ns.Name}/resolv.conf", "nameserver 127.0.0.1\n");
        await ChildProcess.RunCheckedAsync(ns._ip, ["netns", "exec", ns.Name, "ip", "link", "set", "lo", "up"]);
        return ns;
    }

    /// <summary>Runs the delivery scene with <paramref name="args"/> (its output file is appended) and returns the JSON it wrote.</summary>
    public async Task<JsonElement> RunSceneAsync(string what, IEnumerable<string> args, TimeSpan timeout)
    {
        string scene = Path.Combine(AppContext.BaseDirectory.Replace("Portcullis.IntegrationTests", "Portcullis.DeliveryScene", StringComparison.Ordinal),
            "Portcullis.DeliveryScene.dll");
        Assert.True(File.Exists(scene), $"{scene} not built");
        string outFile = Path.Combine(Path.GetTempPath(), Name + ".json");
        using var cts = new CancellationTokenSource(timeout);
        var (exit, stdout, stderr) = await ChildProcess.RunAsync(_ip, ["netns", "exec", Name, "dotnet", scene, .. args, outFile], ct: cts.Token);
        Assert.True(exit == 0, $"{what} failed ({exit}):\n{stdout}\n{stderr}");
        using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(outFile));
        File.Delete(outFile);
        return doc.RootElement.Clone();
    }

    public async ValueTask DisposeAsync()
    {
        await ChildProcess.RunAsync(_ip, ["netns", "del", Name]);
        if (Directory.Exists($"/etc/netns/{Name}"))
            Directory.Delete($"/etc/netns/{Name}", true);
    }
}
