using System.IO.Compression;
using System.Text.Json.Nodes;

namespace Observatoire.Tests.Infrastructure;

/// <summary>
/// The bundled COG files read directly as JSON, independently of the application's reader: the
/// tests compute their expected answers from here.
/// </summary>
public static class RawCog
{
    static readonly Lazy<JsonArray> communes = new(() => Load("communes"));
    static readonly Lazy<JsonArray> epci = new(() => Load("epci"));
    static readonly Lazy<JsonArray> ept = new(() => Load("ept"));
    static readonly Lazy<JsonArray> departements = new(() => Load("departements"));
    static readonly Lazy<JsonArray> regions = new(() => Load("regions"));

    public static JsonArray Communes => communes.Value;
    public static JsonArray Epci => epci.Value;
    public static JsonArray Ept => ept.Value;
    public static JsonArray Departements => departements.Value;
    public static JsonArray Regions => regions.Value;

    public static IEnumerable<JsonNode> CurrentCommunes =>
        Communes.Where(c => (string?)c!["type"] == "commune-actuelle").Select(c => c!);

    static JsonArray Load(string name)
    {
        using var s = new GZipStream(File.OpenRead(Path.Combine(TestEnvironment.DataDir, "cog-2026", name + ".json.gz")), CompressionMode.Decompress);
        return JsonNode.Parse(s)!.AsArray();
    }
}
