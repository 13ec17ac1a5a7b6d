using System.Globalization;
using System.Text;

namespace Portcullis.Core.Text;

/// <summary>
/// Makes text that came from the network safe to print on a terminal: C0 controls, DEL and C1
/// controls (which include ESC and CSI, the start of every escape sequence) become visible
/// <c>\xNN</c> escapes, so a hostile banner cannot clear the screen, recolour it or set the title.
/// A backslash is doubled so an escape printed by us cannot be confused with one sent by the peer.
/// </summary>
public static class TerminalText
{
    public static bool IsControl(char c) => c < ' ' || c is >= '\u007f' and <= '\u009f';

    /// <summary>Escapes each line of a multi-line text, keeping its line breaks.</summary>
    public static string EscapeLines(string text) =>
        string.Join('\n', text.Split('\n').Select(l => Escape(l.EndsWith('\r') ? l[..^1] : l)));

    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return text ?? "";
        if (!text.Any(c => IsControl(c) || c == '\\'))
            return text;
        var sb = new StringBuilder(text.Length + 16);
        foreach (char c in text)
        {
            if (c == '\\')
                sb.Append(@"\\");
            else if (IsControl(c))
                sb.Append(@"\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
            else
                sb.Append(c);
        }
        return sb.ToString();
    }
}
