using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Portcullis.Testing.Harness;
using Portcullis.Testing.World;

namespace Portcullis.IntegrationTests;

/// <summary>
/// A hostile SMTP peer on IP:25: sends whatever <c>behave</c> writes, counting bytes and noting when
/// the client hung up. Used to attack the real `check` process (issue 11).
/// </summary>
public sealed class HostileSmtpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = LoopbackAllocator.Listen(25);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _sent;

    public HostileSmtpServer(Func<NetworkStream, CancellationToken, Task> behave)
    {
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync(_stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                _ = Task.Run(async () =>
                {
                    using var _ = client;
                    var started = Stopwatch.StartNew();
                    try
                    {
                        await behave(client.GetStream(), _stop.Token);
                    }
                    catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
                    {
                        // The client hung up: what we want to measure.
                    }
                    SessionTimes.Add(started.Elapsed);
                });
            }
        });
    }

    public string Address => ((System.Net.IPEndPoint)_listener.LocalEndpoint).Address.ToString();

    public long BytesSent => Interlocked.Read(ref _sent);

    /// <summary>How long each session lasted until the client closed it (or we finished).</summary>
    public System.Collections.Concurrent.ConcurrentBag<TimeSpan> SessionTimes { get; } = [];

    /// <summary>Writes <paramref name="chunk"/> until the client hangs up or <paramref name="cap"/> bytes went out.</summary>
    public async Task FloodAsync(Stream s, byte[] chunk, long cap, CancellationToken ct)
    {
        for (long n = 0; n < cap; n += chunk.Length)
        {
            await s.WriteAsync(chunk, ct);
            Interlocked.Add(ref _sent, chunk.Length);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
    }
}

public sealed class CheckHostilePeerFixture : IAsyncLifetime
{
    // Enough to show the cap works (an unbounded reader would hold all of it), small enough for a shared test machine.
    public const long FloodCap = 256L * 1024 * 1024;

    public HostileSmtpServer Flood { get; private set; } = null!;
    public HostileSmtpServer LongLine { get; private set; } = null!;
    public HostileSmtpServer Escapes { get; private set; } = null!;
    public DnsWorld Dns { get; private set; } = null!;

    public const string EscapeBanner = "554 \u001b[2J\u001b]0;pwned\u0007\u009b31mred go away";

    public async Task InitializeAsync()
    {
        Flood = new HostileSmtpServer(async (s, ct) =>
        {
            await s.WriteAsync("220 flood ESMTP\r\n"u8.ToArray(), ct);
            _ = await s.ReadAsync(new byte[512], ct); // EHLO
            var line = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("250-ENDLESS-EXTENSION\r\n", 2048)));
            await Flood.FloodAsync(s, line, FloodCap, ct);
        });
        LongLine = new HostileSmtpServer(async (s, ct) =>
        {
            await s.WriteAsync("220 "u8.ToArray(), ct);
            await LongLine.FloodAsync(s, Encoding.ASCII.GetBytes(new string('A', 64 * 1024)), FloodCap, ct);
        });
        Escapes = new HostileSmtpServer(async (s, ct) =>
        {
            await s.WriteAsync(Encoding.Latin1.GetBytes(EscapeBanner + "\r\n"), ct);
            _ = await s.ReadAsync(new byte[512], ct);
        });
        var w = new DnsWorldBuilder();
        w.Zone("hostile.test")
            .Mx("mx.flood.hostile.test.", owner: "flood").A("mx.flood", Flood.Address)
            .Mx("mx.long.hostile.test.", owner: "long").A("mx.long", LongLine.Address)
            .Mx("mx.esc.hostile.test.", owner: "esc").A("mx.esc", Escapes.Address)
            // ESC [ 2 J (clear screen) inside a TXT record that check prints when it passes.
            .Txt("_smtp._tls.esc", @"v=TLSRPTv1; rua=mailto:tls\027[2Jrpt@esc.hostile.test");
        Dns = await w.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Flood.DisposeAsync();
        await LongLine.DisposeAsync();
        await Escapes.DisposeAsync();
        await Dns.DisposeAsync();
    }
}

/// <summary>`check` against hostile MX hosts: bounded memory and time, a finding naming the violation, nothing raw on the terminal.</summary>
public sealed class CheckHostilePeerTests(CheckHostilePeerFixture world, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<CheckHostilePeerFixture>
{
    private readonly CancellationToken _ct = new CancellationTokenSource(TimeSpan.FromSeconds(120)).Token;

    /// <summary>Runs `check` and samples the process's peak RSS (VmHWM) while it runs.</summary>
    private async Task<(int Exit, string Stdout, long PeakRss, TimeSpan Elapsed)> RunCheckAsync(string domain, bool json = false)
    {
        var psi = new ProcessStartInfo(DaemonProcess.Command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in (string[])[.. DaemonProcess.Command.Skip(1), "check", domain, "--dns", world.Dns.ResolverEndpoint.ToString(), .. json ? ["--json"] : Array.Empty<string>()])
            psi.ArgumentList.Add(a);
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(_ct);
        var stderr = p.StandardError.ReadToEndAsync(_ct);
        long peak = 0;
        while (!p.HasExited)
        {
            try
            {
                foreach (string line in await File.ReadAllLinesAsync($"/proc/{p.Id}/status", _ct))
                {
                    if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                        peak = Math.Max(peak, 1024 * long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture));
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // exited between the check and the read
            }
            await Task.Delay(20, _ct);
        }
        await p.WaitForExitAsync(_ct);
        string err = await stderr;
        Assert.True(err.Length == 0, err);
        return (p.ExitCode, await stdout, peak, clock.Elapsed);
    }

    private const long RssBound = 400L * 1024 * 1024;

    [Theory]
    [InlineData("flood.hostile.test", "mx.flood.hostile.test", "reply has more than 100 lines")]
    [InlineData("long.hostile.test", "mx.long.hostile.test", "reply line longer than 512 octets")]
    public async Task A_flooding_mx_is_cut_off_with_a_finding_and_bounded_memory(string domain, string host, string violation)
    {
        var (exit, text, peak, elapsed) = await RunCheckAsync(domain);
        Assert.Equal(1, exit); // a failure finding: exit 1, as documented
        string finding = text.Split('\n').Single(l => l.Contains($"STARTTLS:", StringComparison.Ordinal));
        Assert.Contains("[FAIL]", finding);
        Assert.Contains("protocol violation: " + violation, finding);
        Assert.Contains(host, text);
        Assert.True(peak is > 0 and < RssBound, $"peak RSS {peak / 1048576} MiB");
        // The client hung up long before the flood ended, and far below the 15 s probe timeout:
        // the reader stopped at its cap, it was not merely timed out.
        var server = domain.StartsWith("flood", StringComparison.Ordinal) ? world.Flood : world.LongLine;
        Assert.True(server.BytesSent < CheckHostilePeerFixture.FloodCap / 4, $"{server.BytesSent} bytes sent");
        Assert.All(server.SessionTimes, t => Assert.True(t < TimeSpan.FromSeconds(10), $"session lasted {t}"));
        Assert.True(elapsed < TimeSpan.FromSeconds(60), $"check took {elapsed}");
        output.WriteLine($"{domain}: peak RSS {peak / 1048576} MiB, {elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task Control_characters_from_the_network_are_escaped_not_sent_to_the_terminal()
    {
        var (exit, text, _, _) = await RunCheckAsync("esc.hostile.test");
        Assert.Equal(1, exit);
        foreach (char c in text)
            Assert.False(c is < ' ' and not '\n' || c is >= '\u007f' and <= '\u009f', $"raw U+{(int)c:X4} in output:\n{text}");
        // The banner, visible and inert.
        Assert.Contains(@"greeting 554 \x1b[2J\x1b]0;pwned\x07\x9b31mred go away", text);
        Assert.Contains(@"mailto:tls\x1b[2Jrpt@esc.hostile.test", text); // from a TXT record
    }
}
