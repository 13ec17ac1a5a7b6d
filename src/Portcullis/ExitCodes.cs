namespace Portcullis;

/// <summary>
/// Every exit status a Portcullis command returns, in one place (README, "exit status", lists the same
/// values; CommandLineDocsTests compares them). 0-2 are the commands' own answers; 64 and up are from
/// sysexits.h so that systemd and scripts can tell a usage error from a configuration or I/O one.
/// </summary>
public static class ExitCodes
{
    /// <summary>Success (<c>query</c>: a policy applies).</summary>
    public const int Ok = 0;
    /// <summary><c>query</c>: no policy; <c>check</c>/<c>doctor</c>: a failure found; otherwise something failed (said on stderr).</summary>
    public const int Failed = 1;
    /// <summary><c>query</c>: temporary failure (Postfix would get TEMP).</summary>
    public const int Temporary = 2;
    /// <summary>EX_USAGE: an argument or option value of the wrong form (not a domain name, not a date).</summary>
    public const int Usage = 64;
    /// <summary>EX_DATAERR: a file has the wrong content (a certificate file that is not PEM).</summary>
    public const int DataError = 65;
    /// <summary>EX_NOINPUT: a configured input file does not exist.</summary>
    public const int NoInput = 66;
    /// <summary>EX_UNAVAILABLE: an address or socket is in use by another process (e.g. a running daemon).</summary>
    public const int Unavailable = 69;
    /// <summary>EX_CANTCREAT: a file, directory or socket cannot be created where configured (e.g. something else is there).</summary>
    public const int CantCreate = 73;
    /// <summary>EX_IOERR: a store or file could not be opened, read or written for another I/O reason.</summary>
    public const int IoError = 74;
    /// <summary>EX_NOPERM: permission denied or a read-only file system.</summary>
    public const int NoPermission = 77;
    /// <summary>EX_CONFIG: an error in the configuration.</summary>
    public const int Config = 78;

    /// <summary>All of the above, for the README check.</summary>
    public static readonly IReadOnlyList<int> All = [Ok, Failed, Temporary, Usage, DataError, NoInput, Unavailable, CantCreate, IoError, NoPermission, Config];
}
