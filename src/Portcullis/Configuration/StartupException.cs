namespace Portcullis.Configuration;

/// <summary>
/// A start-up failure the administrator can fix (a path, a permission, an address in use): printed as one
/// line, no stack trace, and the process exits with <see cref="ExitCode"/> (see <see cref="ExitCodes"/>).
/// </summary>
public sealed class StartupException(string message, int exitCode) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
