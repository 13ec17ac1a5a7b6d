using Portcullis.Core.Protocol;

namespace Portcullis.Hosting.Control;

/// <summary>
/// The control socket's protocol, shared by the daemon (<see cref="ControlConnectionHandler"/>) and the
/// <c>cache</c>/<c>query</c> client: one line in (<c>list</c>, <c>show DOMAIN</c>, <c>purge [DOMAIN]</c>), one JSON
/// document out (<see cref="ControlJson"/>). Both ends name domains the same way: the A-label form of a plain domain.
/// </summary>
public static class ControlProtocol
{
    /// <summary>A longer command line is not answered.</summary>
    public const int MaxCommandBytes = 1024;

    public const string List = "list", Show = "show", Purge = "purge";

    public static string ShowCommand(string domain) => Show + " " + domain;

    public static string PurgeCommand(string? domain) => domain is null ? Purge : Purge + " " + domain;

    /// <summary>The canonical domain a key names (<see cref="Core.Names.DomainName"/>), or null when it is none (an address, a [host], a port, bad syntax).</summary>
    public static string? NormalizeDomain(string key) =>
        Core.Names.DomainName.TryParse(key, out var name) ? name.Value : null;

    /// <summary>A command line as its verb and normalised argument (null when absent or not a domain).</summary>
    public static (string? Verb, string? Domain) Parse(string line)
    {
        var parts = line.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries);
        return (parts.FirstOrDefault(), parts.Length > 1 ? NormalizeDomain(parts[1]) : null);
    }
}
