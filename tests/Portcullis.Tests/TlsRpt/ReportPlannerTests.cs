using Portcullis.Core.TlsRpt.Sending;

namespace Portcullis.Tests.TlsRpt;

public sealed class ReportPlannerTests
{
    private static readonly ReportPlanner Planner = new(TimeSpan.FromMinutes(15), TimeSpan.FromHours(1), TimeSpan.FromHours(24));
    private static readonly DateOnly Day = new(2026, 11, 30);

    [Fact]
    public void Due_after_the_day_ends_plus_delay_plus_a_stable_per_domain_offset()
    {
        var due = Planner.DueAt(Day, "example.com");
        var midnight = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.InRange(due, midnight.AddMinutes(15), midnight.AddMinutes(75));
        Assert.Equal(due, new ReportPlanner(TimeSpan.FromMinutes(15), TimeSpan.FromHours(1), TimeSpan.FromHours(24)).DueAt(Day, "example.com"));
        Assert.False(Planner.IsDue(Day, "example.com", due.AddSeconds(-1)));
        Assert.True(Planner.IsDue(Day, "example.com", due));
        // Domains are spread over the window rather than all sent at once.
        var offsets = Enumerable.Range(0, 50).Select(i => Planner.DueAt(Day, $"d{i}.example")).Distinct().Count();
        Assert.True(offsets > 40, $"{offsets} distinct due times for 50 domains");
    }

    [Fact]
    public void Retries_back_off_and_stop_after_the_retry_window()
    {
        var first = new DateTimeOffset(2026, 12, 1, 1, 0, 0, TimeSpan.Zero);
        Assert.Equal(first.AddMinutes(5), Planner.NextAttempt(first, 1, first));
        Assert.Equal(first.AddMinutes(10), Planner.NextAttempt(first, 2, first));
        Assert.Equal(first.AddMinutes(20), Planner.NextAttempt(first, 3, first));
        Assert.Equal(first.AddHours(4), Planner.NextAttempt(first, 9, first));
        Assert.Null(Planner.NextAttempt(first, 9, first.AddHours(21)));
        Assert.Equal(first.AddHours(24), Planner.NextAttempt(first, 9, first.AddHours(20)));
    }
}
