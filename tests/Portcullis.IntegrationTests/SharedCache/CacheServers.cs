using System.Net.Sockets;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests.SharedCache;

/// <summary>A private redis-server on 127.0.0.1, no persistence, stopped on dispose.</summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly ChildProcess _process;
    private readonly TempDir _dir;

    private RedisServer(ChildProcess process, TempDir dir, int port) => (_process, _dir, Port) = (process, dir, port);

    public int Port { get; }

    public string Configuration => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync()
    {
        var dir = new TempDir("redis");
        int port = FreePort.Tcp();
        var p = ChildProcess.Start(TestBinaries.Require("redis-server"),
            ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", dir.Path], dir.Path);
        await WaitForPortAsync(port, () => p.Output);
        return new RedisServer(p, dir, port);
    }

    internal static async Task WaitForPortAsync(int port, Func<string> log)
    {
        for (int i = 0; i < 300; i++)
        {
            try
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync("127.0.0.1", port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }
        throw new TimeoutException($"server on {port} did not start:\n{log()}");
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        _dir.Dispose();
    }
}

/// <summary>A throwaway PostgreSQL cluster (initdb, trust auth) on 127.0.0.1, run as the postgres user.</summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private const string Bin = "/usr/lib/postgresql/15/bin";
    private readonly ChildProcess _process;
    private readonly string _dir;

    private PostgresServer(ChildProcess process, string dir, int port) => (_process, _dir, Port) = (process, dir, port);

    public int Port { get; }

    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres";

    public static async Task<PostgresServer> StartAsync()
    {
        string initdb = TestBinaries.Require(Path.Combine(Bin, "initdb"));
        string dir = Path.Combine(Path.GetTempPath(), "portcullis-pg-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        await ChildProcess.RunCheckedAsync(TestBinaries.Require("chown"), ["postgres:postgres", dir]);
        await ChildProcess.RunCheckedAsync(TestBinaries.Require("runuser"), ["-u", "postgres", "--", initdb, "-D", dir + "/data", "-A", "trust", "-U", "postgres", "--no-sync"]);
        int port = FreePort.Tcp();
        var p = ChildProcess.Start(TestBinaries.Require("runuser"), ["-u", "postgres", "--", Path.Combine(Bin, "postgres"), "-D", dir + "/data",
            "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-k", dir, "-c", "listen_addresses=127.0.0.1",
            "-c", "fsync=off"], dir);
        await RedisServer.WaitForPortAsync(port, () => p.Output);
        return new PostgresServer(p, dir, port);
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync(); // kills runuser and the postmaster below it
        Directory.Delete(_dir, true);
    }
}
