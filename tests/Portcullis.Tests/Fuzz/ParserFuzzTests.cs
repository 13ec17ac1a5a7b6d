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
            var status = Netstring.TryRead(ref reader, 100, out var payload, out var error);
            Assert.True(status switch
            {
                FrameStatus.Done => error.Code == FrameError.None && payload.Length <= 100 && reader.Consumed > 0,
                FrameStatus.NeedMoreData => reader.Consumed == 0 && error.Code == FrameError.None,
                FrameStatus.Invalid => error.Code != FrameError.None && error.Detail.Length > 0,
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

    // Pieces near every boundary of the key syntax: case, hyphens at label ends, digits-only labels, A-labels
    // (valid and not), ports, brackets, dots, non-ASCII, and labels of 63/64 characters.
    private static readonly string[] KeyPieces =
    [
        "a", "z", "m", "0", "9", "1", "-", ".", ".", ".", "A", "Q", ":25", ":", "[", "]", "_", "ü", " ", "..",
        "xn--", "xn--bcher-kva", "xn--zz", "xn--nxasmq6b", "ex", "test", "255", "192.0.2.1", new string('a', 63), new string('b', 64),
    ];

    private static string RandomKey(Random rng)
    {
        if (rng.Next(4) == 0)
            return Encoding.UTF8.GetString(Mutate(rng, Encoding.UTF8.GetBytes(Seeds[rng.Next(3, 5)])));
        var b = new StringBuilder();
        int pieces = rng.Next(1, 12);
        for (int i = 0; i < pieces; i++)
            b.Append(KeyPieces[rng.Next(KeyPieces.Length)]);
        if (rng.Next(8) == 0)
            b.Insert(0, new string('c', rng.Next(180, 250)) + "."); // near the 253 limit
        return b.ToString();
    }

    [Fact]
    public void A_key_is_canonical_exactly_when_the_parser_maps_it_to_itself()
    {
        var rng = new Random(7);
        int canonical = 0;
        for (int i = 0; i < Iterations * 5; i++)
        {
            string key = RandomKey(rng);
            var hop = NextHopParser.Parse(key);
            bool maps = hop.Kind == NextHopKind.Domain && hop.Domain == key;
            Assert.True(maps == NextHopParser.IsCanonicalKey(key), $"'{key}': Parse gives {hop.Kind} '{hop.Domain}', IsCanonicalKey {!maps}");
            canonical += maps ? 1 : 0;
        }
        // Both sides of the property were exercised.
        Assert.InRange(canonical, Iterations / 10, Iterations * 4);
    }

    [Theory]
    [InlineData("a.test", true)]
    [InlineData("xn--bcher-kva.example", true)]   // a valid A-label: the full path maps it to itself
    [InlineData("a", true)]
    [InlineData("1a.test", true)]
    [InlineData("A.test", false)]                 // lower-cased by the parser
    [InlineData("a.test.", false)]                // root dot dropped
    [InlineData("a.test:25", false)]
    [InlineData(".a.test", false)]                // parent-domain retry
    [InlineData("a..test", false)]
    [InlineData("-a.test", false)]                // IsPlainDomain accepted these three; the full path refuses them
    [InlineData("a.123", false)]
    [InlineData("xn--zz.test", false)]
    [InlineData("192.0.2.1", false)]
    public void Canonical_key_examples(string key, bool canonical) =>
        Assert.Equal(canonical, NextHopParser.IsCanonicalKey(key));

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
