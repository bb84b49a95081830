using Microsoft.OData.Edm;
using Microsoft.OData.Edm.Csdl;
using Microsoft.OData.Edm.Vocabularies;
using Microsoft.OData.Edm.Vocabularies.V1;
using Microsoft.OData.ModelBuilder;

namespace Observatoire.OData;

/// <summary>
/// The EDM model served at /odata/$metadata: entity sets and names of docs/api.md, with a French
/// Core.Description on every entity set and main property (Excel and Power BI show them), and the
/// Capabilities the service honours.
/// </summary>
public static class ODataModel
{
    public const string Namespace = "Observatoire";

    static readonly Dictionary<string, string> SetDescriptions = new()
    {
        ["Collectivites"] = "Collectivités du référentiel (COG 2026) : communes, EPCI à fiscalité propre, EPT, départements, régions, collectivités d'outre-mer, avec leur statut open data actuel.",
        ["Observations"] = "Observations datées du statut open data d'une organisation, une ligne par source et par date (historique jamais réécrit).",
        ["Platforms"] = "Plateformes de publication (portails) et leur mode de collaboration.",
        ["Atds"] = "Animateurs territoriaux des données (ATD) et leur périmètre.",
        ["AssociatedActors"] = "Acteurs associés qui ne sont pas des collectivités du référentiel (syndicats, GIP, offices…).",
        ["Milestones"] = "Comptes nationaux publiés par chaque édition de l'observatoire.",
        ["AuditEntries"] = "Journal d'audit des écritures (contributions, imports d'instantanés), refusées comprises ; réservé aux administrateurs (clé d'API).",
        ["CollectiviteChanges"] = "Collectivités dont le statut a changé entre les deux derniers recensements de l'annuaire ; entre deux dates quelconques, utilisez la fonction Changes(From=AAAA-MM-JJ,To=AAAA-MM-JJ).",
        ["CollectiviteStatuses"] = "Statut de chaque collectivité à la date du jour ; pour une autre date, utilisez la fonction StatusOn(Date=AAAA-MM-JJ).",
    };

    static readonly Dictionary<string, string> PropertyDescriptions = new()
    {
        ["Collectivite.Id"] = "Identifiant stable : TYPE-CODE (COM-35238, EPCI-243500139, DEP-35, REG-53…).",
        ["Collectivite.Siren"] = "Numéro SIREN (9 chiffres) quand il est connu.",
        ["Collectivite.Code"] = "Code INSEE (commune 35238, département 2A, région 53) ; le SIREN pour un EPCI ou un EPT.",
        ["Collectivite.Type"] = "COM, CC, CA, CU, MET (métropoles dont la Métropole de Lyon), EPT, DEP, REG, COLOM (collectivité d'outre-mer).",
        ["Collectivite.Name"] = "Nom officiel.",
        ["Collectivite.Population"] = "Population du millésime de référence (somme des communes pour un département ou une région).",
        ["Collectivite.PopulationBand"] = "Strate de population : <500, 500-1999, 2000-3499, 3500-9999, 10000-19999, 20000-49999, 50000-99999, >=100000.",
        ["Collectivite.DepartementCode"] = "Code du département de rattachement.",
        ["Collectivite.RegionCode"] = "Code de la région de rattachement.",
        ["Collectivite.EpciSiren"] = "SIREN de l'EPCI à fiscalité propre dont la commune est membre.",
        ["Collectivite.EptSiren"] = "SIREN de l'établissement public territorial (Grand Paris) dont la commune est membre.",
        ["Collectivite.Zone"] = "metro (métropole), drom (départements et régions d'outre-mer) ou com (collectivités d'outre-mer).",
        ["Collectivite.IsOverseasCollectivity"] = "Vrai pour les collectivités d'outre-mer (975, 977, 978, 984, 986-989) et leurs communes, hors des comptes nationaux et de l'obligation : IsOverseasCollectivity eq false donne les totaux de /api/indicators.",
        ["Collectivite.MemberCount"] = "Nombre de communes membres (EPCI, EPT, département, région).",
        ["Collectivite.IsObliged"] = "Soumise à l'obligation d'ouverture des données (au moins 3 500 habitants et 50 agents, loi pour une République numérique). Borne haute : l'effectif est inconnu, compté comme au moins 50. Chaque personne morale une fois : Paris département, Corse-du-Sud, Haute-Corse, Martinique et Guyane départements, Mayotte région et Haut-Rhin valent false (comptés avec la Ville de Paris, la Collectivité de Corse, etc.).",
        ["Collectivite.IsOpen"] = "Ouverte selon la dernière observation (publie au moins un jeu de données).",
        ["Collectivite.FirstSeenOpen"] = "Observée ouverte depuis : date de la première observation où elle apparaît ouverte (pas la date de son ouverture, qui peut être antérieure).",
        ["Collectivite.DatasetCount"] = "Nombre de jeux de données de la dernière observation (vide = inconnu).",
        ["Collectivite.LastObservedOn"] = "Date de la dernière observation.",
        ["Collectivite.AtdCount"] = "Nombre d'ATD dont le périmètre la couvre.",
        ["Collectivite.OpenFlag"] = "1 si ouverte, 0 sinon : à sommer ou moyenner dans $apply (taux d'ouverture).",
        ["Collectivite.ObligedFlag"] = "1 si soumise à l'obligation, 0 sinon.",
        ["Collectivite.ObligedOpenFlag"] = "1 si soumise à l'obligation et ouverte, 0 sinon : sum(ObligedOpenFlag) / sum(ObligedFlag) donne le taux d'ouverture des obligées.",
        ["Collectivite.Epci"] = "EPCI à fiscalité propre de la commune.",
        ["Collectivite.Departement"] = "Département de rattachement.",
        ["Collectivite.Region"] = "Région de rattachement.",
        ["Collectivite.Members"] = "Communes membres (pour un EPCI).",
        ["Collectivite.Observations"] = "Historique des observations de son statut.",
        ["Collectivite.Atds"] = "ATD dont le périmètre la couvre.",
        ["Observation.ObservedOn"] = "Date de l'observation.",
        ["Observation.Source"] = "Source (par exemple odf-2022-10-19).",
        ["Observation.IsListed"] = "Vrai : listée comme publiant ce jour-là (ouverte) ; faux : absente d'un recensement complet.",
        ["Observation.DatasetsLocal"] = "Jeux de données sur le portail local (vide = inconnu).",
        ["Observation.DatasetsDatagouv"] = "Jeux de données sur data.gouv.fr (vide = inconnu).",
        ["Observation.MatchMethod"] = "Rapprochement avec le référentiel : siren, homonym, code, merger, name, location, actor, unmatched ; contribution pour une observation enregistrée par un ATD ou l'équipe.",
        ["Observation.SupersededBy"] = "Observation qui corrige celle-ci (elle ne compte plus dans le statut, mais reste dans l'historique).",
        ["Observation.Note"] = "Note du contributeur.",
        ["Observation.Contributor"] = "Nom de la clé d'API qui a enregistré l'observation (vide pour les imports).",
        ["Platform.CollaborationMode"] = "Mode de collaboration : dedicated, mutualised, partnership, shared.",
        ["Platform.HostedSirens"] = "SIREN des organisations hébergées.",
        ["Atd.Kind"] = "Nature de l'ATD (région, département, EPCI, syndicat mixte, GIP…).",
        ["Atd.PerimeterCodes"] = "Codes du périmètre (région, départements, EPCI ou communes).",
        ["Atd.CoveredCount"] = "Collectivités couvertes par le périmètre.",
        ["Atd.CoveredObligedCount"] = "Collectivités obligées couvertes.",
        ["Atd.CoveredObligedOpenCount"] = "Collectivités obligées couvertes et ouvertes.",
        ["Atd.Collectivites"] = "Collectivités couvertes par le périmètre.",
        ["Milestone.OpenCount"] = "Collectivités ouvertes publiées par l'édition.",
        ["Milestone.ObligedTotal"] = "Collectivités obligées selon l'édition.",
        ["Milestone.ObligedOpen"] = "Collectivités obligées et ouvertes selon l'édition.",
        ["CollectiviteChange.Change"] = "newly_open (ouverte à la seconde date, pas à la première), no_longer_listed (l'inverse), datasets_up, datasets_down (ouverte aux deux dates, nombre de jeux de données connu aux deux dates, en hausse ou en baisse).",
        ["CollectiviteChange.DateFrom"] = "Première date comparée.",
        ["CollectiviteChange.DateTo"] = "Seconde date comparée.",
        ["CollectiviteChange.ObservationBefore"] = "Observation qui décide du statut à la première date (Observations).",
        ["CollectiviteChange.ObservationAfter"] = "Observation qui décide du statut à la seconde date (Observations).",
        ["CollectiviteStatus.Date"] = "Date d'évaluation du statut.",
        ["CollectiviteStatus.IsOpen"] = "Ouverte à cette date (dernière observation à cette date ou avant).",
        ["CollectiviteStatus.DatasetCount"] = "Jeux de données à cette date (vide = inconnu).",
        ["CollectiviteStatus.ObligedOpenFlag"] = "1 si obligée et ouverte à cette date, 0 sinon.",
        ["CollectiviteStatus.Observed"] = "Faux quand la date précède toute observation : le statut est alors inconnu (IsOpen faux ne veut pas dire fermée).",
    };

    /// <summary>The one model of the service (routing, the guard's path parsing, $metadata).</summary>
    public static IEdmModel Instance { get; } = Build();

    static IEdmModel Build()
    {
        var b = new ODataConventionModelBuilder { Namespace = Namespace, ContainerName = "Observatoire" };
        var c = b.EntitySet<Collectivite>("Collectivites").EntityType;
        c.Ignore(x => x.SearchName);
        c.Ignore(x => x.EpciId);
        c.Ignore(x => x.DepartementId);
        c.Ignore(x => x.RegionId);
        b.EntitySet<Observation>("Observations");
        b.EntitySet<Platform>("Platforms");
        b.EntitySet<AuditEntry>("AuditEntries");
        b.EntitySet<Atd>("Atds");
        b.EntitySet<AssociatedActor>("AssociatedActors");
        b.EntitySet<Milestone>("Milestones").EntityType.HasKey(x => x.ObservedOn);
        b.EntitySet<CollectiviteStatus>("CollectiviteStatuses").EntityType.HasKey(x => x.Id);
        b.EntitySet<CollectiviteChange>("CollectiviteChanges").EntityType.HasKey(x => x.Id);
        var changes = b.Function("Changes");
        changes.Parameter<DateOnly>("From");
        changes.Parameter<DateOnly>("To");
        changes.ReturnsCollectionFromEntitySet<CollectiviteChange>("CollectiviteChanges");
        changes.IncludeInServiceDocument = false;
        var statusOn = b.Function("StatusOn");
        statusOn.ReturnsCollectionFromEntitySet<CollectiviteStatus>("CollectiviteStatuses");
        statusOn.Parameter<DateOnly>("Date");
        statusOn.IncludeInServiceDocument = false; // a function with a parameter cannot be listed there (CSDL rule)
        foreach (var t in b.StructuralTypes) t.Namespace = Namespace;

        var model = (EdmModel)b.GetEdmModel();
        var container = model.EntityContainer;
        foreach (var set in container.EntitySets())
            if (SetDescriptions.TryGetValue(set.Name, out var d)) model.SetDescriptionAnnotation(set, d);
        foreach (var type in model.SchemaElements.OfType<IEdmEntityType>())
            foreach (var p in type.DeclaredProperties)
                if (PropertyDescriptions.TryGetValue($"{type.Name}.{p.Name}", out var d)) model.SetDescriptionAnnotation(p, d);
        if (container.FindOperationImports("StatusOn").FirstOrDefault() is { } fn)
            model.SetDescriptionAnnotation(fn, "Statut de chaque collectivité à une date passée : StatusOn(Date=2022-10-19). Se combine avec $filter, $apply, $count.");

        Capabilities(model, container);
        return model;
    }

    /// <summary>
    /// What the service honours, in the Capabilities vocabulary, and the references to the Core and
    /// Capabilities vocabularies it uses: read-only, no $batch, $count/$filter/$orderby/$top/$skip/
    /// $expand (two levels) everywhere, $search on Collectivites only. The page sizes have no term:
    /// Core.LongDescription on the container says them (docs/odata.md too).
    /// </summary>
    static void Capabilities(EdmModel model, IEdmEntityContainer container)
    {
        const string core = "Org.OData.Core.V1", caps = "Org.OData.Capabilities.V1";
        var coreRef = new EdmReference(new Uri("https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Core.V1.xml"));
        coreRef.AddInclude(new EdmInclude("Core", core));
        var capsRef = new EdmReference(new Uri("https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Capabilities.V1.xml"));
        capsRef.AddInclude(new EdmInclude("Capabilities", caps));
        model.SetEdmReferences([coreRef, capsRef]);

        IEdmTerm Term(string name) => CapabilitiesVocabularyModel.Instance.FindDeclaredTerm($"{caps}.{name}")!;
        void Annotate(IEdmVocabularyAnnotatable target, string term, IEdmExpression value)
        {
            var a = new EdmVocabularyAnnotation(target, Term(term), value);
            a.SetSerializationLocation(model, EdmVocabularyAnnotationSerializationLocation.Inline);
            model.SetVocabularyAnnotation(a);
        }
        static EdmRecordExpression Record(params (string Name, IEdmExpression Value)[] p) =>
            new(p.Select(x => new EdmPropertyConstructor(x.Name, x.Value)));
        static EdmBooleanConstant Bool(bool b) => new(b);

        Annotate(container, "BatchSupported", Bool(false));
        var longDescription = CoreVocabularyModel.Instance.FindDeclaredTerm($"{core}.LongDescription")!;
        model.SetVocabularyAnnotation(new EdmVocabularyAnnotation(container, longDescription, new EdmStringConstant(
            $"Service en lecture seule. Pages de {ODataSetup.PageSize} lignes au plus (@odata.nextLink pour la suite ; Prefer: odata.maxpagesize pour moins), "
            + $"{ODataSetup.ExpandPageSize} lignes par page et par collection développée quand $expand atteint une collection ({ODataSetup.NestedExpandPageSize} pour une collection dans une collection), "
            + $"$expand sur {ODataSetup.MaxExpansionDepth} niveaux, $skip jusqu'à {ODataSetup.MaxSkip}, "
            + "et un temps maximal par requête (503 QueryTimeout au-delà). Détails : docs/odata.md.")));
        foreach (var set in container.EntitySets())
        {
            Annotate(set, "CountRestrictions", Record(("Countable", Bool(true))));
            Annotate(set, "FilterRestrictions", Record(("Filterable", Bool(true))));
            Annotate(set, "SortRestrictions", Record(("Sortable", Bool(true))));
            Annotate(set, "TopSupported", Bool(true));
            Annotate(set, "SkipSupported", Bool(true));
            Annotate(set, "SearchRestrictions", Record(("Searchable", Bool(set.Name == "Collectivites"))));
            Annotate(set, "ExpandRestrictions", Record(("Expandable", Bool(true)), ("MaxLevels", new EdmIntegerConstant(ODataSetup.MaxExpansionDepth))));
            Annotate(set, "InsertRestrictions", Record(("Insertable", Bool(false))));
            Annotate(set, "UpdateRestrictions", Record(("Updatable", Bool(false))));
            Annotate(set, "DeleteRestrictions", Record(("Deletable", Bool(false))));
        }
    }
}
