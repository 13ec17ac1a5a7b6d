using System.CommandLine;
using Portcullis.Configuration;

namespace Portcullis.Cli;

/// <summary>
/// The options several commands share, and the one way every command that reads the configuration runs:
/// read the file, apply the command line over it, validate once (all errors, exit 78), then run; a
/// <see cref="StartupException"/> becomes its one line and exit code.
/// </summary>
public static class CommonOptions
{
    public static Option<string?> Config() => new("--config", "-c")
    {
        Description = "YAML configuration file (every key has a default); default: " + ConfigLoader.DefaultFile +
            " if it exists, else the built-in defaults",
    };

    public static Option<string?> Dns() => new("--dns")
    {
        Description = "Validating resolver HOST[:PORT] (default: first nameserver in /etc/resolv.conf)",
    };

    public static Option<bool> Json(string description) => new("--json") { Description = description };

    /// <summary>A path given on the command line is relative to where it was typed, not to the configuration file.</summary>
    public static string FullPath(string path) => Path.GetFullPath(path);

    /// <summary>Adds the action: configuration from <paramref name="config"/> with <paramref name="overrides"/>, then <paramref name="run"/>.</summary>
    public static void SetRun(Command cmd, Option<string?> config, Action<ParseResult, PortcullisConfig> overrides,
        Func<ParseResult, Settings, CancellationToken, Task<int>> run) =>
        cmd.SetAction((parse, ct) => RunAsync(parse.GetValue(config), c => overrides(parse, c), s => run(parse, s, ct)));

    /// <summary><see cref="SetRun"/> for a command whose only override is <c>--dns</c>.</summary>
    public static void SetRun(Command cmd, Option<string?> config, Option<string?> dns,
        Func<ParseResult, Settings, CancellationToken, Task<int>> run) =>
        SetRun(cmd, config, (parse, c) =>
        {
            if (parse.GetValue(dns) is { } d)
                c.Dns.Server = d;
        }, run);

    public static async Task<int> RunAsync(string? path, Action<PortcullisConfig> overrides, Func<Settings, Task<int>> run)
    {
        Settings settings;
        try
        {
            // Command-line options replace file values before validation, so they can fix a bad one.
            path = ConfigLoader.ResolvePath(path);
            var config = ConfigLoader.Read(path);
            ConfigLoader.Override(config, overrides);
            settings = new Settings(ConfigLoader.Validate(config)) { ConfigFile = path };
        }
        catch (ConfigException ex)
        {
            foreach (string error in ex.Errors)
                await Console.Error.WriteLineAsync("portcullis: configuration error: " + error);
            return ExitCodes.Config;
        }
        try
        {
            return await run(settings);
        }
        catch (StartupException ex)
        {
            await Console.Error.WriteLineAsync("portcullis: " + ex.Message);
            return ex.ExitCode;
        }
    }
}
