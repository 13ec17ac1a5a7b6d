namespace Portcullis.Core.MtaSts;

/// <summary>Evidence from one policy fetch, for logs and the <c>query</c> explanation.</summary>
public sealed record FetchReport(FetchOutcome Outcome, string Url, int? StatusCode, string? ContentType, long BodyBytes,
    string? Body, TimeSpan Elapsed);

/// <summary>The policy-fetch port (HTTPS GET of <c>https://mta-sts.DOMAIN/.well-known/mta-sts.txt</c>); the host's
/// PolicyFetcher is the adapter. In Core so the use cases that fetch are testable without the host.</summary>
public interface IPolicyFetcher
{
    Task<FetchReport> FetchAsync(string domain, CancellationToken ct);
}
