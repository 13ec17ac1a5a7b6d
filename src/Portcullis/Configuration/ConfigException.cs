namespace Portcullis.Configuration;

/// <summary>Configuration errors (all of them, one line each) with messages fit for the administrator.</summary>
public sealed class ConfigException : Exception
{
    public ConfigException(string message) : this([message])
    {
    }

    public ConfigException(IReadOnlyList<string> errors) : base(string.Join("\n", errors)) => Errors = errors;

    public IReadOnlyList<string> Errors { get; }
}
