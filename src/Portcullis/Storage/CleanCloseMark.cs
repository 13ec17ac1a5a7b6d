using System.Globalization;

namespace Portcullis.Storage;

/// <summary>
/// Remembers that a SQLite file was closed cleanly, and how it looked then (size and modification time of the
/// database and its WAL), so the next open can skip <c>PRAGMA quick_check</c>: a whole-file scan that costs about
/// 100 ms per 100,000 cached domains at every start. The mark is consumed on open; after a crash, kill -9 or any
/// change to the files since the close there is no matching mark and the file is checked.
/// </summary>
public static class CleanCloseMark
{
    public static string PathFor(string database) => database + ".clean";

    /// <summary>True when the file is as it was at its last clean close. Removes the mark either way.</summary>
    public static bool Consume(string database)
    {
        string mark = PathFor(database);
        try
        {
            string? saved = File.Exists(mark) ? File.ReadAllText(mark) : null;
            File.Delete(mark);
            return saved is not null && saved == Describe(database);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // cannot tell: check
        }
    }

    /// <summary>Writes the mark after the last connection closed (best effort: without it the next open checks).</summary>
    public static void Write(string database)
    {
        try
        {
            if (File.Exists(database))
                File.WriteAllText(PathFor(database), Describe(database));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    private static string Describe(string database) => $"{Stat(database)} {Stat(database + "-wal")}";

    private static string Stat(string path)
    {
        var info = new FileInfo(path);
        return info.Exists
            ? string.Create(CultureInfo.InvariantCulture, $"{info.Length}@{info.LastWriteTimeUtc.Ticks}")
            : "-";
    }
}
