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
    match_method         text not null,        -- siren | merger | location | name | unmatched
    match_evidence       text,
    unique (subject_key, observed_on, source)
);
create index observation_collectivite_idx on observation (collectivite_id, observed_on);

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

-- Status of every collectivité on date d: its latest observation on or before d decides; no
-- observation yet = not open, dataset count unknown.
create or replace function status_on(d date)
returns table (collectivite_id text, is_open boolean, dataset_count integer, first_seen_open date)
language sql stable parallel safe as $$
    select c.id,
           coalesce(o.is_listed, false),
           case when o.is_listed and (o.datasets_local is not null or o.datasets_datagouv is not null)
                then coalesce(o.datasets_local, 0) + coalesce(o.datasets_datagouv, 0) end,
           f.first_open
      from collectivite c
      left join lateral (
           select ob.is_listed, ob.datasets_local, ob.datasets_datagouv from observation ob
            where ob.collectivite_id = c.id and ob.observed_on <= d
            order by ob.observed_on desc, ob.is_listed desc limit 1) o on true
      left join lateral (
           select min(ob.observed_on) as first_open from observation ob
            where ob.collectivite_id = c.id and ob.is_listed and ob.observed_on <= d) f on true
$$;
