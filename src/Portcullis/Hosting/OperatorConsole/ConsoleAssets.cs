using System.Collections.Frozen;
using Microsoft.AspNetCore.Http;

namespace Portcullis.Hosting.OperatorConsole;

/// <summary>
/// The front end (wwwroot/: one page, its script and style), embedded in the binary as resources and read
/// once. Every page is the same document; the script picks the view from the URL fragment.
/// </summary>
public static class ConsoleAssets
{
    private static readonly FrozenDictionary<string, (byte[] Body, string Type)> Files = new Dictionary<string, (byte[], string)>
    {
        ["/"] = (Read("index.html"), "text/html; charset=utf-8"),
        ["/app.js"] = (Read("app.js"), "text/javascript; charset=utf-8"),
        ["/chart.js"] = (Read("chart.js"), "text/javascript; charset=utf-8"),
        ["/domain.js"] = (Read("domain.js"), "text/javascript; charset=utf-8"),
        ["/app.css"] = (Read("app.css"), "text/css; charset=utf-8"),
        ["/favicon.svg"] = (Read("favicon.svg"), "image/svg+xml"),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static IResult Serve(string path) => Files.TryGetValue(path, out var f)
        ? Results.Bytes(f.Body, f.Type)
        : Results.Text("not found\n", statusCode: StatusCodes.Status404NotFound);

    private static byte[] Read(string name)
    {
        using var stream = typeof(ConsoleAssets).Assembly.GetManifestResourceStream("console/" + name)
            ?? throw new InvalidOperationException($"console asset {name} is not embedded");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
