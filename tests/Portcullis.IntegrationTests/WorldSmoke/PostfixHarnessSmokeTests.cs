using System.Net;
using System.Net.Sockets;
using System.Text;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests.WorldSmoke;

/// <summary>Minimal socketmap server: replies per key prefix so postmap's handling of each reply type can be observed.</summary>
internal sealed class TrivialSocketmapServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public TrivialSocketmapServer(Func<string, string, string> reply)
    {
        _listener.Start();
        _loop = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    await using var s = client.GetStream();
                    while (await ReadNetstringAsync(s) is { } query)
                    {
                        var space = query.IndexOf(' ', StringComparison.Ordinal);
                        var r = Encoding.UTF8.GetBytes(reply(query[..space], query[(space + 1)..]));
                        await s.WriteAsync(Encoding.ASCII.GetBytes($"{r.Length}:").Concat(r).Append((byte)',').ToArray(), _stop.Token);
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException)
            {
            }
        });
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public List<string> Queries { get; } = [];

    private async Task<string?> ReadNetstringAsync(Stream s)
    {
        var len = 0;
        var one = new byte[1];
        while (true)
        {
            if (await s.ReadAsync(one, _stop.Token) == 0)
                return null;
            if (one[0] == ':')
                break;
            len = len * 10 + (one[0] - '0');
        }
        var buf = new byte[len + 1];
        await s.ReadExactlyAsync(buf, _stop.Token);
        var q = Encoding.UTF8.GetString(buf, 0, len);
        lock (Queries)
            Queries.Add(q);
        return q;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
        _stop.Dispose();
    }
}

public sealed class PostfixHarnessSmokeTests
{
    private static string Reply(string map, string key) => key.Split('.')[0] switch
    {
        "ok" => "OK secure match=a.example:.b.example servername=hostname",
        "temp" => "TEMP resolver down",
        "perm" => "PERM bad request",
        _ => "NOTFOUND ",
    };

    [Fact]
    public async Task Postmap_reports_socketmap_replies()
    {
        await using var server = new TrivialSocketmapServer(Reply);
        using var postfix = new PostfixHarness();
        var map = PostfixHarness.SocketmapInet(server.Port, "QUERY");

        var ok = await postfix.PostmapQueryAsync("ok.example", map);
        Assert.Equal((0, "secure match=a.example:.b.example servername=hostname\n", ""), ok);
        Assert.Contains("QUERY ok.example", server.Queries);

        Assert.Equal((1, "", ""), await postfix.PostmapQueryAsync("missing.example", map));

        var temp = await postfix.PostmapQueryAsync("temp.example", map);
        Assert.Equal((1, ""), (temp.ExitCode, temp.Stdout));
        Assert.Contains("socketmap server temporary error: resolver down", temp.Stderr, StringComparison.Ordinal);
        Assert.Contains("fatal:", temp.Stderr, StringComparison.Ordinal);

        var perm = await postfix.PostmapQueryAsync("perm.example", map);
        Assert.Equal((1, ""), (perm.ExitCode, perm.Stdout));
        Assert.Contains("socketmap server permanent error: bad request", perm.Stderr, StringComparison.Ordinal);
        Assert.Contains("fatal:", perm.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Postmap_fails_loudly_when_server_is_down()
    {
        using var postfix = new PostfixHarness();
        var r = await postfix.PostmapQueryAsync("x.example", PostfixHarness.SocketmapInet(FreePort.Tcp(), "QUERY"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("Connection refused", r.Stderr, StringComparison.Ordinal);
    }
}
