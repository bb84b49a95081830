using Npgsql;
using Observatoire.Data;
using Observatoire.Import;
using Observatoire.Reports;

namespace Observatoire;

/// <summary>
/// Command-line verbs of the application (the web server is the default):
/// <c>migrate</c>, <c>import</c> (reference list + boundaries), <c>load-if-empty</c>, <c>import-status</c>, <c>import-datagouv</c>,
/// <c>import-platforms</c>, <c>import-milestones</c>, <c>import-atd</c>, <c>report</c>, <c>help</c>.
/// Relative paths are taken from the directory the command is run from; the settings are read next to
/// the binary (<see cref="Configuration"/>), whatever that directory.
/// </summary>
public static class Cli
{
    public const string Usage = """
        Observatoire — commandes :
          (sans argument)           sert l'application (http://127.0.0.1:5080 par défaut)
          migrate                   applique les migrations SQL de migrations/
          import [options]          charge le référentiel des collectivités et les contours (une transaction)
              --data DIR            dossier des données livrées (défaut : data/ du dépôt)
              --cog DIR             dossier communes.json, epci.json, ept.json, departements.json, regions.json (.json ou .json.gz)
              --communes F          contours des communes (GeoJSON, .gz accepté ; format france-geojson ou Etalab contours-administratifs)
              --departements F      contours des départements
              --regions F           contours des régions
              --vintage V           millésime affiché (défaut : « COG 2026 »)
              --force               recharge même si les fichiers n'ont pas changé
              --essai               calcule et affiche les changements (collectivités retirées, contours perdus), n'écrit rien
              --accepter-changement accepte un changement que les garde-fous refusent (après un --essai)
          load-if-empty [--data DIR] migre, puis charge les données livrées si la base est vide
          import-status FICHIER --date AAAA-MM-JJ [--incomplet] [--essai] [--accepter-changement]
                                    importe un instantané de l'annuaire OpenDataFrance (CSV , ou ;) comme
                                    observations datées ; réimporter le même fichier n'ajoute rien ;
                                    --incomplet : les absents ne sont pas observés « non listés » ;
                                    --essai : tout est calculé et rapporté (nouvellement ouvertes, plus listées,
                                    jeux de données changés, lignes rejetées), rien n'est écrit
          import-datagouv FICHIER --date AAAA-MM-JJ [--essai] [--accepter-changement]
                                    importe l'export des organisations de data.gouv.fr (CSV ; de udata) comme
                                    observations datées : une organisation dont le SIRET est celui d'une
                                    collectivité est observée avec son nombre de jeux de données (ouverte si ≥ 1)
          Garde-fous : un import qui retirerait une grande part des collectivités ouvertes, rejetterait une
          grande part des lignes ou couvrirait bien moins de communes que les contours actuels est refusé
          (code de sortie 5, rien n'est écrit ; seuils dans la section Imports d'appsettings.json) ;
          --accepter-changement l'accepte quand l'essai a montré que le changement est réel.
          import-platforms [--data DIR]   recharge les plateformes (data/odf/plateformes*.csv)
          import-milestones [--data DIR]  recharge les jalons nationaux (data/milestones.csv)
          import-atd [--data DIR] [--essai] [--accepter-changement]
                                    recharge le registre des ATD (data/atd/) et recalcule la couverture ;
                                    un registre qui retirerait plus de la moitié des ATD est refusé
          bench-indicators [--date AAAA-MM-JJ] [--runs N]
                                    mesure les indicateurs nationaux (sans cache) et la requête SQL plancher
          report [options]          écrit le rapport dans un dossier daté DIR/AAAA-MM-JJ/ (pour une tâche planifiée) :
                                    national.pdf, national.xlsx, un CSV par table (changes.csv compris), graphiques PNG et SVG
              --date AAAA-MM-JJ     date du rapport (défaut : dernière observation)
              --since AAAA-MM-JJ    début de la section « Changements » (défaut : le recensement précédant --date)
              --out DIR             dossier de sortie (défaut : reports/)
              --region CODE         limite le rapport à une région (code INSEE)
              --atd ID              rapport d'ATD : limite au périmètre de cet ATD
              --bench N             mesure au lieu d'écrire : médianes du modèle (SQL), du PDF et du XLSX (scripts/bench-reports.sh)
          keys create --name NOM --role admin|atd-editor [--atd ID] [--expires AAAA-MM-JJ]
                                    crée une clé d'API pour l'API d'écriture et /contribuer ; elle est affichée
                                    une seule fois (seule son empreinte SHA-256 est gardée)
          keys list                 liste les clés (nom, rôle, ATD, début de la clé, expiration, état)
          keys revoke N             révoque la clé n° N : elle est refusée dès la requête suivante
        La base est lue dans ConnectionStrings:Observatoire : la variable d'environnement
        ConnectionStrings__Observatoire, sinon appsettings.Local.json (écrit par scripts/run.sh : la base
        qu'il a servie, --pg-port compris), sinon appsettings.json (à côté du programme).
        Les chemins relatifs partent du dossier où la commande est lancée.
        """;

    /// <summary>The settings file scripts/run.sh writes (git-ignored) so that later commands use its database.</summary>
    public const string LocalSettingsFile = "appsettings.Local.json";

    /// <summary>
    /// The command line's settings, by increasing priority: appsettings.json next to the binary (the
    /// build copies it there, so the working directory does not matter), appsettings.Local.json (next to
    /// the binary or in a folder above it: src/Observatoire/ when run from bin/), environment variables.
    /// </summary>
    public static IConfiguration Configuration(string baseDirectory)
    {
        var b = new ConfigurationBuilder().AddJsonFile(Path.Combine(baseDirectory, "appsettings.json"), optional: true);
        for (var d = new DirectoryInfo(baseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, LocalSettingsFile)))
            {
                b.AddJsonFile(Path.Combine(d.FullName, LocalSettingsFile), optional: true);
                break;
            }
        return b.AddEnvironmentVariables().Build();
    }

    public static async Task<int> RunAsync(string[] args, IConfiguration config)
    {
        var verb = args[0];
        if (verb is "help" or "--help" or "-h") { Console.WriteLine(Usage); return 0; }
        if (!Verbs.Contains(verb))
        {
            Console.Error.WriteLine($"Commande inconnue : {verb}\n\n{Usage}");
            return 64;
        }
        var cs = config.GetConnectionString(Database.ConnectionName);
        if (string.IsNullOrWhiteSpace(cs))
        {
            Console.Error.WriteLine($"Erreur : chaîne de connexion ConnectionStrings:{Database.ConnectionName} introuvable " +
                "(ni dans appsettings.json à côté du programme, ni dans appsettings.Local.json, ni dans la variable d'environnement " +
                "ConnectionStrings__Observatoire).");
            return 3;
        }
        await using var db = Database.CreateDataSource(cs);
        try
        {
            switch (verb)
            {
                case "migrate":
                    await Migrate(db);
                    return 0;
                case "import":
                    await Migrate(db);
                    await new ReferenceImporter(db, Console.Out).ImportAsync(ParseImport(args[1..]) with { Guards = Guards(config, args) });
                    await SeedTiles(db, config);
                    return 0;
                case "import-status":
                {
                    await Migrate(db);
                    var (file, date) = FileAndDate(args, "import-status", "le chemin du fichier CSV", "date d'observation de l'instantané");
                    await new Status.StatusImporter(db, Console.Out) { Guards = Guards(config, args) }.ImportAsync(file, date,
                        complete: !args.Contains("--incomplet"), dryRun: args.Contains("--essai"));
                    await SeedTiles(db, config);
                    return 0;
                }
                case "import-datagouv":
                {
                    await Migrate(db);
                    var (file, date) = FileAndDate(args, "import-datagouv", "le chemin de l'export CSV des organisations", "jour où l'export a été téléchargé");
                    await new Status.DataGouvHarvest(db, Console.Out) { Guards = Guards(config, args) }.ImportAsync(file, date, dryRun: args.Contains("--essai"));
                    await SeedTiles(db, config);
                    return 0;
                }
                case "import-platforms":
                {
                    await Migrate(db);
                    var odf = Path.Combine(DataDir(Opt(args, "--data")), "odf");
                    await Status.PlatformsAndMilestones.ImportPlatformsAsync(db, Path.Combine(odf, "plateformes.csv"),
                        Path.Combine(odf, "plateformes-nationales-2022-10-19.csv"), Console.Out);
                    await SeedTiles(db, config);
                    return 0;
                }
                case "import-milestones":
                    await Migrate(db);
                    await Status.PlatformsAndMilestones.ImportMilestonesAsync(db, Path.Combine(DataDir(Opt(args, "--data")), "milestones.csv"), Console.Out);
                    await SeedTiles(db, config);
                    return 0;
                case "import-atd":
                    await Migrate(db);
                    await new Atds.AtdImporter(db, Console.Out).ImportAsync(Path.Combine(DataDir(Opt(args, "--data")), "atd"),
                        dryRun: args.Contains("--essai"), acceptLargeChange: args.Contains(ImportGuardOptions.AcceptOption));
                    await SeedTiles(db, config);
                    return 0;
                case "bench-indicators":
                {
                    var date = Opt(args, "--date") is { } d ? DateOnly.ParseExact(d, "yyyy-MM-dd") : (DateOnly?)null;
                    var runs = Opt(args, "--runs") is { } r ? int.Parse(r) : 30;
                    await Indicators.IndicatorBenchmark.RunAsync(db, date, runs, Console.Out);
                    return 0;
                }
                case "load-if-empty":
                    await Migrate(db);
                    await using (var cmd = db.CreateCommand("select count(*) from collectivite"))
                        if ((long)(await cmd.ExecuteScalarAsync())! > 0)
                        {
                            Console.WriteLine("Base déjà chargée : pas d'import.");
                            await SeedTiles(db, config);   // resumes a seed an interruption left unfinished
                            return 0;
                        }
                    Console.WriteLine("Base vide : chargement des données livrées (une minute environ)…");
                    var i = Array.IndexOf(args, "--data");
                    await BundledData.LoadAsync(db, DataDir(i > 0 && i + 1 < args.Length ? args[i + 1] : null), Console.Out,
                        map: MapOptionsOf(config));
                    return 0;
                case "report":
                    return await ReportFolder.RunAsync(db, args[1..], Console.Out, Console.Error);
                case "keys":
                    await Migrate(db, quiet: true);
                    return await Contributions.ApiKeys.RunAsync(db, args[1..], Console.Out, Console.Error);
            }
        }
        catch (ImportRefusedException e)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine("Rien n'a été modifié dans la base.");
            return 5;
        }
        catch (ImportException e)
        {
            Console.Error.WriteLine("Erreur d'import : " + e.Message);
            Console.Error.WriteLine("Rien n'a été modifié dans la base.");
            return 2;
        }
        catch (PostgresException e)
        {
            Console.Error.WriteLine($"Erreur PostgreSQL {e.SqlState} : {e.MessageText}");
            Console.Error.WriteLine("La transaction a été annulée : rien n'a été modifié dans la base.");
            return 4;
        }
        catch (NpgsqlException e)
        {
            Console.Error.WriteLine($"Erreur : la base PostgreSQL est injoignable ({e.Message}). Démarrez-la avec scripts/run.sh ou vérifiez ConnectionStrings__Observatoire.");
            return 3;
        }
        throw new InvalidOperationException("verbe sans traitement : " + verb);
    }

    /// <summary>The file (first argument) and <c>--date</c> of a dated import, or a French error naming what is missing.</summary>
    static (string File, DateOnly Date) FileAndDate(string[] args, string verb, string file, string date) => (
        args.Length > 1 && !args[1].StartsWith("--") ? args[1] : throw new ImportException($"{verb} attend {file} (voir « help »)."),
        Opt(args, "--date") is { } d && DateOnly.TryParseExact(d, "yyyy-MM-dd", out var dd) ? dd
            : throw new ImportException($"{verb} attend --date AAAA-MM-JJ ({date})."));

    static readonly string[] Verbs = ["migrate", "import", "load-if-empty", "import-status", "import-datagouv", "import-platforms", "import-milestones", "import-atd", "bench-indicators", "report", "keys"];

    static ImportGuardOptions Guards(IConfiguration config, string[] args) =>
        ImportGuardOptions.From(config, args.Contains(ImportGuardOptions.AcceptOption));

    static Map.MapOptions MapOptionsOf(IConfiguration config) => config.GetSection("Map").Get<Map.MapOptions>() ?? new();

    /// <summary>After an import: pre-render the default map tiles of the new data release (skipped when already done).</summary>
    static Task SeedTiles(NpgsqlDataSource db, IConfiguration config) => Tiles.TileStore.SeedAsync(db, MapOptionsOf(config), Console.Out);

    static async Task Migrate(NpgsqlDataSource db, bool quiet = false)
    {
        var applied = await Migrator.MigrateAsync(db, quiet ? TextWriter.Null : Console.Out);
        if (!quiet || applied.Count > 0) Console.WriteLine(applied.Count == 0 ? "Schéma à jour." : $"{applied.Count} migration(s) appliquée(s).");
    }

    /// <summary>The repository's data/ folder: found by walking up from the binary and the working directory.</summary>
    public static string DataDir(string? explicitDir)
    {
        if (explicitDir is not null) return explicitDir;
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "data", "cog-2026", "SOURCE.md")))
                    return Path.Combine(d.FullName, "data");
        throw new ImportException("Dossier data/ introuvable : lancez la commande depuis le dépôt ou passez --data DIR.");
    }

    static string? Opt(string[] a, string name)
    {
        var i = Array.IndexOf(a, name);
        if (i < 0) return null;
        return i + 1 < a.Length ? a[i + 1] : throw new ImportException($"L'option {name} attend une valeur.");
    }

    static ReferenceImportOptions ParseImport(string[] a)
    {
        string? Opt(string name)
        {
            var i = Array.IndexOf(a, name);
            if (i < 0) return null;
            if (i + 1 >= a.Length) throw new ImportException($"L'option {name} attend une valeur.");
            return a[i + 1];
        }
        foreach (var x in a.Where(x => x.StartsWith("--")))
            if (x is not ("--data" or "--cog" or "--communes" or "--departements" or "--regions" or "--vintage" or "--force"
                    or "--essai" or ImportGuardOptions.AcceptOption))
                throw new ImportException($"Option inconnue : {x} (voir « help »).");
        var d = ReferenceImportOptions.Bundled(DataDir(Opt("--data")));
        return d with
        {
            CogDirectory = Opt("--cog") ?? d.CogDirectory,
            CommunesGeo = Opt("--communes") ?? d.CommunesGeo,
            DepartementsGeo = Opt("--departements") ?? d.DepartementsGeo,
            RegionsGeo = Opt("--regions") ?? d.RegionsGeo,
            Vintage = Opt("--vintage") ?? d.Vintage,
            Force = a.Contains("--force"),
            DryRun = a.Contains("--essai"),
        };
    }
}
