using System.Text;
using Portcullis.Core.Checking;
using Portcullis.Core.Text;

namespace Portcullis.Checking;

public sealed partial class DomainChecker
{
    public static string Render(string domain, IReadOnlyList<CheckItem> items)
    {
        // Banners, EHLO lines, certificate subjects, TXT records and policy text come from the
        // network: every printed field is escaped so none can drive the terminal (issue 11).
        static string E(string? s) => TerminalText.Escape(s);
        var sb = new StringBuilder($"Transport security check for {E(domain)}\n");
        foreach (var group in items.GroupBy(i => i.Area))
        {
            sb.Append('\n').Append(E(group.Key)).Append('\n');
            foreach (var i in group)
            {
                sb.Append($"  [{i.Status.ToString().ToUpperInvariant(),-4}] {E(i.Title)}: {E(i.Detail)}\n");
                if (i.Fix is not null && i.Status is CheckStatus.Warn or CheckStatus.Fail)
                    sb.Append($"         fix: {E(i.Fix)}\n");
            }
        }
        sb.Append($"\n{items.Count(i => i.Status == CheckStatus.Pass)} passed, {items.Count(i => i.Status == CheckStatus.Warn)} warnings, {items.Count(i => i.Status == CheckStatus.Fail)} failures\n");
        return sb.ToString();
    }
}
