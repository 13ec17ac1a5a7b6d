using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Core.Caching;
using Portcullis.Configuration;
using Portcullis.Hosting;

namespace Portcullis.Tests.Hosting;

/// <summary>Path resolution, file types, socket path preparation and store opening, on the real file system.</summary>
public sealed class StartupPathsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-paths-").FullName;
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    [Theory]
    [InlineData("/srv/pc", "/var/lib/portcullis", "/", "/srv/pc")]
    [InlineData("state", null, "/home/admin", "/home/admin/state")]
    [InlineData("", "/var/lib/portcullis:/var/lib/other", "/", "/var/lib/portcullis")]
    [InlineData("", null, "/home/dev/portcullis", "/home/dev/portcullis/data")]
    [InlineData("", "", "/home/dev/portcullis", "/home/dev/portcullis/data")]
    public void Data_dir_is_the_option_else_the_state_directory_else_data(string configured, string? state, string cwd, string expected) =>
        Assert.Equal(expected, Settings.ResolveDataDir(configured, state, cwd));

    [Theory]
    [InlineData("", null, "/var/lib/portcullis")]              // the packaged binary run by the admin: the service's state
    [InlineData("", "/run/other-state", "/run/other-state")]   // under systemd, StateDirectory= wins
    [InlineData("/srv/pc", null, "/srv/pc")]                   // and the option wins over both
    public void The_packaged_binary_defaults_to_the_fhs_state_directory(string configured, string? state, string expected) =>
        Assert.Equal(expected, Settings.ResolveDataDir(configured, state, "/home/admin", installed: true));

    [Fact]
    public void Without_config_the_packaged_file_is_read_when_it_exists()
    {
        string packaged = Path.Combine(_dir, "portcullis.yml");
        Assert.Null(ConfigLoader.ResolvePath(null, packaged));
        Assert.Equal("/elsewhere.yml", ConfigLoader.ResolvePath("/elsewhere.yml", packaged));
        File.WriteAllText(packaged, "log_level: debug\n");
        Assert.Equal(packaged, ConfigLoader.ResolvePath(null, packaged));
        Assert.Equal("/elsewhere.yml", ConfigLoader.ResolvePath("/elsewhere.yml", packaged));
        Assert.Equal("/etc/portcullis/portcullis.yml", ConfigLoader.DefaultFile);
    }

    [Fact]
    public void Relative_paths_in_the_file_resolve_against_data_dir_absolute_ones_stay()
    {
        var config = new PortcullisConfig { DataDir = "/var/lib/portcullis" };
        config.Cache.Path = "cache/p.db";
        config.Tlsrpt.Database = "/srv/tlsrpt.db";
        var s = new Settings(config);
        Assert.Equal("/var/lib/portcullis/cache/p.db", s.CachePath);
        Assert.Equal("/srv/tlsrpt.db", s.TlsRptDatabase);
        Assert.Equal("/var/lib/portcullis/cache/p.sock", s.ControlSocket);
        config.ControlSocket = "run/ctl.sock";
        config.Cache.Path = "";
        config.Tlsrpt.Database = "";
        Assert.Equal("/var/lib/portcullis/run/ctl.sock", s.ControlSocket);
        Assert.Equal("/var/lib/portcullis/cache.db", s.CachePath);
        Assert.Equal("/var/lib/portcullis/tlsrpt.db", s.TlsRptDatabase);
    }

    [Fact]
    public void File_kinds_are_read_without_following_links()
    {
        string file = Path.Combine(_dir, "f"), dir = Path.Combine(_dir, "d"), link = Path.Combine(_dir, "l"), sock = Path.Combine(_dir, "s");
        File.WriteAllText(file, "x");
        Directory.CreateDirectory(dir);
        File.CreateSymbolicLink(link, dir);
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Bind(new UnixDomainSocketEndPoint(sock));
        Assert.Equal(FileKind.Regular, Posix.Kind(file));
        Assert.Equal(FileKind.Directory, Posix.Kind(dir));
        Assert.Equal(FileKind.SymbolicLink, Posix.Kind(link));
        Assert.Equal(FileKind.Socket, Posix.Kind(sock));
        Assert.Equal(FileKind.Missing, Posix.Kind(Path.Combine(_dir, "none")));
        Assert.Equal(FileKind.Missing, Posix.Kind(Path.Combine(file, "below-a-file")));
    }

    [Theory]
    [InlineData(SocketType.Stream)]
    [InlineData(SocketType.Dgram)]
    public async Task A_stale_socket_is_removed_a_live_one_refused(SocketType type)
    {
        string path = Path.Combine(_dir, "p.sock");
        using (var stale = new Socket(AddressFamily.Unix, type, ProtocolType.Unspecified))
            stale.Bind(new UnixDomainSocketEndPoint(path)); // closed: the file stays behind, nobody answers
        await UnixSocketFiles.PrepareAsync(path, type, "listen", _ct);
        Assert.Equal(FileKind.Missing, Posix.Kind(path));

        using var live = new Socket(AddressFamily.Unix, type, ProtocolType.Unspecified);
        live.Bind(new UnixDomainSocketEndPoint(path));
        if (type == SocketType.Stream)
            live.Listen();
        var ex = await Assert.ThrowsAsync<StartupException>(() => UnixSocketFiles.PrepareAsync(path, type, "listen", _ct));
        Assert.Equal(ExitCodes.Unavailable, ex.ExitCode);
        Assert.Contains(path, ex.Message);
        if (type == SocketType.Stream)
            Assert.Contains($"pid {Environment.ProcessId}", ex.Message);
        Assert.Equal(FileKind.Socket, Posix.Kind(path));
    }

    [Fact]
    public async Task Anything_but_a_socket_is_never_replaced()
    {
        string file = Path.Combine(_dir, "main.cf");
        File.WriteAllText(file, "keep");
        var ex = await Assert.ThrowsAsync<StartupException>(() => UnixSocketFiles.PrepareAsync(file, SocketType.Stream, "listen", _ct));
        Assert.Equal(ExitCodes.CantCreate, ex.ExitCode);
        Assert.Equal($"listen: {file} exists and is a regular file, not a socket; refusing to replace it (move it away or configure another path)", ex.Message);
        Assert.Equal("keep", File.ReadAllText(file));
        await Assert.ThrowsAsync<StartupException>(() => UnixSocketFiles.PrepareAsync(_dir, SocketType.Dgram, "tlsrpt.collect_socket", _ct));
        Assert.True(Directory.Exists(_dir));
    }

    [Fact]
    public void Kestrel_bind_failures_become_one_line()
    {
        var inUse = new IOException("Failed to bind to address http://127.0.0.1:8642: address already in use.",
            new Microsoft.AspNetCore.Connections.AddressInUseException("Address already in use"));
        var f = ListenFailure.From(inUse)!;
        Assert.Equal("cannot listen on 127.0.0.1:8642: address already in use", f.Message);
        Assert.Equal(ExitCodes.Unavailable, f.ExitCode);
        Assert.Null(ListenFailure.From(new IOException("disk full")));
    }

    [Fact]
    public void A_port_in_use_is_found_before_kestrel_binds()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var ep = (System.Net.IPEndPoint)taken.LocalEndpoint;
        var ex = Assert.Throws<StartupException>(() => ListenFailure.Probe([ep]));
        Assert.Equal($"cannot listen on {ep}: address already in use", ex.Message);
    }

    [Fact]
    public void Databases_are_created_owner_only_in_a_0750_directory()
    {
        string db = Path.Combine(_dir, "data", "cache.db");
        DataFiles.PrepareDatabase(db, "cache.path");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(db));
        Assert.Equal(UnixFileMode.None, File.GetUnixFileMode(Path.GetDirectoryName(db)!) & ~DataFiles.DirectoryMode); // nothing for others
        var ex = Assert.Throws<StartupException>(() => DataFiles.PrepareDatabase(_dir, "tlsrpt.database"));
        Assert.Equal(ExitCodes.CantCreate, ex.ExitCode);
        Assert.StartsWith($"tlsrpt.database: {_dir} is a directory", ex.Message);
    }

    [Theory]
    [InlineData("CREATE TABLE messages (id INTEGER, body TEXT)")]
    [InlineData("CREATE TABLE dane_cache (domain TEXT PRIMARY KEY, tlsa TEXT)")]
    [InlineData("CREATE TABLE sts_cache (domain TEXT PRIMARY KEY, entry TEXT NOT NULL, discard_after INTEGER NOT NULL)")]
    public async Task A_cache_with_another_schema_is_moved_aside(string sql)
    {
        string path = Path.Combine(_dir, "cache.db");
        using (var db = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = sql;
            cmd.ExecuteNonQuery();
        }
        await using (var store = Portcullis.Storage.PolicyStore.OpenSqlite(path, NullLogger.Instance))
            Assert.Empty(await store.ListAsync(_ct));
        Assert.Single(Directory.GetFiles(_dir, "cache.db.corrupt-*"));
    }

    [Fact]
    public async Task A_cache_from_an_older_version_without_dane_cache_is_kept()
    {
        string path = Path.Combine(_dir, "cache.db");
        using (var db = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = "CREATE TABLE sts_cache (domain TEXT PRIMARY KEY, entry TEXT NOT NULL, discard_after INTEGER NOT NULL, updated_at INTEGER NOT NULL DEFAULT 0)";
            cmd.ExecuteNonQuery();
        }
        await using (var store = Portcullis.Storage.PolicyStore.OpenSqlite(path, NullLogger.Instance))
            Assert.Empty(await store.ListDaneAsync(_ct));
        Assert.Empty(Directory.GetFiles(_dir, "cache.db.corrupt-*"));
    }

    public void Dispose() => Directory.Delete(_dir, true);
}
