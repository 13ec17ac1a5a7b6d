namespace Portcullis.Testing.World;

/// <summary>A unique temporary directory, deleted on dispose unless PORTCULLIS_KEEP_TEST_DIRS is set (for debugging).</summary>
public sealed class TempDir : IDisposable
{
    public TempDir(string prefix)
    {
        Path = Directory.CreateTempSubdirectory("portcullis-" + prefix + "-").FullName;
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("PORTCULLIS_KEEP_TEST_DIRS") is { Length: > 0 })
            return;
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a lingering child may still hold a file.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
