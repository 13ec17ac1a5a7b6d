using System.Net.Sockets;
using Portcullis.Configuration;

namespace Portcullis.Hosting;

/// <summary>
/// Prepares the paths of the daemon's unix sockets before anything binds: a stale socket from an earlier run
/// is removed, but a socket a live process still answers on, or anything that is not a socket (a config file,
/// a database, a directory, a symbolic link), is never touched: start-up stops with one line naming it.
/// </summary>
public static class UnixSocketFiles
{
    /// <summary>How long a probe waits for a connect (a live daemon with a full backlog may not accept at once).</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Umask while the daemon binds its sockets: they are created 0600 and widened to
    /// socket_permissions only afterwards, so no socket is ever more open than configured.</summary>
    public const UnixFileMode BindUmask = (UnixFileMode)0b001_111_111; // 0177

    private const int SolSocket = 1, SoPeerCred = 17;

    /// <param name="what">The configuration key, for the error message (e.g. "listen", "tlsrpt.collect_socket").</param>
    /// <param name="directoryMode">Mode of a directory created for the socket; default 0777 less the umask (Postfix must reach it).</param>
    public static async Task PrepareAsync(string path, SocketType type, string what, CancellationToken ct, UnixFileMode? directoryMode = null)
    {
        var kind = Posix.Kind(path);
        if (kind == FileKind.Missing)
        {
            string dir = Path.GetDirectoryName(path)!;
            if (directoryMode is { } mode)
                Directory.CreateDirectory(dir, mode);
            else
                Directory.CreateDirectory(dir);
            return;
        }
        if (kind != FileKind.Socket)
        {
            throw new StartupException($"{what}: {path} exists and is {Posix.Describe(kind)}, not a socket; refusing to replace it "
                + "(move it away or configure another path)", ExitCodes.CantCreate);
        }
        if (await ProbeAsync(path, type, ct) is { } owner)
        {
            throw new StartupException($"{what}: {path} is in use by {owner}; refusing to take it over "
                + "(stop that daemon, or give this one other socket paths)", ExitCodes.Unavailable);
        }
        File.Delete(path); // a stale socket: nobody answers on it
    }

    /// <summary>Who answers on the socket (e.g. "another running daemon (pid 42)"), or null when nobody does.</summary>
    private static async Task<string?> ProbeAsync(string path, SocketType type, CancellationToken ct)
    {
        using var probe = new Socket(AddressFamily.Unix, type, ProtocolType.Unspecified);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(ProbeTimeout);
        try
        {
            // A datagram connect succeeds only while a socket is bound to the path; nothing is sent.
            await probe.ConnectAsync(new UnixDomainSocketEndPoint(path), timeout.Token);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return null;
        }
        catch (SocketException ex)
        {
            throw new StartupException($"cannot check whether {path} is in use: {ex.Message}", ExitCodes.NoPermission);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return "another running process (it did not accept within the probe timeout)";
        }
        int pid = type == SocketType.Stream ? PeerPid(probe) : 0;
        return pid > 0 ? $"another running daemon (pid {pid})" : "another running daemon";
    }

    // SO_PEERCRED: struct ucred { pid_t pid; uid_t uid; gid_t gid; }
    private static int PeerPid(Socket socket)
    {
        byte[] cred = new byte[12];
        return socket.GetRawSocketOption(SolSocket, SoPeerCred, cred) == cred.Length ? BitConverter.ToInt32(cred, 0) : 0;
    }

    /// <summary>Sets the bind umask until disposed.</summary>
    public static IDisposable RestrictiveUmask() => new UmaskScope(Posix.SetUmask(BindUmask));

    private sealed class UmaskScope(UnixFileMode previous) : IDisposable
    {
        public void Dispose() => Posix.SetUmask(previous);
    }
}
