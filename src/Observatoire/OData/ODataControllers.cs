using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OData.Results;
using Microsoft.AspNetCore.OData.Routing.Controllers;
using Observatoire.Api;

namespace Observatoire.OData;

// One controller per entity set (conventional OData routing: /odata/{Set} and /odata/{Set}(key)).
// Each returns an IQueryable that ObservatoireQuery turns into one SQL statement (plus one for $count).

public sealed class CollectivitesController(ODataDb db) : ODataController
{
    [ObservatoireQuery] public IQueryable<Collectivite> Get() => db.Collectivites;
    [ObservatoireQuery] public SingleResult<Collectivite> Get(string key) => SingleResult.Create(db.Collectivites.Where(x => x.Id == key));
}

public sealed class ObservationsController(ODataDb db) : ODataController
{
    [ObservatoireQuery] public IQueryable<Observation> Get() => db.Observations;
    [ObservatoireQuery] public SingleResult<Observation> Get(long key) => SingleResult.Create(db.Observations.Where(x => x.Id == key));
}

/// <summary>The audit log: ODataGuard lets administrators only reach it.</summary>
public sealed class AuditEntriesController(ODataDb db) : ODataController
{
    [ObservatoireQuery] public IQueryable<AuditEntry> Get() => db.AuditEntries;
    [ObservatoireQuery] public SingleResult<AuditEntry> Get(long key) => SingleResult.Create(db.AuditEntries.Where(x => x.Id == key));
}

public sealed class PlatformsController(ODataDb db) : ODataController
{
    [ObservatoireQuery] public IQueryable<Platform> Get() => db.Platforms;
    [ObservatoireQuery] public SingleResult<Platform> Get(string key) => SingleResult.Create(db.Platforms.Where(x => x.Id == key));
}

public sealed class AtdsController(ODataDb db) : ODataController
{
    [ObservatoireQuery] public IQueryable<Atd> Get() => db.Atds;
    [ObservatoireQuery] public SingleResult<Atd> Get(string key) => SingleResult.Create(db.Atds.Where(x => x.Id == key));
}

public sealed class AssociatedActorsController(ODataDb db) : ODataController
{
    [ObservatoireQuery] public IQueryable<AssociatedActor> Get() => db.AssociatedActors;
    [ObservatoireQuery] public SingleResult<AssociatedActor> Get(string key) => SingleResult.Create(db.AssociatedActors.Where(x => x.Id == key));
}

public sealed class MilestonesController(ODataDb db) : ODataController
{
    [ObservatoireQuery] public IQueryable<Milestone> Get() => db.Milestones;
    [ObservatoireQuery] public SingleResult<Milestone> Get(DateOnly key) => SingleResult.Create(db.Milestones.Where(x => x.ObservedOn == key));
}

/// <summary>What changed: the set (between the last two directory snapshots) and the function Changes(From=…,To=…).</summary>
public sealed partial class CollectiviteChangesController(ODataDb db) : ODataController
{
    [ObservatoireQuery] public IQueryable<CollectiviteChange> Get() => db.LatestChanges();

    /// <remarks>As StatusOn: the segment is checked here (two parameters, From before To, no key after).</remarks>
    [ObservatoireQuery]
    [HttpGet("odata/Changes(From={from},To={to})")]
    public IQueryable<CollectiviteChange> Changes(DateOnly from, DateOnly to)
    {
        var segment = Request.Path.Value!.Split('/')[2];
        if (!ChangesSegment().IsMatch(segment) || from > to)
            throw new ODataClientException(new(400, "BadRequest",
                "Changes prend deux paramètres, From=AAAA-MM-JJ puis To=AAAA-MM-JJ (From avant To), sans clé après : pour une collectivité, ajoutez $filter=Id eq 'COM-35238'.",
                "Changes takes two parameters, From=YYYY-MM-DD then To=YYYY-MM-DD (From before To), and no key after it: for one collectivité, add $filter=Id eq 'COM-35238'.",
                null, "Changes"));
        return db.Changes(from, to);
    }

    [GeneratedRegex(@"^Changes\(From=\d{4}-\d{2}-\d{2},To=\d{4}-\d{2}-\d{2}\)$")]
    private static partial Regex ChangesSegment();
}

/// <summary>Status of every collectivité on a date: the set (today) and the function StatusOn(Date=…).</summary>
public sealed partial class CollectiviteStatusesController(ODataDb db) : ODataController
{
    [ObservatoireQuery] public IQueryable<CollectiviteStatus> Get() => db.StatusOn(QueryParameters.Today);

    /// <remarks>
    /// The route template captures whatever sits between "Date=" and the last ")" of the segment, so
    /// StatusOn(Date=2022-10-19,Foo=1) or StatusOn(Date=2022-10-19)('COM-35238') reach this action with
    /// a date parsed from the start; the segment is checked here: one parameter, Date, and no key.
    /// </remarks>
    [ObservatoireQuery]
    [HttpGet("odata/StatusOn(Date={date})")]
    public IQueryable<CollectiviteStatus> StatusOn(DateOnly date)
    {
        var segment = Request.Path.Value!.Split('/')[2];
        if (!StatusOnSegment().IsMatch(segment))
            throw new ODataClientException(new(400, "BadRequest",
                "StatusOn prend un seul paramètre, Date=AAAA-MM-JJ, sans clé après : pour une collectivité, ajoutez $filter=Id eq 'COM-35238'.",
                "StatusOn takes one parameter, Date=YYYY-MM-DD, and no key after it: for one collectivité, add $filter=Id eq 'COM-35238'.",
                null, "StatusOn"));
        return db.StatusOn(date);
    }

    [GeneratedRegex(@"^StatusOn\(Date=\d{4}-\d{2}-\d{2}\)$")]
    private static partial Regex StatusOnSegment();
}
