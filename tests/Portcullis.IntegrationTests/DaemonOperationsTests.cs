using System.Net;
using System.Net.Sockets;
using System.Text;
using Portcullis.Testing.Harness;

namespace Portcullis.IntegrationTests;

/// <summary>Start-up, configuration and listener behaviour of the real binary.</summary>
public sealed class DaemonOperationsTests : IDisposable
{
    private static readonly IPEndPoint NoResolver = new(IPAddress.Loopback, 9);
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-ops-").FullName;
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    [Fact]
    public async Task Unix_socket_listener_gets_the_configured_mode_and_answers()
    {
        string sock = Path.Combine(_dir, "portcullis.sock");
        string yaml = $"listen: [\"unix:{sock}\"]\nsocket_permissions: \"0640\"\n";
        await using var daemon = await DaemonProcess.StartAsync(NoResolver, new Dictionary<string, string>(),
            Path.Combine(_dir, "cache.db"), yaml, _ct, extraListen: false);
        for (int i = 0; i < 100 && !File.Exists(sock); i++)
            await Task.Delay(100, _ct);
        for (int i = 0; i < 50 && File.GetUnixFileMode(sock) != (UnixFileMode)0b110_100_000; i++)
            await Task.Delay(100, _ct);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(sock));

        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(sock), _ct);
        await socket.SendAsync(SocketmapClient.Frame("QUERY .example.com"), _ct);
        byte[] buffer = new byte[64];
        int n = await socket.ReceiveAsync(buffer, _ct);
        Assert.Equal("9:NOTFOUND ,", Encoding.ASCII.GetString(buffer, 0, n));
    }

    [Fact]
    public async Task A_corrupt_cache_file_is_moved_aside_and_the_daemon_serves()
    {
        string cache = Path.Combine(_dir, "cache.db");
        await File.WriteAllBytesAsync(cache, Encoding.ASCII.GetBytes(new string('x', 8192)), _ct);
        await using var daemon = await DaemonProcess.StartAsync(NoResolver, new Dictionary<string, string>(), cache, null, _ct);
        await using var client = await daemon.ConnectAsync(_ct);
        Assert.Equal("NOTFOUND ", await client.QueryAsync("QUERY", "[192.0.2.1]", _ct));
        Assert.Single(Directory.GetFiles(_dir, "cache.db.corrupt-*"));
        Assert.True(await daemon.WaitForOutputAsync("is unreadable"), daemon.Output);
    }

    [Fact]
    public async Task Overrides_answer_without_lookups_until_they_expire()
    {
        string yaml = """
            overrides:
              smarthost.example.net: { policy: "encrypt protocols=>=TLSv1.2" }
              Broken.Example.: { policy: none }
              old.example: { policy: encrypt, expires: 2020-01-01 }
            """;
        // The resolver address answers nothing: any lookup would end in a DNS timeout, not these answers.
        await using var daemon = await DaemonProcess.StartAsync(NoResolver, new Dictionary<string, string>(),
            Path.Combine(_dir, "cache.db"), yaml, _ct);
        await using var client = await daemon.ConnectAsync(_ct);
        Assert.Equal("OK encrypt protocols=>=TLSv1.2", await client.QueryAsync("QUERY", "smarthost.example.net", _ct));
        Assert.Equal("OK encrypt protocols=>=TLSv1.2", await client.QueryAsync("QUERY", "[smarthost.example.net]:587", _ct));
        Assert.Equal("OK none", await client.QueryAsync("QUERYwithTLSRPT", "broken.example", _ct));
        Assert.NotEqual("OK encrypt", await client.QueryAsync("QUERY", "old.example", _ct));
    }

    [Theory]
    [InlineData("overrides:\n  x.example: { policy: bogus }\n", "overrides.x.example.policy")]
    [InlineData("overrides:\n  \"[192.0.2.1]\": { policy: none }\n", "is not a domain name")]
    [InlineData("maps:\n  QUERY: { enforce_testing: true }\n", "is built in")]
    [InlineData("lisen: [\"127.0.0.1:1\"]\n", "unknown key 'lisen'")]
    [InlineData("dns:\n  sever: 127.0.0.1\n", "unknown key 'dns.sever'")] // named with its section
    [InlineData("mta_sts:\n  fetch_timeout_ms: 120000\n", "mta_sts.fetch_timeout_ms")]
    [InlineData("socket_permissions: \"rw\"\n", "socket_permissions")]
    public async Task Configuration_errors_name_the_key_and_exit_78(string yaml, string expected)
    {
        string cfg = Path.Combine(_dir, "bad.yaml");
        await File.WriteAllTextAsync(cfg, yaml, _ct);
        var (exit, _, stderr) = await DaemonProcess.RunCliAsync(new Dictionary<string, string>(), ["serve", "--config", cfg], _ct);
        Assert.Equal(78, exit);
        Assert.Contains(expected, stderr);
    }

    public void Dispose() => Directory.Delete(_dir, true);
}
