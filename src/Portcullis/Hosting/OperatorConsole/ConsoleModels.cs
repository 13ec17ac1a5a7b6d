using System.Text.Json.Serialization;

namespace Portcullis.Hosting.OperatorConsole;

// The console's JSON API documents (README, "Operator console"); snake_case like the --json outputs.

public sealed record ResolverState(bool? Validates, string Trust, string Detail, DateTimeOffset? CheckedAt);

public sealed record Overview(DateTimeOffset Now, DateTimeOffset StartedAt, long UptimeSeconds, ResolverState Resolver, long CacheEntries,
    IReadOnlyList<WindowCount> Answers, IReadOnlyList<WindowCount> FetchFailures, IReadOnlyList<WindowCount> DnsFailures,
    IReadOnlyList<WindowCount> StoreFailures, IReadOnlyList<WindowCount> Refresh, IReadOnlyList<WindowCount> ReportsReceived);

/// <summary>One page of the cache list.</summary>
public sealed record CachePage(string Query, int Page, int PageSize, int Total, IReadOnlyList<Core.Caching.CacheItem> Items);

public sealed record PurgeResult(string Domain, int Purged);

public sealed record RefreshResult(string Domain, string Verdict, string Reason, string PostfixQuery);

public sealed record ReceivedDay(DateOnly Day, long Successful, long Failed);

public sealed record FailureType(string ResultType, long Sessions, IReadOnlyList<string> SendingIps);

/// <summary>One own domain's received TLS-RPT data: a value for every day from its first to its last report day.</summary>
public sealed record ReceivedDomain(string Domain, long Successful, long Failed, IReadOnlyList<string> PolicyTypes,
    IReadOnlyList<ReceivedDay> Days, IReadOnlyList<FailureType> FailureTypes, IReadOnlyList<string> Reporters);

public sealed record Received(DateOnly Since, bool Truncated, IReadOnlyList<ReceivedDomain> Domains);

public sealed record Sent(DateOnly Since, IReadOnlyList<Storage.Sessions.DeliveryRow> Deliveries);

public sealed record CertificateState(string File, DateTimeOffset? NotAfter, int? DaysLeft, string? Subject, string? Error);

/// <summary>Whether a domain is ready for <c>mode: enforce</c>, from whatever monitoring the daemon has.</summary>
public sealed record Readiness(bool Available, bool? Ready, string Detail);

public sealed record OwnDomain(string Domain, string Mode, IReadOnlyList<string> Mx, long MaxAge, string PolicyId,
    CertificateState? Certificate, Readiness Readiness);

public sealed record OwnDomains(IReadOnlyList<OwnDomain> Domains);

public sealed record ApiError(string Error);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = false,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(Overview))]
[JsonSerializable(typeof(CachePage))]
[JsonSerializable(typeof(Core.Caching.CacheItem))]
[JsonSerializable(typeof(PurgeResult))]
[JsonSerializable(typeof(RefreshResult))]
[JsonSerializable(typeof(Received))]
[JsonSerializable(typeof(Sent))]
[JsonSerializable(typeof(OwnDomains))]
[JsonSerializable(typeof(ApiError))]
internal sealed partial class ConsoleJson : JsonSerializerContext;
