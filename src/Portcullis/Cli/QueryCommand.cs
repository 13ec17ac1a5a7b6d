using System.CommandLine;
using System.Text.Json.Nodes;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Core.Caching;
using Portcullis.Configuration;
using Portcullis.Core.Dane;
using Portcullis.Core.MtaSts;
using Portcullis.Core.Policy;
using Portcullis.Core.Protocol;
using Portcullis.Dns;
using Portcullis.Http;
using Portcullis.Resolution;
using Portcullis.Hosting;
using Portcullis.Hosting.Control;

namespace Portcullis.Cli;

/// <summary><c>query DOMAIN</c>: a live resolution with every piece of evidence, beside what a running daemon's cache says.</summary>
public static class QueryCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var dns = CommonOptions.Dns();
        var json = CommonOptions.Json("Print the evidence as JSON");
        var domain = new Argument<string>("domain") { Description = "Recipient domain or Postfix next-hop" };
        var cmd = new Command("query", "Resolve one domain live, explain the decision, and say whether the running daemon's cache agrees. Exit: 0 policy, 1 no policy, 2 temporary failure")
        {
            domain, config, dns, json,
        };
        CommonOptions.SetRun(cmd, config, dns, (parse, s, ct) => RunAsync(s, parse.GetValue(domain)!, parse.GetValue(json), Console.Out, ct));
        return cmd;
    }

    public static async Task<int> RunAsync(Settings settings, string key, bool json, TextWriter stdout, CancellationToken ct)
    {
        var hop = NextHopParser.Parse(key);
        if (hop.Kind != NextHopKind.Domain)
        {
            if (json)
                stdout.WriteLine(new JsonObject { ["key"] = key, ["postfix_query"] = "NOTFOUND ", ["why"] = hop.Detail }.ToJsonString());
            else
                stdout.WriteLine($"{key}: NOTFOUND without lookups: {hop.Detail}");
            return hop.Kind == NextHopKind.Invalid ? ExitCodes.Usage : ExitCodes.Failed;
        }
        var live = await LiveResolution.ResolveAsync(settings, hop.Domain, ct);
        // This lookup starts with an empty cache; the running daemon may hold state that answers differently.
        var daemon = await ControlClient.ItemsAsync(settings, ControlProtocol.ShowCommand(hop.Domain), ct);
        var view = new DaemonView(ControlClient.Describe(settings), daemon is not null, daemon?.FirstOrDefault(), live.Query);
        if (json)
        {
            var o = live.ToJson();
            o["daemon_cache"] = view.ToJson();
            stdout.WriteLine(o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
        else
        {
            // TXT records, policy text and error details come from the network: escaped for the terminal.
            var text = new StringWriter();
            live.WriteText(text);
            text.WriteLine($"Daemon cache:    {view.Text()}");
            stdout.Write(Core.Text.TerminalText.EscapeLines(text.ToString()));
        }
        return ExitFor(live.Resolution);
    }

    public static int ExitFor(Resolution.Resolution r) => r.Answer.Verdict switch
    {
        Verdict.DaneOnly or Verdict.Dane or Verdict.StsEnforce => ExitCodes.Ok,
        Verdict.Temp => ExitCodes.Temporary,
        _ => ExitCodes.Failed,
    };

    /// <summary>What the running daemon's cache says for the domain, beside this live lookup.</summary>
    private sealed record DaemonView(string Socket, bool Running, CacheItem? Item, string LiveQuery)
    {
        public bool? Agrees => Running && Item?.Reply is { } reply ? reply == LiveQuery : null;

        public string Text() =>
            !Running ? $"no daemon answers on {Socket}: this was a lookup without any cache; a running daemon may hold cached state"
            : Item?.Reply is not { } reply ? $"nothing answerable cached in the running daemon: its next query resolves live, like this lookup"
            : $"the running daemon answers \"{reply}\" from its {Item.State} (expires {Item.Expires:u}); " +
              (Agrees == true ? "agrees with this lookup" : "DIFFERS from this lookup until then");

        public JsonObject ToJson() => new()
        {
            ["running"] = Running,
            ["socket"] = Socket,
            ["from"] = Item?.State,
            ["reply"] = Item?.Reply,
            ["expires"] = Item?.Expires?.ToString("o"),
            ["agrees"] = Agrees,
        };
    }
}
