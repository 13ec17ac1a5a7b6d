using System.CommandLine;
using System.CommandLine.Help;
using System.Text.RegularExpressions;

namespace Portcullis.Tests.Cli;

/// <summary>README's command table and the System.CommandLine parser describe the same commands and options.</summary>
public sealed partial class CommandLineDocsTests
{
    private static string Readme()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string path = Path.Combine(dir.FullName, "README.md");
            if (File.Exists(path) && File.Exists(Path.Combine(dir.FullName, "Portcullis.slnx")))
                return File.ReadAllText(path);
        }
        throw new FileNotFoundException("README.md above " + AppContext.BaseDirectory);
    }

    /// <summary>"cache purge" → {"--config", "--cache"} from the table under "## Commands".</summary>
    private static Dictionary<string, SortedSet<string>> Documented()
    {
        string readme = Readme();
        int start = readme.IndexOf("## Commands", StringComparison.Ordinal);
        string section = readme[start..readme.IndexOf("\n## ", start + 3, StringComparison.Ordinal)];
        var commands = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (Match row in TableRow().Matches(section))
        {
            string usage = row.Groups[1].Value;
            // The command path: the leading lower-case words, before any argument or option.
            string path = string.Join(' ', usage.Split(' ').TakeWhile(w => CommandWord().IsMatch(w)));
            Assert.True(path.Length > 0, "no command in README row: " + usage);
            Assert.True(commands.TryAdd(path, [.. OptionName().Matches(usage).Select(m => m.Value)]), "README lists twice: " + path);
        }
        return commands;
    }

    /// <summary>Every leaf command of the parser with its own options (not the built-in --help/--version).</summary>
    private static Dictionary<string, SortedSet<string>> Parsed()
    {
        var commands = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        void Walk(Command c, string path)
        {
            if (c.Subcommands.Count == 0)
                commands[path] = [.. c.Options.Where(o => o is not HelpOption and not VersionOption).Select(o => o.Name)];
            foreach (var sub in c.Subcommands)
                Walk(sub, path.Length == 0 ? sub.Name : path + " " + sub.Name);
        }
        Walk(Program.BuildRoot(), "");
        return commands;
    }

    [Fact]
    public void Readme_and_parser_have_the_same_commands()
    {
        var documented = Documented();
        var parsed = Parsed();
        Assert.Equal(parsed.Keys.Order(StringComparer.Ordinal), documented.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Readme_and_parser_have_the_same_options_for_each_command()
    {
        var documented = Documented();
        foreach (var (command, options) in Parsed())
        {
            Assert.True(documented.TryGetValue(command, out var listed), $"README does not list `{command}`");
            Assert.True(options.SetEquals(listed!),
                $"`{command}`: parser has {string.Join(" ", options)}; README has {string.Join(" ", listed!)}");
        }
    }

    [Fact]
    public void Readme_exit_status_table_lists_exactly_the_named_exit_codes()
    {
        string readme = Readme();
        int start = readme.IndexOf("| exit status | meaning |", StringComparison.Ordinal);
        Assert.True(start >= 0, "README has no exit status table");
        string table = readme[start..readme.IndexOf("\n\n", start, StringComparison.Ordinal)];
        var documented = ExitRow().Matches(table).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(ExitCodes.All.Order(), documented.Order());
        Assert.Equal(documented.Count, documented.Distinct().Count());
    }

    [GeneratedRegex(@"^\| (\d+) \|", RegexOptions.Multiline)]
    private static partial Regex ExitRow();

    [GeneratedRegex(@"^\| `([^`]+)` \|", RegexOptions.Multiline)]
    private static partial Regex TableRow();

    [GeneratedRegex(@"^[a-z][a-z-]*$")]
    private static partial Regex CommandWord();

    [GeneratedRegex(@"--[a-z][a-z-]*")]
    private static partial Regex OptionName();
}
