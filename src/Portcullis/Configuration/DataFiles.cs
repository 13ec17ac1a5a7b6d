namespace Portcullis.Configuration;

/// <summary>
/// The SQLite files Portcullis keeps (cache, TLS-RPT): they list the domains your users mail, so they are created
/// owner-only, in a directory Portcullis creates 0750. A path that cannot hold a database fails with one line
/// naming it and the fix, instead of an exception deep inside SQLite.
/// </summary>
public static class DataFiles
{
    public const UnixFileMode DirectoryMode = (UnixFileMode)0b111_101_000; // 0750
    public const UnixFileMode FileMode = (UnixFileMode)0b110_000_000; // 0600; SQLite gives -wal and -shm the same mode
    private const int EROFS = 30;

    /// <summary>Makes sure <paramref name="path"/> can be opened as a database: its directory exists and is writable
    /// (SQLite creates -wal and -shm beside it), and the file exists with <see cref="FileMode"/>.</summary>
    /// <param name="key">The configuration key, for the message (e.g. "cache.path").</param>
    public static void PrepareDatabase(string path, string key)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        try
        {
            if (Directory.Exists(full))
                throw new StartupException($"{key}: {full} is a directory, not a database file; remove it or set {key} to a file path", ExitCodes.CantCreate);
            if (!Directory.Exists(dir))
                Directory.CreateDirectory(dir, DirectoryMode);
            // The directory must take new files even when the database exists (its -wal and -shm, a corrupt file set aside).
            string probe = Path.Combine(dir, $".portcullis-write-test-{Guid.NewGuid():N}");
            new FileStream(probe, new FileStreamOptions
            {
                Mode = System.IO.FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = FileMode, Options = FileOptions.DeleteOnClose,
            }).Dispose();
            if (!File.Exists(full))
                new FileStream(full, new FileStreamOptions { Mode = System.IO.FileMode.OpenOrCreate, Access = FileAccess.Write, UnixCreateMode = FileMode }).Dispose();
        }
        catch (UnauthorizedAccessException)
        {
            throw NotWritable(key, full, dir, "permission denied");
        }
        catch (IOException ex) when (ex.HResult == EROFS)
        {
            throw NotWritable(key, full, dir, "read-only file system");
        }
        catch (IOException ex)
        {
            throw new StartupException($"{key}: cannot create {full}: {ex.Message}", ExitCodes.CantCreate);
        }
    }

    private static StartupException NotWritable(string key, string file, string dir, string why) =>
        new($"{key}: cannot write {file}: {why}; make {dir} writable for user {Environment.UserName} "
            + "(under systemd: StateDirectory=, ReadWritePaths=) or set data_dir / the path to a writable place", ExitCodes.NoPermission);

    /// <summary>A SQLite error while opening a store, as one line.</summary>
    public static StartupException OpenFailed(string key, string path, Exception ex) =>
        new($"{key}: cannot open {Path.GetFullPath(path)}: {ex.Message}", ExitCodes.IoError);
}
