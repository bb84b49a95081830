using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OData.Results;
using Microsoft.AspNetCore.OData.Routing.Controllers;

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

/// <summary>Status of every collectivité on a date: the set (today) and the function StatusOn(Date=…).</summary>
public sealed class CollectiviteStatusesController(ODataDb db) : ODataController
{
    [ObservatoireQuery] public IQueryable<CollectiviteStatus> Get() => db.StatusOn(DateOnly.FromDateTime(DateTime.Today));

    [ObservatoireQuery]
    [HttpGet("odata/StatusOn(Date={date})")]
    public IQueryable<CollectiviteStatus> StatusOn(DateOnly date) => db.StatusOn(date);
}
