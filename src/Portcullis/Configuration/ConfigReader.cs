using System.Globalization;
using System.Runtime.CompilerServices;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Portcullis.Configuration;

/// <summary>
/// Reads the YAML file into a <see cref="PortcullisConfig"/> without stopping at the first problem:
/// every wrong-typed value and unknown key is collected as <c>file:line: key: …</c>, and where each
/// key sits is remembered so later validation errors can name their line too.
/// </summary>
internal static class ConfigReader
{
    /// <summary>Where each key (dotted path) of a loaded file is, and which keys the command line replaced.</summary>
    internal sealed record Source(string Path, IReadOnlyDictionary<string, int> KeyLines, IReadOnlyList<(int Line, string Key, string Text)> ReadErrors)
    {
        public HashSet<string> Overridden { get; } = [];
    }

    internal static readonly ConditionalWeakTable<PortcullisConfig, Source> Sources = [];

    public static PortcullisConfig Read(string path)
    {
        string yaml = File.ReadAllText(path);
        var keyLines = new Dictionary<string, int>(StringComparer.Ordinal);
        var valueKeys = new Dictionary<(long, long), string>();
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(yaml));
            foreach (var doc in stream.Documents)
                Walk(doc.RootNode, "", keyLines, valueKeys);
        }
        catch (YamlException ex)
        {
            throw new ConfigException($"{path}:{ex.Start.Line}:{ex.Start.Column}: {ex.InnerException?.Message ?? ex.Message}");
        }

        var errors = new List<(int Line, string Key, string Text)>();
        string KeyAt(Mark m, string fallback) => valueKeys.GetValueOrDefault((m.Line, m.Column), fallback);
        void Error(Mark at, string key, string what) => errors.Add(((int)at.Line, key, $"{path}:{at.Line}: {key}: {what}"));

        void Wrong(Mark m, Type t, string got) => Error(m, KeyAt(m, "?"), $"expected {Describe(t)}, got {got}");
        var parser = new TrackingParser(new Parser(new StringReader(yaml)));
        var deserializer = new DeserializerBuilder()
            .WithNamingConvention(UnderscoredNamingConvention.Instance)
            .IgnoreUnmatchedProperties()
            .WithTypeInspector(inner => new UnknownKeys(inner, (name, _) =>
            {
                var at = parser.Previous?.Start ?? Mark.Empty;
                string key = keyLines.FirstOrDefault(k => k.Value == at.Line && (k.Key == name || k.Key.EndsWith("." + name, StringComparison.Ordinal))).Key ?? name;
                errors.Add(((int)at.Line, key, $"{path}:{at.Line}: unknown key '{key}'"));
            }))
            .WithNodeDeserializer(inner => new TolerantValues(inner, Wrong), s => s.InsteadOf<YamlDotNet.Serialization.NodeDeserializers.ScalarNodeDeserializer>())
            .WithNodeDeserializer(new WrongShape(Wrong), s => s.OnTop())
            .Build();
        PortcullisConfig config;
        try
        {
            config = deserializer.Deserialize<PortcullisConfig>(parser) ?? new PortcullisConfig();
        }
        catch (YamlException ex)
        {
            // Not a value of the wrong type (those are collected): the structure itself is broken.
            throw new ConfigException($"{path}:{ex.Start.Line}: {KeyAt(ex.Start, "")}{(valueKeys.ContainsKey((ex.Start.Line, ex.Start.Column)) ? ": " : "")}{ex.InnerException?.Message ?? ex.Message}");
        }
        // Type errors and unknown keys are reported by Validate, together with the rule violations.
        Sources.AddOrUpdate(config, new Source(path, keyLines, [.. errors.OrderBy(e => e.Line)]));
        return config;
    }

    private static void Walk(YamlNode node, string prefix, Dictionary<string, int> keyLines, Dictionary<(long, long), string> valueKeys)
    {
        if (node is not YamlMappingNode map)
            return;
        foreach (var (k, v) in map.Children)
        {
            string key = prefix.Length == 0 ? k.ToString() : prefix + "." + k;
            keyLines[key] = (int)k.Start.Line;
            valueKeys[(v.Start.Line, v.Start.Column)] = key;
            Walk(v, key, keyLines, valueKeys);
        }
    }

    /// <summary>The expected form of a value, with the range for numbers (an overflow names it).</summary>
    public static string Describe(Type t)
    {
        t = Nullable.GetUnderlyingType(t) ?? t;
        if (t == typeof(int))
            return $"an integer from {int.MinValue} to {int.MaxValue}";
        if (t == typeof(long))
            return $"an integer from {long.MinValue} to {long.MaxValue}";
        if (t == typeof(bool))
            return "true or false";
        if (t == typeof(DateTime))
            return "a date (YYYY-MM-DD) or an ISO 8601 date and time";
        if (t == typeof(string))
            return "a text value";
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(List<>))
            return "a list";
        return "a mapping (key: value lines)";
    }

    private static bool IsScalarType(Type t)
    {
        t = Nullable.GetUnderlyingType(t) ?? t;
        return t.IsPrimitive || t == typeof(string) || t == typeof(DateTime);
    }

    /// <summary>Remembers the event before the current one: the key when a property is looked up.</summary>
    private sealed class TrackingParser(IParser inner) : IParser
    {
        public ParsingEvent? Previous { get; private set; }

        public ParsingEvent? Current => inner.Current;

        public bool MoveNext()
        {
            Previous = inner.Current;
            return inner.MoveNext();
        }
    }

    /// <summary>Reports a key the configuration does not have instead of throwing (then skipped).</summary>
    private sealed class UnknownKeys(ITypeInspector inner, Action<string, Type> unknown) : ITypeInspector
    {
        public IEnumerable<IPropertyDescriptor> GetProperties(Type type, object? container) => inner.GetProperties(type, container);

        public IPropertyDescriptor GetProperty(Type type, object? container, string name, bool ignoreUnmatched, bool caseInsensitivePropertyMatching)
        {
            var p = inner.GetProperty(type, container, name, true, caseInsensitivePropertyMatching);
            if (p is null)
                unknown(name, type);
            return p!;
        }

        public string GetEnumName(Type enumType, string name) => inner.GetEnumName(enumType, name);

        public string GetEnumValue(object enumValue) => inner.GetEnumValue(enumValue);
    }

    /// <summary>A value of the wrong type or shape is reported (and skipped) so reading continues.</summary>
    private sealed class TolerantValues(INodeDeserializer inner, Action<Mark, Type, string> wrong) : INodeDeserializer
    {
        public bool Deserialize(IParser reader, Type expectedType, Func<IParser, Type, object?> nestedObjectDeserializer, out object? value,
            ObjectDeserializer rootDeserializer)
        {
            var current = reader.Current;
            if (current is Scalar scalar && IsScalarType(expectedType))
            {
                try
                {
                    return inner.Deserialize(reader, expectedType, nestedObjectDeserializer, out value, rootDeserializer);
                }
                catch (Exception ex) when (ex is FormatException or OverflowException or YamlException or InvalidCastException)
                {
                    if (reader.Current == current)
                        reader.MoveNext();
                    wrong(scalar.Start, expectedType, $"\"{scalar.Value}\"");
                    value = Placeholder(expectedType);
                    return true;
                }
            }
            return inner.Deserialize(reader, expectedType, nestedObjectDeserializer, out value, rootDeserializer);
        }
    }

    /// <summary>A list or mapping where a value belongs, or a value where a list belongs: reported and skipped.</summary>
    private sealed class WrongShape(Action<Mark, Type, string> wrong) : INodeDeserializer
    {
        public bool Deserialize(IParser reader, Type expectedType, Func<IParser, Type, object?> nestedObjectDeserializer, out object? value,
            ObjectDeserializer rootDeserializer)
        {
            value = null;
            var current = reader.Current;
            if (current is MappingStart or SequenceStart && IsScalarType(expectedType))
            {
                wrong(current.Start, expectedType, current is MappingStart ? "a mapping" : "a list");
                reader.SkipThisAndNestedEvents();
                value = Placeholder(expectedType);
                return true;
            }
            if (current is Scalar s && expectedType == typeof(List<string>) && s.Value.Length > 0)
            {
                wrong(s.Start, expectedType, $"\"{s.Value}\"");
                reader.MoveNext();
                value = new List<string>();
                return true;
            }
            return false;
        }
    }

    // Stands in for a rejected value so reading can go on; the file is refused anyway.
    private static object? Placeholder(Type t) =>
        t == typeof(int) ? 0 : t == typeof(long) ? 0L : t == typeof(bool) ? false : t == typeof(string) ? ""
        : t == typeof(List<string>) ? new List<string>() : null;
}
