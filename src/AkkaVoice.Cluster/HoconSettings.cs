using Akka.Configuration;

namespace AkkaVoice.Cluster;

/// <summary>
/// Reads one settings section of the node's HOCON. Every key must be present (the defaults live in
/// hocon/akkavoice.conf and nowhere else) and well-formed; a missing or malformed key is refused with
/// its full name, never replaced by a guess.
/// </summary>
public sealed class HoconSettings(Config config, string path)
{
    private readonly Config section = config.GetConfig(path) ?? ConfigurationFactory.Empty;

    /// <summary>The subsection <paramref name="name"/>, for a nested settings record.</summary>
    public HoconSettings Section(string name) => new(section, name) { Prefix = Key(name) };

    private string Prefix { get; init; } = path;

    /// <summary>The full name of <paramref name="key"/>, as an operator writes it.</summary>
    public string Key(string key) => Prefix + "." + key;

    public string String(string key) => Read(key, "a string", v => section.GetString(key) ?? throw new FormatException());

    public bool Bool(string key) => Read(key, "on or off", _ => section.GetBoolean(key));

    public int Int(string key) => Read(key, "a whole number", _ => section.GetInt(key));

    public double Double(string key) => Read(key, "a number", _ => section.GetDouble(key));

    public TimeSpan Duration(string key) => Read(key, "a duration such as 500ms, 5s or 2m", _ => section.GetTimeSpan(key, allowInfinite: false));

    public IReadOnlyList<string> StringList(string key) => Read(key, "a list of strings", _ => (IReadOnlyList<string>)[.. section.GetStringList(key)]);

    /// <summary>A positive duration.</summary>
    public TimeSpan PositiveDuration(string key)
    {
        var value = Duration(key);
        return value > TimeSpan.Zero ? value : throw Refuse(key, $"must be longer than 0, not {Raw(key)}");
    }

    /// <summary>A number of at least <paramref name="min"/> (and at most <paramref name="max"/>).</summary>
    public int Int(string key, int min, int max = int.MaxValue)
    {
        var value = Int(key);
        if (value < min || value > max)
            throw Refuse(key, max == int.MaxValue ? $"must be at least {min}, not {value}" : $"must be {min}-{max}, not {value}");
        return value;
    }

    /// <summary>A number greater than 0.</summary>
    public double PositiveDouble(string key)
    {
        var value = Double(key);
        return value > 0 && double.IsFinite(value) ? value : throw Refuse(key, $"must be positive, not {Raw(key)}");
    }

    /// <summary>The error for a value the node cannot run with: "akkavoice.x must ...".</summary>
    public ConfigurationException Refuse(string key, string reason) => new($"{Key(key)} {reason}");

    private string Raw(string key) => section.GetValue(key)?.ToString() ?? "nothing";

    private T Read<T>(string key, string what, Func<string, T> read)
    {
        if (!section.HasPath(key)) throw new ConfigurationException($"{Key(key)} is not set (hocon/akkavoice.conf sets every key)");
        try
        {
            return read(key);
        }
        catch (Exception e) when (e is FormatException or OverflowException or ConfigurationException or InvalidCastException or ArgumentException)
        {
            throw Refuse(key, $"must be {what}, not '{Raw(key)}'");
        }
    }
}
