using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Core.Caching;
using Portcullis.Storage;

namespace Portcullis.Tests.Storage;

/// <summary>
/// The start skips the cache file's whole-file check only after a clean close of exactly that file: a crash
/// (no mark) or any later change to the file (the mark no longer matches) still gets the check, and a damaged
/// file is moved aside as before.
/// </summary>
public sealed class CleanCloseMarkTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-mark-").FullName;

    private string Cache => Path.Combine(_dir, "cache.db");

    private async Task FillAsync(int rows)
    {
        await using var store = SqliteEntryStore.Open(Cache, NullLogger.Instance);
        Assert.True(store.IntegrityChecked); // a new file, or one not closed cleanly
        for (int i = 0; i < rows; i++)
            await store.UpsertIfNewerAsync(EntryKind.Sts, $"d{i}.example", new string('j', 400), DateTimeOffset.UtcNow.AddDays(1),
                DateTimeOffset.UtcNow, CancellationToken.None);
    }

    [Fact]
    public async Task A_clean_close_leaves_a_mark_that_the_next_open_consumes()
    {
        await FillAsync(3);
        Assert.True(File.Exists(CleanCloseMark.PathFor(Cache)));
        Assert.False(File.Exists(Cache + "-wal")); // the last close checkpointed: the mark describes the whole state
        await using (var store = SqliteEntryStore.Open(Cache, NullLogger.Instance))
        {
            Assert.False(store.IntegrityChecked);
            Assert.False(File.Exists(CleanCloseMark.PathFor(Cache))); // a crash from here on means a check next time
            Assert.NotNull(await store.GetAsync(EntryKind.Sts, "d1.example", CancellationToken.None));
        }
        Assert.True(File.Exists(CleanCloseMark.PathFor(Cache)));
        // An open that is never closed (the process died) consumed the mark: the next open checks.
        var crashed = SqliteEntryStore.Open(Cache, NullLogger.Instance);
        Assert.False(crashed.IntegrityChecked);
        await using (var reopened = SqliteEntryStore.Open(Cache, NullLogger.Instance))
            Assert.True(reopened.IntegrityChecked);
        await crashed.DisposeAsync();
    }

    [Fact]
    public void The_mark_matches_only_the_file_as_it_was_closed()
    {
        File.WriteAllText(Cache, "state one");
        CleanCloseMark.Write(Cache);
        Assert.True(CleanCloseMark.Consume(Cache));
        Assert.False(CleanCloseMark.Consume(Cache)); // consumed: a second open checks

        CleanCloseMark.Write(Cache);
        File.WriteAllText(Cache, "state two"); // same length, written later
        File.SetLastWriteTimeUtc(Cache, File.GetLastWriteTimeUtc(Cache).AddSeconds(1));
        Assert.False(CleanCloseMark.Consume(Cache));

        CleanCloseMark.Write(Cache);
        File.WriteAllText(Cache + "-wal", "frames"); // a WAL that appeared since the close
        Assert.False(CleanCloseMark.Consume(Cache));
    }

    [Fact]
    public async Task Pages_damaged_after_a_clean_close_are_still_found_and_the_file_moved_aside()
    {
        await FillAsync(200);
        Assert.True(File.Exists(CleanCloseMark.PathFor(Cache)));
        // Damage a page in the middle of the table (not the header: that alone would fail the open).
        await using (var f = new FileStream(Cache, FileMode.Open, FileAccess.Write))
        {
            f.Seek(f.Length / 2, SeekOrigin.Begin);
            f.Write(new byte[4096].Select(_ => (byte)0xA5).ToArray());
        }
        await using (var store = SqliteEntryStore.Open(Cache, NullLogger.Instance))
            Assert.Null(await store.GetAsync(EntryKind.Sts, "d1.example", CancellationToken.None)); // a new, empty cache
        Assert.Single(Directory.GetFiles(_dir, "cache.db.corrupt-*"));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, true);
    }
}
