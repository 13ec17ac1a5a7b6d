using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Policy;
using Portcullis.Core.Protocol;

BenchmarkSwitcher.FromAssembly(typeof(HotPath).Assembly).Run(args);

/// <summary>The per-request work of a cached answer, piece by piece, with allocations measured.</summary>
[MemoryDiagnoser]
public class HotPath
{
    private readonly byte[] _frames = Encoding.ASCII.GetBytes("27:QUERY mail.example.com.test,27:QUERY mail.example.com.test,");
    private readonly ArrayBufferWriter<byte> _out = new(4096);
    private PolicyAnswer _sts = null!;
    private readonly PolicyAnswer _dane = new(Verdict.DaneOnly, "cached");

    [GlobalSetup]
    public void Setup()
    {
        var policy = StsPolicyParser.Parse("version: STSv1\nmode: enforce\nmx: mx1.example.com\nmx: *.example.net\nmax_age: 86400\n"u8).Policy!;
        _sts = new PolicyAnswer(Verdict.StsEnforce, "cached") { Domain = "example.com", Policy = policy };
    }

    [Benchmark(Description = "netstring: parse 2 pipelined frames")]
    public int ParseFrames()
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(_frames));
        int n = 0;
        while (Netstring.TryRead(ref reader, Netstring.MaxRequestLength, out var payload, out _) == FrameStatus.Done)
            n += (int)payload.Length;
        // Both frames must parse, or this measures the error path.
        return n == 54 ? n : throw new InvalidOperationException($"parsed {n} bytes");
    }

    [Benchmark(Description = "request: split map name and key")]
    public int ParseRequest() => SocketmapRequest.TryParse("QUERY mail.example.com.test"u8, out var r, out _) ? r.Key.Length : 0;

    [Benchmark(Description = "render: dane-only reply")]
    public int RenderDane()
    {
        _out.ResetWrittenCount();
        AnswerRenderer.Render(_dane, false, RenderOptions.Default).WriteTo(_out);
        return _out.WrittenCount;
    }

    [Benchmark(Description = "render: secure match= reply")]
    public int RenderSecure()
    {
        _out.ResetWrittenCount();
        AnswerRenderer.Render(_sts, false, RenderOptions.Default).WriteTo(_out);
        return _out.WrittenCount;
    }

    [Benchmark(Description = "render: secure + TLSRPT attributes")]
    public int RenderSecureTlsRpt()
    {
        _out.ResetWrittenCount();
        AnswerRenderer.Render(_sts, true, RenderOptions.Default).WriteTo(_out);
        return _out.WrittenCount;
    }
}

/// <summary>
/// The whole cached path as the connection handler runs it: payload bytes in, reply bytes out, through
/// SocketmapService, its ReplyCache over PolicyMemory and the metrics. Entries are loaded once from the store.
/// </summary>
[MemoryDiagnoser]
public class CachedPath
{
    private readonly ArrayBufferWriter<byte> _out = new(4096);
    private Portcullis.Hosting.Socketmap.SocketmapService _service = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        var time = TimeProvider.System;
        var now = time.GetUtcNow();
        var store = Portcullis.Storage.PolicyStore.InMemory();
        var policy = StsPolicyParser.Parse("version: STSv1\nmode: enforce\nmx: mx1.example.com\nmx: *.example.net\nmax_age: 86400\n"u8).Policy!;
        await store.SetDaneAsync(new Portcullis.Core.Dane.DaneCacheEntry("sts.example", Portcullis.Core.Dane.DaneVerdict.None, "no TLSA", true,
            now.AddHours(1)) { UpdatedAt = now }, CancellationToken.None);
        await store.SetAsync(new StsCacheEntry
        {
            Domain = "sts.example", Policy = policy, PolicyId = "1", FetchedAt = now, PolicyExpiresAt = now.AddDays(1),
            TxtId = "1", TxtRecord = "v=STSv1; id=1", RecheckAt = now.AddHours(1), UpdatedAt = now,
        }, CancellationToken.None);
        await store.SetDaneAsync(new Portcullis.Core.Dane.DaneCacheEntry("dane.example", Portcullis.Core.Dane.DaneVerdict.DaneOnly, "TLSA 3 1 1",
            true, now.AddHours(1)) { UpdatedAt = now }, CancellationToken.None);
        // Never queried: every answer here comes from memory.
        var dns = new Portcullis.Dns.DnsClientResolver(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 9), TimeSpan.FromSeconds(1), 1);
        var metrics = new Portcullis.Observability.PortcullisMetrics();
        _ = new Portcullis.Observability.PrometheusExporter(); // metrics are recorded, as in the daemon
        var memory = new Portcullis.Resolution.PolicyMemory();
        var engine = new StsEngine(new StsOptions());
        var guarded = new Portcullis.Storage.GuardedPolicyStore(store, time,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<Portcullis.Storage.GuardedPolicyStore>.Instance, metrics);
        var resolver = new Portcullis.Resolution.PolicyResolver(dns, new Portcullis.Http.PolicyFetcher(dns, new Portcullis.Http.FetchLimits(), time),
            guarded, memory, engine, new Portcullis.Resolution.DaneResolver(dns, TimeSpan.FromSeconds(1)),
            new Portcullis.Dns.ResolverHealth(dns, time, Microsoft.Extensions.Logging.Abstractions.NullLogger<Portcullis.Dns.ResolverHealth>.Instance),
            time, Microsoft.Extensions.Logging.Abstractions.NullLogger<Portcullis.Resolution.PolicyResolver>.Instance);
        var settings = new Portcullis.Configuration.Settings(new Portcullis.Configuration.PortcullisConfig());
        var live = new Portcullis.Configuration.LiveSettings(settings, null,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<Portcullis.Configuration.LiveSettings>.Instance);
        _service = new Portcullis.Hosting.Socketmap.SocketmapService(resolver, new Portcullis.Hosting.Socketmap.ReplyCache(memory, engine, time), live, metrics, time,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<Portcullis.Hosting.Socketmap.SocketmapService>.Instance);
        foreach (string d in new[] { "sts.example", "dane.example" })
            await resolver.ResolveAsync(d, CancellationToken.None);
        if (Secure() == 0 || SecureTlsRpt() == 0 || DaneOnly() == 0)
            throw new InvalidOperationException("memory did not answer");
    }

    [Benchmark(Description = "cached secure: request bytes -> reply bytes")]
    public int Secure() => Answer("QUERY sts.example"u8);

    [Benchmark(Description = "cached secure + TLSRPT: request bytes -> reply bytes")]
    public int SecureTlsRpt() => Answer("QUERYwithTLSRPT sts.example"u8);

    [Benchmark(Description = "cached dane-only: request bytes -> reply bytes")]
    public int DaneOnly() => Answer("QUERY dane.example"u8);

    private int Answer(ReadOnlySpan<byte> payload)
    {
        _out.ResetWrittenCount();
        return _service.TryAnswerFromMemory(payload, _out) ? _out.WrittenCount : 0;
    }
}
