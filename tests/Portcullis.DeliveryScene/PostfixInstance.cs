using System.Net.Sockets;
using System.Text;
using Portcullis.Testing.World;

namespace Portcullis.DeliveryScene;

/// <summary>
/// A complete Postfix with its own config directory, queue and log file, listening for submissions
/// on 127.0.0.1:2525 and delivering with DANE and the Portcullis socketmap.
/// </summary>
public sealed class PostfixInstance : IAsyncDisposable
{
    private readonly string _dir;

    private PostfixInstance(string dir) => _dir = dir;

    public string LogFile => Path.Combine(_dir, "maillog");

    public string Log => File.Exists(LogFile) ? File.ReadAllText(LogFile) : "";

    public static async Task<PostfixInstance> StartAsync(string dir, int socketmapPort, string caFile, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.Combine(dir, "queue"));
        Directory.CreateDirectory(Path.Combine(dir, "data"));
        await ChildProcess.RunCheckedAsync(TestBinaries.Require("chown"), ["postfix", Path.Combine(dir, "data")], ct: ct);
        await File.WriteAllTextAsync(Path.Combine(dir, "main.cf"), $"""
            compatibility_level = 3.6
            queue_directory = {dir}/queue
            data_directory = {dir}/data
            maillog_file = {dir}/maillog
            maillog_file_prefixes = {dir}
            mail_owner = postfix
            setgid_group = postdrop
            myhostname = sender.invalid
            mydomain = invalid
            mydestination =
            relayhost =
            inet_interfaces = 127.0.0.1
            inet_protocols = ipv4
            mynetworks = 127.0.0.0/8
            smtpd_relay_restrictions = permit_mynetworks, reject
            smtp_dns_support_level = dnssec
            smtp_tls_security_level = dane
            smtp_tls_policy_maps = socketmap:inet:127.0.0.1:{socketmapPort}:QUERY
            smtp_tls_CAfile = {caFile}
            smtp_tls_loglevel = 1
            smtp_connect_timeout = 5s
            smtp_address_preference = ipv4
            maximal_queue_lifetime = 1h
            bounce_queue_lifetime = 1h
            """, ct);
        await File.WriteAllTextAsync(Path.Combine(dir, "master.cf"), """
            127.0.0.1:2525 inet n - n - - smtpd
            pickup    unix n - n 60 1 pickup
            cleanup   unix n - n - 0 cleanup
            qmgr      unix n - n 300 1 qmgr
            rewrite   unix - - n - - trivial-rewrite
            bounce    unix - - n - 0 bounce
            defer     unix - - n - 0 bounce
            trace     unix - - n - 0 bounce
            verify    unix - - n - 1 verify
            flush     unix n - n 1000 0 flush
            proxymap  unix - - n - - proxymap
            smtp      unix - - n - - smtp
            relay     unix - - n - - smtp
            showq     unix n - n - - showq
            error     unix - - n - - error
            retry     unix - - n - - error
            discard   unix - - n - - discard
            tlsmgr    unix - - n 1000 1 tlsmgr
            scache    unix - - n - 1 scache
            anvil     unix - - n - 1 anvil
            postlog   unix-dgram n - n - 1 postlogd
            """, ct);
        var (exit, stdout, stderr) = await ChildProcess.RunAsync(TestBinaries.Require("postfix"), ["-c", dir, "start"], dir, ct: ct);
        var pf = new PostfixInstance(dir);
        if (await FreePort.WaitUntilListeningAsync(2525, 100, ct))
            return pf;
        throw new InvalidOperationException($"postfix did not start (exit {exit}): {stdout}{stderr}\n{pf.Log}");
    }

    /// <summary>Submits one message over SMTP and returns Postfix's queue id.</summary>
    public static async Task<string> SubmitAsync(string recipient, CancellationToken ct)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", 2525, ct);
        var stream = tcp.GetStream();
        var reader = new StreamReader(stream, Encoding.ASCII);
        async Task<string> Reply()
        {
            string line;
            do
                line = await reader.ReadLineAsync(ct) ?? throw new IOException("smtpd closed");
            while (line.Length > 3 && line[3] == '-');
            return line;
        }
        async Task<string> Cmd(string c)
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(c + "\r\n"), ct);
            return await Reply();
        }
        await Reply();
        await Cmd("EHLO submitter.invalid");
        await Cmd("MAIL FROM:<sender@sender.invalid>");
        string rcpt = await Cmd($"RCPT TO:<{recipient}>");
        if (!rcpt.StartsWith('2'))
            throw new InvalidOperationException($"RCPT {recipient}: {rcpt}");
        await Cmd("DATA");
        string queued = await Cmd($"Subject: test to {recipient}\r\n\r\nhello\r\n.");
        await Cmd("QUIT");
        // "250 2.0.0 Ok: queued as 4Xyz"
        return queued[(queued.LastIndexOf(' ') + 1)..];
    }

    public async ValueTask DisposeAsync()
    {
        await ChildProcess.RunAsync(TestBinaries.Require("postfix"), ["-c", _dir, "stop"], _dir);
        for (int i = 0; i < 50 && File.Exists(Path.Combine(_dir, "data", "master.lock")) && MasterRunning(); i++)
            await Task.Delay(100);
    }

    private bool MasterRunning()
    {
        string pidFile = Path.Combine(_dir, "queue", "pid", "master.pid");
        return File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out int pid) && Directory.Exists($"/proc/{pid}");
    }
}
