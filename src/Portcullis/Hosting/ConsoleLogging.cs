using Microsoft.Extensions.Logging;

namespace Portcullis.Hosting;

/// <summary>
/// The log format of both long-running commands (<c>serve</c>, <c>policy-host</c>): one line per event with
/// a UTC timestamp, on stdout for journald; ASP.NET's own chatter only from warnings up.
/// </summary>
public static class ConsoleLogging
{
    public static void Configure(ILoggingBuilder logging, string level)
    {
        logging.ClearProviders();
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
        });
        logging.SetMinimumLevel(Enum.Parse<LogLevel>(level, true));
        logging.AddFilter("Microsoft", LogLevel.Warning);
    }
}
