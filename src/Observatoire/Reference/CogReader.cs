using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Serialization;
using Observatoire.Import;

namespace Observatoire.Reference;

/// <summary>
/// Reads the collectivités reference list in the shape of npm <c>@etalab/decoupage-administratif</c>
/// (communes.json, epci.json, ept.json, departements.json, regions.json; plain or .gz).
/// </summary>
public static class CogReader
{
    public sealed record CommuneJson(
        string Code, string Nom, string Type, string? Zone, string? Departement, string? Region, string? Siren,
        int? Population, string? ChefLieu, List<string>? AnciensCodes);
    public sealed record MembreJson(string Code, string? Siren, string? Nom);
    public sealed record GroupementJson(string Code, string Nom, string Type, List<MembreJson> Membres);
    public sealed record TerritoireJson(string Code, string Nom, string? Region, string? Zone, string? ChefLieu);

    public sealed record CogData(
        string Directory, List<CommuneJson> Communes, List<GroupementJson> Epci, List<GroupementJson> Ept,
        List<TerritoireJson> Departements, List<TerritoireJson> Regions, IReadOnlyList<string> Files);

    static readonly JsonSerializerOptions Json = new()
    {
        PropertyNameCaseInsensitive = true,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
    };

    public static CogData Read(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
            throw new ImportException($"Dossier du référentiel introuvable : {directory}");
        var files = new List<string>();
        List<T> Load<T>(string name)
        {
            var path = ImportFiles.Find(directory, name + ".json");
            files.Add(path);
            var list = ImportFiles.ReadJson<List<T>>(path, Json);
            if (list is null || list.Count == 0)
                throw new ImportException($"Le fichier {path} est vide : le référentiel doit lister des entrées.");
            return list;
        }
        var data = new CogData(directory, Load<CommuneJson>("communes"), Load<GroupementJson>("epci"),
            Load<GroupementJson>("ept"), Load<TerritoireJson>("departements"), Load<TerritoireJson>("regions"), files);
        Validate(data);
        return data;
    }

    static void Validate(CogData d)
    {
        var communes = d.Communes.Where(c => c.Type == "commune-actuelle").ToList();
        if (communes.Count == 0)
            throw new ImportException($"{d.Directory}/communes.json ne contient aucune commune de type « commune-actuelle ».");
        foreach (var c in communes)
            if (string.IsNullOrWhiteSpace(c.Code) || string.IsNullOrWhiteSpace(c.Departement) || string.IsNullOrWhiteSpace(c.Region))
                throw new ImportException($"{d.Directory}/communes.json : la commune « {c.Nom} » ({c.Code}) n'a pas de code, de département ou de région.");
        foreach (var e in d.Epci.Concat(d.Ept))
            if (e.Code is not { Length: 9 } || !e.Code.All(char.IsAsciiDigit))
                throw new ImportException($"{d.Directory} : le groupement « {e.Nom} » a un SIREN invalide ({e.Code}).");
    }
}
