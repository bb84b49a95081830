-- Open-data status with history, platforms, associated actors, milestones, ATD coverage. Issue #3.
-- Contract relied on by the API, the map and the reports: the derived columns on collectivite, the
-- table names and the function status_on(date). Add columns freely; rename nothing.

-- Derived from observations / ATD coverage, refreshed (in the importing transaction) by every status
-- or ATD import; never edited by hand. Kept on the narrow table so OData filters and sorts on them.
alter table collectivite
    add column is_open          boolean not null default false,  -- open as of the latest observation
    add column first_seen_open  date,                             -- first observation showing it open
    add column dataset_count    integer,                          -- datasets in the latest observation (null = unknown)
    add column last_observed_on date,
    add column atd_count        integer not null default 0;       -- ATD whose perimeter covers it
-- The few open collectivités, found without a scan (indicators: Indicators/IndicatorQueries.cs).
create index collectivite_open_idx on collectivite (id) where is_open;

-- Publication platforms (portals) of the OpenDataFrance table.
create table platform (
    id                  text primary key,
    name                text not null,
    url                 text,
    type                text,
    collaboration_mode  text,           -- dedicated | mutualised | partnership | shared (as the source says it, normalised)
    technology          text,
    hosted_sirens       text[] not null default '{}',
    source              text not null
);

-- Organisations of the directory that are not collectivités of the reference list (AGCT, OACT/OAGT, DSPT, SDE…).
create table associated_actor (
    id                text primary key,
    siren             char(9),
    name              text not null,
    type              text not null,
    departement_code  text,
    location          geometry(Point, 4326)
);
create index associated_actor_location_gix on associated_actor using gist (location);

-- One row per (observed organisation, date, source). Never updated by a later snapshot: history.
create table observation (
    id                   bigserial primary key,
    subject_key          text not null,        -- identity of the observed organisation as the source gives it (cleaned SIREN, or name+dep)
    collectivite_id      text references collectivite (id) on delete set null,
    associated_actor_id  text references associated_actor (id) on delete cascade,
    observed_on          date not null,
    source               text not null,        -- e.g. 'odf-2022-10-19'
    is_listed            boolean not null,     -- true: listed as a publisher that day (open); false: absent from a complete snapshot
    datasets_local       integer,              -- null = unknown, never zero by default
    datasets_datagouv    integer,
    platforms            text,
    url                  text,
    match_method         text not null,        -- siren | code | merger | name | location | actor | unmatched
    match_evidence       text,
    -- The organisation as the source row describes it: kept so the matching can be re-run after a
    -- reference re-import (Status/StatusMatching.cs) without the original file.
    subject_siren        char(9),
    subject_name         text,
    subject_type         text,
    subject_departement  text,
    subject_region       text,
    location             geometry(Point, 4326),
    source_line          integer,              -- line of the row in its file (header = line 1); null for derived "not listed" rows
    unique (subject_key, observed_on, source)
);
create index observation_collectivite_idx on observation (collectivite_id, observed_on);
create index observation_source_idx on observation (source);

-- One row per imported directory snapshot: the identity of a file (checksum) so a re-import is a no-op,
-- and whether it is complete (absent organisations are then observed "not listed" that day).
create table status_snapshot (
    source       text primary key,             -- e.g. 'odf-2022-10-19'
    observed_on  date not null,
    file         text not null,
    checksum     text not null,
    complete     boolean not null default true,
    row_count    integer not null,
    release_id   integer references data_release (id) on delete set null
);

-- Rows of an input file that were not loaded, with their reason (import report).
create table import_rejection (
    release_id  integer not null references data_release (id) on delete cascade,
    file        text not null,
    line        integer not null,
    reason      text not null,
    raw         text
);

-- Published national counts per observatoire edition (data/milestones.csv).
create table milestone (
    observed_on     date primary key,
    open_count      integer not null,
    obliged_total   integer,
    obliged_open    integer,
    note            text,
    source          text
);

-- ATD registry (data/atd/). perimeter: union of the perimeter's collectivités' geometry.
create table atd (
    id               text primary key,
    name             text not null,
    kind             text not null,
    scale            text,
    siren            char(9),
    perimeter_type   text,
    perimeter_codes  text[] not null default '{}',
    seasons          text[] not null default '{}',
    source           text,
    note             text,
    collectivite_id  text references collectivite (id) on delete set null,
    perimeter        geometry(MultiPolygon, 4326)
);
create index atd_perimeter_gix on atd using gist (perimeter);

create table atd_coverage (
    atd_id           text not null references atd (id) on delete cascade,
    collectivite_id  text not null references collectivite (id) on delete cascade,
    primary key (atd_id, collectivite_id)
);
create index atd_coverage_collectivite_idx on atd_coverage (collectivite_id);

create table accompanied_commune (
    atd_id  text not null references atd (id) on delete cascade,
    insee   text not null,
    name    text,
    phase   text,
    source  text,
    primary key (atd_id, insee)
);

-- Status of every collectivité on date d: its latest observation day on or before d decides; no
-- observation yet = not open, dataset count unknown. Several observed organisations may resolve to the
-- same collectivité on one day (an old and a new SIREN after a merger): the day counts as listed when any
-- of them is listed, and its dataset count is the sum of the known counts (null when none is known).
create or replace function status_on(d date)
returns table (collectivite_id text, is_open boolean, dataset_count integer, first_seen_open date)
language sql stable parallel safe as $$
    with day as (
        select ob.collectivite_id, ob.observed_on, bool_or(ob.is_listed) as listed,
               sum(coalesce(ob.datasets_local, 0) + coalesce(ob.datasets_datagouv, 0))
                   filter (where ob.is_listed and (ob.datasets_local is not null or ob.datasets_datagouv is not null)) as datasets
          from observation ob
         where ob.collectivite_id is not null and ob.observed_on <= d
         group by ob.collectivite_id, ob.observed_on),
    latest as (
        select distinct on (day.collectivite_id) day.collectivite_id, day.listed, day.datasets
          from day order by day.collectivite_id, day.observed_on desc),
    first_open as (
        select day.collectivite_id, min(day.observed_on) as first_open from day where day.listed group by day.collectivite_id)
    select c.id,
           coalesce(l.listed, false),
           case when l.listed then l.datasets::integer end,
           f.first_open
      from collectivite c
      left join latest l on l.collectivite_id = c.id
      left join first_open f on f.collectivite_id = c.id
$$;
