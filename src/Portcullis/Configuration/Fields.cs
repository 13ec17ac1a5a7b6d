using YamlDotNet.RepresentationModel;

namespace Portcullis.Configuration;

/// <summary>The kinds of key a section can have, each a typed setter (no reflection: AOT-safe).</summary>
internal static class Fields
{
    public static Field<T> Text<T>(Action<T, string> set) => new((t, n, key, cx) => set(t, YamlValues.ReadText(n, key, cx)));

    public static Field<T> Int<T>(Action<T, int> set) =>
        new((t, n, key, cx) => set(t, (int)YamlValues.ReadInteger(n, key, cx, int.MinValue, int.MaxValue)));

    public static Field<T> Long<T>(Action<T, long> set) =>
        new((t, n, key, cx) => set(t, YamlValues.ReadInteger(n, key, cx, long.MinValue, long.MaxValue)));

    public static Field<T> Number<T>(Action<T, double> set) => new((t, n, key, cx) => set(t, YamlValues.ReadNumber(n, key, cx)));

    /// <summary>A list of integers (publish.domains.*.max_age_steps).</summary>
    public static Field<T> LongList<T>(Action<T, List<long>> set) => new((t, n, key, cx) =>
        set(t, YamlValues.ReadList(n, key, cx).Select(v => YamlValues.TryInteger(v.Trim(), out long x) ? x : Wrong(n, key, cx)).ToList()));

    private static long Wrong(YamlDotNet.RepresentationModel.YamlNode n, string key, BindContext cx)
    {
        cx.Wrong(n, key, "a list of integers");
        return 0;
    }

    /// <summary>Empty: false.</summary>
    public static Field<T> Bool<T>(Action<T, bool> set) => new((t, n, key, cx) => set(t, YamlValues.ReadBoolean(n, key, cx) ?? false));

    /// <summary>Empty: null, as when the key is absent.</summary>
    public static Field<T> OptionalBool<T>(Action<T, bool?> set) => new((t, n, key, cx) => set(t, YamlValues.ReadBoolean(n, key, cx)));

    public static Field<T> Date<T>(Action<T, DateTime?> set) => new((t, n, key, cx) => set(t, YamlValues.ReadDate(n, key, cx)));

    /// <summary>Replaces the default list (a file's list is the whole list).</summary>
    public static Field<T> List<T>(Action<T, List<string>> set) => new((t, n, key, cx) => set(t, YamlValues.ReadList(n, key, cx)));

    /// <summary>A nested section, read into the object that already holds its defaults.</summary>
    public static Field<T> Section<T, TSection>(Func<T, TSection> get, Section<TSection> schema) =>
        new((t, n, key, cx) => schema.Read(get(t), n, key, cx), schema);

    /// <summary>Named sub-sections (overrides, maps, publish.domains), each starting from its defaults.</summary>
    public static Field<T> Dictionary<T, TValue>(Func<T, Dictionary<string, TValue>> get, Func<TValue> create, Section<TValue> schema) =>
        new((t, n, key, cx) => Entries(n, key, cx, (name, value, path) =>
        {
            var entry = create();
            if (schema.Read(entry, value, path, cx))
                get(t)[name] = entry;
        }), schema, IsDictionary: true);

    /// <summary>Names mapped to text values (publish.domains.*.mx_certificates).</summary>
    public static Field<T> TextDictionary<T>(Func<T, Dictionary<string, string>> get) =>
        new((t, n, key, cx) => Entries(n, key, cx, (name, value, path) => get(t)[name] = YamlValues.ReadText(value, path, cx)));

    private static void Entries(YamlNode node, string key, BindContext cx, Action<string, YamlNode, string> each)
    {
        if (YamlValues.IsNull(node))
            return;
        if (node is not YamlMappingNode map)
        {
            cx.Wrong(node, key, YamlValues.Mapping);
            return;
        }
        foreach (var (k, v) in map.Children)
        {
            if (k is YamlScalarNode { Value: { } name })
                each(name, v, YamlValues.Join(key, name));
            else
                cx.Wrong(k, key, YamlValues.Text); // a list or mapping as a name
        }
    }
}
