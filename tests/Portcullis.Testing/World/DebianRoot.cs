using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Portcullis.Testing.World;

/// <summary>
/// A Debian root file system (debootstrap --variant=minbase) for running another release's programs with
/// <c>chroot</c>, e.g. trixie's Postfix 3.10 on a bookworm host. Built once and cached under
/// <see cref="CacheDirectory"/>: a root is complete only when its marker file exists (written last), so an
/// interrupted build is rebuilt. Never touches the host's apt sources. A root that cannot be built throws
/// with debootstrap's output: the test fails with the reason, it is never skipped.
/// Tests must not change the cached root: <see cref="OverlayAsync"/> gives each test a writable copy.
/// </summary>
public static class DebianRoot
{
    public const string CacheDirectory = "/var/tmp/portcullis-roots";
    public const string Mirror = "http://deb.debian.org/debian";
    private const string Marker = ".portcullis-root-complete";
    // About 1 minute on a quiet machine, 2.5 on a loaded one; the mirror may be slow.
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(10);
    private static readonly SemaphoreSlim InProcess = new(1, 1);

    /// <summary>Returns the path of a complete root of <paramref name="suite"/> with <paramref name="packages"/> installed.</summary>
    public static async Task<string> EnsureAsync(string suite, IReadOnlyList<string> packages, CancellationToken ct)
    {
        string name = suite + "-" + string.Join('-', packages);
        if (name.Length > 60)
            name = suite + "-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)))[..16];
        string root = Path.Combine(CacheDirectory, name);
        if (File.Exists(Path.Combine(root, Marker)))
            return root;
        await InProcess.WaitAsync(ct);
        try
        {
            Directory.CreateDirectory(CacheDirectory);
            // Other test processes (parallel CI jobs, other engineers) may build the same root: one at a time.
            using var cross = await LockAsync(root + ".lock", ct);
            if (File.Exists(Path.Combine(root, Marker)))
                return root;
            if (Directory.Exists(root))
                await ChildProcess.RunCheckedAsync(TestBinaries.Require("rm"), ["-rf", "--one-file-system", root], ct: ct); // incomplete
            string debootstrap = TestBinaries.Require("debootstrap");
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(BuildTimeout);
            var sw = Stopwatch.StartNew();
            var (exit, stdout, stderr) = await ChildProcess.RunAsync(debootstrap,
                ["--variant=minbase", "--include=" + string.Join(',', packages), suite, root, Mirror], ct: timeout.Token);
            if (exit != 0)
            {
                string tail = string.Join('\n', (stdout + stderr).Split('\n').TakeLast(30));
                string log = Path.Combine(root, "debootstrap", "debootstrap.log");
                if (File.Exists(log))
                    tail += "\n--- debootstrap.log:\n" + string.Join('\n', File.ReadLines(log).TakeLast(30));
                throw new InvalidOperationException($"debootstrap {suite} ({string.Join(',', packages)}) from {Mirror} failed with {exit}:\n{tail}");
            }
            await File.WriteAllTextAsync(Path.Combine(root, Marker),
                $"suite={suite}\npackages={string.Join(',', packages)}\nmirror={Mirror}\nbuilt={DateTime.UtcNow:O}\nseconds={sw.Elapsed.TotalSeconds:F0}\n", ct);
            return root;
        }
        finally
        {
            InProcess.Release();
        }
    }

    /// <summary>
    /// A writable view of <paramref name="root"/> (overlayfs: the cached root stays untouched, the changes go
    /// to a temp dir and vanish on dispose). Needs root privileges, like the network namespaces.
    /// </summary>
    public static async Task<WritableRoot> OverlayAsync(string root, CancellationToken ct)
    {
        var dir = Directory.CreateTempSubdirectory("portcullis-overlay-").FullName;
        string upper = Path.Combine(dir, "upper"), work = Path.Combine(dir, "work"), merged = Path.Combine(dir, "root");
        foreach (string d in new[] { upper, work, merged })
            Directory.CreateDirectory(d);
        // The root's daemons (running as its own users) must traverse into it.
        File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(merged, (UnixFileMode)0b111_101_101);
        await ChildProcess.RunCheckedAsync(TestBinaries.Require("mount"),
            ["-t", "overlay", "overlay", "-o", $"lowerdir={root},upperdir={upper},workdir={work}", merged], ct: ct);
        return new WritableRoot(dir, merged);
    }

    private static async Task<FileStream> LockAsync(string path, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                // FileShare.None is an exclusive advisory lock (flock) on Linux.
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (deadline.Elapsed < BuildTimeout)
            {
                await Task.Delay(1000, ct);
            }
        }
    }
}

/// <summary>An overlay mount of a cached root; unmounted and deleted on dispose.</summary>
public sealed class WritableRoot(string dir, string path) : IAsyncDisposable
{
    public string Path { get; } = path;

    /// <summary>A path inside the root as seen from outside it (e.g. "/etc/postfix" → ROOT/etc/postfix).</summary>
    public string Outside(string inside) => System.IO.Path.Combine(Path, inside.TrimStart('/'));

    public async ValueTask DisposeAsync()
    {
        // Lazy: a process still inside would otherwise keep the mount busy and leak it.
        await ChildProcess.RunAsync(TestBinaries.Require("umount"), ["-l", Path]);
        try
        {
            Directory.Delete(dir, true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Still busy; /tmp cleanup gets it.
        }
    }
}
