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
    private readonly byte[] _frames = Encoding.ASCII.GetBytes("26:QUERY mail.example.com.test,26:QUERY mail.example.com.test,");
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
        return n;
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
