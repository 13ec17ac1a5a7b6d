namespace Portcullis.Configuration;

/// <summary>
/// Reading, overriding and validating the configuration (value parsers in ConfigLoader.Values.cs; the rules, by
/// section, in ServiceRules, PolicyRules, TlsRptRules, PublishRules and RolloutRules).
/// </summary>
public static partial class ConfigLoader
{
    /// <summary>Read when no --config is given, if it exists (the Debian package's conffile).</summary>
    public const string DefaultFile = "/etc/portcullis/portcullis.yml";

    /// <summary>The file a command reads: the one given, else <see cref="DefaultFile"/> if it exists, else none (defaults).</summary>
    public static string? ResolvePath(string? given, string defaultFile = DefaultFile) =>
        given ?? (File.Exists(defaultFile) ? defaultFile : null);

    /// <summary>Reads and validates a file (null: the defaults).</summary>
    public static PortcullisConfig Load(string? path) => Validate(Read(path));

    /// <summary>
    /// Reads a file without validating it, so command-line options can replace values before
    /// <see cref="Validate"/> runs. Throws every type error and unknown key at once.
    /// </summary>
    public static PortcullisConfig Read(string? path)
    {
        if (path is null)
            return new PortcullisConfig();
        if (!File.Exists(path))
            throw new ConfigException($"config file {path} does not exist");
        return ConfigReader.Read(path);
    }

    /// <summary>
    /// Applies command-line options to a read file and remembers which keys they replaced, so a
    /// validation error about such a key does not point at the file.
    /// </summary>
    public static void Override(PortcullisConfig c, Action<PortcullisConfig> overrides)
    {
        (string, string)[] Snapshot() =>
        [
            ("listen", string.Join('\n', c.Listen)), ("dns.server", c.Dns.Server), ("cache.path", c.Cache.Path),
            ("publish.listen", string.Join('\n', c.Publish.Listen)),
        ];
        var before = Snapshot();
        overrides(c);
        if (ConfigReader.Sources.TryGetValue(c, out var source))
        {
            foreach (var ((key, was), (_, now)) in before.Zip(Snapshot()))
            {
                if (was != now)
                    source.Overridden.Add(key);
            }
        }
    }

    /// <summary>Checks every rule and throws all violations at once (each with file:line when the key is in the file).</summary>
    public static PortcullisConfig Validate(PortcullisConfig c)
    {
        var errors = new ConfigErrors();
        ServiceRules.Validate(c, errors);
        PolicyRules.Validate(c, errors);
        TlsRptRules.Validate(c, errors);
        PublishRules.Validate(c, errors);
        RolloutRules.Validate(c, errors.Err);
        if (!Enum.TryParse<Microsoft.Extensions.Logging.LogLevel>(c.LogLevel, true, out _))
            errors.Err($"log_level: '{c.LogLevel}' is not trace, debug, information, warning or error");
        var all = Located(c, errors.List);
        if (all.Count > 0)
            throw new ConfigException(all);
        return c;
    }

    /// <summary>Prefixes "file:line: " to errors about keys that are in the file and were not replaced on the command line.</summary>
    private static List<string> Located(PortcullisConfig c, List<string> errors)
    {
        if (!ConfigReader.Sources.TryGetValue(c, out var source))
            return errors;
        // A value that could not be read stands in as a placeholder: its rule violation would only repeat it.
        var unread = source.ReadErrors.Select(r => r.Key).ToHashSet();
        return [.. source.ReadErrors.Where(r => !source.Overridden.Contains(r.Key)).Select(r => r.Text), .. errors.Select(e =>
        {
            string key = e.Split(':', 2)[0];
            return (Key: key, Text: !key.Contains(' ', StringComparison.Ordinal) && !source.Overridden.Contains(key) && source.KeyLines.TryGetValue(key, out int line)
                ? $"{source.Path}:{line}: {e}"
                : e);
        }).Where(e => !unread.Contains(e.Key)).Select(e => e.Text)];
    }
}
