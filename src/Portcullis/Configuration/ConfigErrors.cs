namespace Portcullis.Configuration;

/// <summary>The violations validation collects, in the order the rules run, so all are reported at once.</summary>
internal sealed class ConfigErrors
{
    public List<string> List { get; } = [];

    public void Err(string message) => List.Add(message);

    /// <summary>Runs a check that throws <see cref="ConfigException"/> (a value parser) and keeps its errors.</summary>
    public void Try(Action check)
    {
        try
        {
            check();
        }
        catch (ConfigException ex)
        {
            List.AddRange(ex.Errors);
        }
    }

    public void Positive(string key, int value)
    {
        if (value <= 0)
            Err($"{key}: must be a positive number, not {value}");
    }

    /// <summary>Each listener of <paramref name="key"/> must parse and be TCP (HOST:PORT).</summary>
    public void TcpListeners(string key, IEnumerable<string> listeners)
    {
        foreach (string l in listeners)
        {
            Try(() =>
            {
                if (ConfigLoader.ParseListen(l, key).Tcp is null)
                    Err($"{key}: '{l}' must be HOST:PORT");
            });
        }
    }
}
