using System.Security.Cryptography;
using System.Text;
using Portcullis.Core.MtaSts;

namespace Portcullis.Core.Publishing;

/// <summary>
/// A domain's own MTA-STS policy as Portcullis publishes it: the exact file served at
/// <c>/.well-known/mta-sts.txt</c> (CRLF line endings, RFC 8461 §3.2) and the TXT id derived from
/// that text, so the id changes exactly when the policy does and can never be forgotten.
/// </summary>
public sealed record PublishedPolicy(string Domain, StsMode Mode, IReadOnlyList<string> Mx, long MaxAge)
{
    public string Text
    {
        get
        {
            var sb = new StringBuilder("version: STSv1\r\n");
            sb.Append("mode: ").Append(StsModeNames.ToWire(Mode)).Append("\r\n");
            foreach (string mx in Mx)
                sb.Append("mx: ").Append(mx).Append("\r\n");
            sb.Append("max_age: ").Append(MaxAge).Append("\r\n");
            return sb.ToString();
        }
    }

    /// <summary>20 hex digits of SHA-256 over the policy text: within the 1–32 alphanumerics allowed.</summary>
    public string Id => Convert.ToHexString(SHA256.HashData(Encoding.ASCII.GetBytes(Text)))[..20].ToLowerInvariant();

    public string TxtRecord => $"v=STSv1; id={Id}";

    /// <summary>Checks the policy with the same parser senders use; null when valid.</summary>
    public string? Validate() => StsPolicyParser.Parse(Encoding.ASCII.GetBytes(Text)).Error;
}
