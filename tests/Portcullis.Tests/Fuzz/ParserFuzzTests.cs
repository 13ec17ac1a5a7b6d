using System.Buffers;
using System.Text;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Protocol;
using Portcullis.Core.TlsRpt;
using Portcullis.Core.TlsRpt.Sending;

namespace Portcullis.Tests.Fuzz;

/// <summary>
/// Property tests: random and mutated input never makes a parser throw; every outcome is one of
/// its defined results. Seeds are fixed so a failure reproduces.
/// </summary>
public sealed class ParserFuzzTests
{
    private const int Iterations = 20_000;

    private static readonly string[] Seeds =
    [
        "17:QUERY example.com,",
        "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 86400\r\n",
        "v=STSv1; id=20240101T000000; ext=1",
        "[mail.example.com]:587",
        "bücher.example.",
    ];

    /// <summary>Flips, inserts, deletes and duplicates bytes of a seed, or makes pure noise.</summary>
    private static byte[] Mutate(Random rng, byte[] seed)
    {
        if (rng.Next(10) == 0)
        {
            var noise = new byte[rng.Next(0, 300)];
            rng.NextBytes(noise);
            return noise;
        }
        var b = new List<byte>(seed);
        int edits = rng.Next(1, 6);
        for (int i = 0; i < edits; i++)
        {
            int at = b.Count == 0 ? 0 : rng.Next(b.Count);
            switch (rng.Next(5))
            {
                case 0 when b.Count > 0: b[at] = (byte)rng.Next(256); break;
                case 1: b.Insert(at, (byte)rng.Next(256)); break;
                case 2 when b.Count > 0: b.RemoveAt(at); break;
                case 3: b.InsertRange(at, Encoding.ASCII.GetBytes(new[] { ":", ",", "\n", "\r\n", " ", ";", "=", "*.", "[", "]", "{", "}" }[rng.Next(12)])); break;
                default: b.InsertRange(at, b.Take(Math.Min(20, b.Count))); break;
            }
        }
        return [.. b];
    }

    [Fact]
    public void Netstring_reader_only_returns_defined_results()
    {
        var rng = new Random(1);
        for (int i = 0; i < Iterations; i++)
        {
            byte[] input = Mutate(rng, Encoding.ASCII.GetBytes(Seeds[0] + Seeds[0]));
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(input));
            var status = Netstring.TryRead(ref reader, 100, out var payload, out string? error);
            Assert.True(status switch
            {
                FrameStatus.Done => error is null && payload.Length <= 100 && reader.Consumed > 0,
                FrameStatus.NeedMoreData => reader.Consumed == 0 && error is null,
                FrameStatus.Invalid => error is not null,
                _ => false,
            }, Convert.ToHexString(input));
        }
    }

    [Fact]
    public void Policy_parser_never_throws()
    {
        var rng = new Random(2);
        for (int i = 0; i < Iterations; i++)
        {
            byte[] input = Mutate(rng, Encoding.UTF8.GetBytes(Seeds[1]));
            var r = StsPolicyParser.Parse(input);
            Assert.True(r.IsValid ? r.Error is null && r.Policy!.MaxAgeSeconds <= StsPolicyParser.MaxMaxAge : r.Error is not null,
                Convert.ToHexString(input));
        }
    }

    [Fact]
    public void Txt_parser_never_throws()
    {
        var rng = new Random(3);
        for (int i = 0; i < Iterations; i++)
        {
            string record = Encoding.Latin1.GetString(Mutate(rng, Encoding.ASCII.GetBytes(Seeds[2])));
            var r = StsTxtParser.Parse([[record], ["v=spf1 -all"]]);
            Assert.True(r.Status != StsTxtStatus.Valid || r.Id is { Length: >= 1 and <= 32 }, record);
        }
    }

    [Fact]
    public void Next_hop_parser_never_throws()
    {
        var rng = new Random(4);
        for (int i = 0; i < Iterations; i++)
        {
            string key = Encoding.UTF8.GetString(Mutate(rng, Encoding.UTF8.GetBytes(Seeds[rng.Next(3, 5)])));
            var hop = NextHopParser.Parse(key);
            Assert.True(hop.Kind != NextHopKind.Domain || (hop.Domain.Length is > 0 and <= 253 && hop.Domain.All(c => c < 128)), key);
        }
    }

    [Fact]
    public void Tlsrpt_datagram_parser_never_throws()
    {
        var rng = new Random(5);
        byte[] seed = Encoding.UTF8.GetBytes(Tests.TlsRpt.DatagramParserTests.StsFailure);
        for (int i = 0; i < Iterations; i++)
        {
            byte[] input = Mutate(rng, seed);
            var (e, error) = DatagramParser.Parse(input);
            Assert.True(e is null ? error is not null : error is null && e.Policies.Count > 0 && e.Domain.Length > 0, Convert.ToHexString(input));
        }
    }

    [Fact]
    public void Tlsrpt_report_parser_never_throws()
    {
        var rng = new Random(6);
        byte[] seed = Encoding.UTF8.GetBytes(ReportDocument.Json(new DateOnly(2026, 1, 1), "id@x", new ReporterIdentity("o", "c", "s"),
            [new PolicyTally(new SessionPolicy("sts", "x.example", ["mode: enforce"], ["mx.x.example"], true, []), 1, 2,
                [(new SessionFailure("certificate-expired", "192.0.2.1", "mx.x.example", null, "192.0.2.2", null, null), 2)])]));
        for (int i = 0; i < Iterations; i++)
        {
            byte[] input = Mutate(rng, seed);
            var (report, error) = TlsRptParser.Parse(input);
            Assert.True(report is null ? error is not null : error is null && report.ReportId.Length > 0, Convert.ToHexString(input));
        }
    }
}
