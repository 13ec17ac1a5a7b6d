namespace Portcullis.Testing.World;

/// <summary>Locates the external programs the test world needs; fails loudly when one is missing.</summary>
public static class TestBinaries
{
    // Debian puts nsd/unbound/postmap in /usr/sbin, which is not on every PATH.
    private static readonly string[] ExtraDirs = ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"];

    public static string Require(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(ExtraDirs))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
                return candidate;
        }
        throw new InvalidOperationException(
            $"Required program '{name}' was not found. Run scripts/install-test-deps.sh (as root) to install the integration-test dependencies.");
    }
}
