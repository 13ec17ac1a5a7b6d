using System.Text.Json;
using System.Text.RegularExpressions;
using Portcullis.Observability;

namespace Portcullis.Tests.Observability;

/// <summary>The shipped Grafana dashboard only uses metrics Portcullis exports.</summary>
public sealed partial class DashboardTests
{
    [Fact]
    public void Every_metric_in_the_dashboard_exists()
    {
        string path = FindRepoFile("deploy/grafana-dashboard.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var exprs = doc.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray())
            .Select(t => t.GetProperty("expr").GetString()!).ToList();
        Assert.True(exprs.Count >= 10);

        var known = AlertRulesTests.KnownMetrics();

        var used = exprs.SelectMany(e => MetricName().Matches(e).Select(m => m.Value))
            .Select(n => Regex.Replace(n, "_(bucket|sum|count)$", "")).Distinct().ToList();
        Assert.NotEmpty(used);
        Assert.All(used, n => Assert.Contains(n, known));
    }

    private static string FindRepoFile(string relative)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            string candidate = Path.Combine(d.FullName, relative);
            if (File.Exists(candidate))
                return candidate;
        }
        throw new FileNotFoundException(relative);
    }

    [GeneratedRegex("portcullis_[a-z_]+")]
    private static partial Regex MetricName();
}
