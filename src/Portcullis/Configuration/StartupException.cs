namespace Portcullis.Configuration;

/// <summary>
/// A start-up failure the administrator can fix (a path, a permission, an address in use): printed as one
/// line, no stack trace, and the process exits with <see cref="ExitCode"/> (see <see cref="ExitCodes"/>).
/// </summary>
public sealed class StartupException(string message, int exitCode) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>Exit codes of Portcullis commands, from sysexits.h (documented in README, "Exit codes").</summary>
public static class ExitCodes
{
    /// <summary>EX_UNAVAILABLE: an address or socket is in use by another process (e.g. a running daemon).</summary>
    public const int Unavailable = 69;
    /// <summary>EX_CANTCREAT: a file, directory or socket cannot be created where configured (e.g. something else is there).</summary>
    public const int CantCreate = 73;
    /// <summary>EX_IOERR: a store could not be opened or written for another I/O reason.</summary>
    public const int IoError = 74;
    /// <summary>EX_NOPERM: permission denied or a read-only file system.</summary>
    public const int NoPermission = 77;
    /// <summary>EX_CONFIG: an error in the configuration.</summary>
    public const int Config = 78;
}
