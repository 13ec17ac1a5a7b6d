using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Portcullis.Observability;
using YamlDotNet.RepresentationModel;

namespace Portcullis.Tests.Observability;

/// <summary>
/// deploy/prometheus-alerts.yml is a well-formed Prometheus rules file over metrics Portcullis exports
/// (promtool is not installed for this: Debian's prometheus package is the whole server, ~100 MB).
/// </summary>
public sealed partial class AlertRulesTests
{
    /// <summary>Every instrument name the daemon's meter publishes (also read by <see cref="DashboardTests"/>).</summary>
    internal static HashSet<string> KnownMetrics()
    {
        var known = new HashSet<string>(StringComparer.Ordinal);
        using var listener = new MeterListener
        {
            InstrumentPublished = (i, _) =>
            {
                if (i.Meter.Name == PortcullisMetrics.MeterName)
                    known.Add(i.Name);
            },
        };
        listener.Start();
        using var metrics = new PortcullisMetrics();
        metrics.ObserveGauges(() => 0, () => 1);
        return known;
    }

    private static string RepoFile(string relative)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, relative)))
                return Path.Combine(d.FullName, relative);
        }
        throw new FileNotFoundException(relative);
    }

    private static List<YamlMappingNode> Rules()
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(RepoFile("deploy/prometheus-alerts.yml")))
            yaml.Load(reader);
        var root = (YamlMappingNode)yaml.Documents.Single().RootNode;
        Assert.Equal(["groups"], root.Children.Keys.Select(k => k.ToString()));
        var groups = ((YamlSequenceNode)root["groups"]).Cast<YamlMappingNode>().ToList();
        Assert.Equal(groups.Count, groups.Select(g => g["name"].ToString()).Distinct().Count());
        return [.. groups.SelectMany(g => ((YamlSequenceNode)g["rules"]).Cast<YamlMappingNode>())];
    }

    [Fact]
    public void Every_rule_is_a_complete_alert_with_a_severity_summary_and_valid_duration()
    {
        var rules = Rules();
        Assert.True(rules.Count >= 10);
        string[] allowed = ["alert", "expr", "for", "labels", "annotations"];
        foreach (var r in rules)
        {
            var keys = r.Children.Keys.Select(k => k.ToString()).ToList();
            string name = r["alert"].ToString();
            Assert.All(keys, k => Assert.Contains(k, allowed));
            Assert.Matches("^Portcullis[A-Za-z]+$", name);
            Assert.False(string.IsNullOrWhiteSpace(r["expr"].ToString()), name);
            if (r.Children.ContainsKey("for"))
                Assert.Matches("^[0-9]+[smhdw]$", r["for"].ToString());
            Assert.Contains(((YamlMappingNode)r["labels"])["severity"].ToString(), new[] { "info", "warning", "critical" });
            Assert.NotEmpty(((YamlMappingNode)r["annotations"])["summary"].ToString());
            // Template braces balance, so Prometheus can parse the annotation templates.
            foreach (var a in ((YamlMappingNode)r["annotations"]).Children.Values.Select(v => v.ToString()))
                Assert.Equal(Regex.Count(a, "\\{\\{"), Regex.Count(a, "\\}\\}"));
            Assert.Equal(Regex.Count(r["expr"].ToString(), "\\("), Regex.Count(r["expr"].ToString(), "\\)"));
        }
        Assert.Equal(rules.Count, rules.Select(r => r["alert"].ToString()).Distinct().Count());
    }

    [Fact]
    public void Every_metric_in_the_rules_exists_and_every_own_domain_gauge_has_an_alert_and_a_panel()
    {
        var known = KnownMetrics();
        var used = Rules().SelectMany(r => MetricName().Matches(r["expr"].ToString()).Select(m => m.Value)).Distinct().ToList();
        Assert.All(used, n => Assert.Contains(n, known));
        foreach (string required in new[] { "portcullis_resolver_validating", "portcullis_cache_store_failures_total" })
            Assert.Contains(required, used);

        using var dashboard = JsonDocument.Parse(File.ReadAllText(RepoFile("deploy/grafana-dashboard.json")));
        string panels = string.Join('\n', dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray()).Select(t => t.GetProperty("expr").GetString()));
        var ownDomain = known.Where(n => n.StartsWith("portcullis_own_domain_", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, ownDomain.Count);
        Assert.All(ownDomain, n => Assert.Contains(n, used));
        Assert.All(ownDomain, n => Assert.Contains(n, panels, StringComparison.Ordinal));
    }

    [GeneratedRegex("portcullis_[a-z_]+")]
    private static partial Regex MetricName();
}
