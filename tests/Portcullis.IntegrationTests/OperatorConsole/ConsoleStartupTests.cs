using System.Net;
using System.Net.Sockets;
using Portcullis.Testing.Harness;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests.OperatorConsole;

/// <summary>The console's credential files and its unix socket listener, with the real daemon.</summary>
public sealed class ConsoleStartupTests : IDisposable
{
    private static readonly IPEndPoint NoResolver = new(IPAddress.Loopback, 9);
    private readonly TempDir _dir = new("console-start");
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromMinutes(3)).Token;

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("token_file: missing.token", "console.token_file: cannot read")]
    [InlineData("token_file: empty.token", "is empty; it must hold the token on its first line")]
    [InlineData("password_file: nocolon.passwd", "must hold USER:PASSWORD on its first line")]
    public async Task A_bad_credential_file_stops_the_start_with_one_line(string key, string message)
    {
        await File.WriteAllTextAsync(_dir.File("empty.token"), "\n", _ct);
        await File.WriteAllTextAsync(_dir.File("nocolon.passwd"), "justapassword\n", _ct);
        string config = _dir.File("c.yaml");
        await File.WriteAllTextAsync(config, $"data_dir: {_dir.Path}\nconsole:\n  listen: [\"127.0.0.1:{FreePort.Tcp()}\"]\n  {key}\n", _ct);
        var (code, stdout, stderr) = await DaemonProcess.RunCliAsync(new Dictionary<string, string>(),
            ["serve", "--config", config, "--dns", NoResolver.ToString(), "--listen", $"127.0.0.1:{FreePort.Tcp()}"], _ct);
        Assert.Equal(78, code);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(message, line);
        Assert.DoesNotContain("   at ", stderr + stdout); // no stack trace
    }

    [Fact]
    public async Task On_a_unix_socket_the_console_is_private_to_the_daemons_user_and_takes_basic_credentials()
    {
        string socket = _dir.File("console.sock");
        await File.WriteAllTextAsync(_dir.File("console.passwd"), "admin:correct horse\n", _ct);
        string yaml = $"data_dir: {_dir.Path}\nconsole:\n  listen: [\"unix:{socket}\"]\n  password_file: console.passwd\n";
        await using var daemon = await DaemonProcess.StartAsync(NoResolver, new Dictionary<string, string>(), _dir.File("cache.db"), yaml, _ct);
        Assert.True(await daemon.WaitForOutputAsync("operator console on unix:"), daemon.Output);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(socket));
        using var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), ct);
                return new NetworkStream(s, ownsSocket: true);
            },
        }) { Timeout = TimeSpan.FromSeconds(60) };
        // Through ssh -L or a local proxy the Host is whatever the client says; a unix socket has no name to rebind.
        using (var refused = await http.GetAsync("http://console.example/api/overview", _ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Contains("Basic", refused.Headers.WwwAuthenticate.ToString());
        }
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://console.example/api/overview");
        request.Headers.Authorization = new("Basic", Convert.ToBase64String("admin:correct horse"u8.ToArray()));
        using var ok = await http.SendAsync(request, _ct);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Contains("\"resolver\":", await ok.Content.ReadAsStringAsync(_ct));
    }
}
