-- Reference list of collectivités (COG) and their geometry. Issue #2.
create extension if not exists postgis;
create extension if not exists unaccent;

-- One row per load of a data source; the newest id is the "data release" behind ETags and caches.
create table data_release (
    id          serial primary key,
    kind        text not null,            -- reference | status | atd | ...
    vintage     text not null,            -- e.g. 'COG 2026', '2022-10-19'
    checksum    text not null,            -- sha-256 of the input files
    loaded_at   timestamptz not null default now(),
    report      jsonb not null default '{}'::jsonb
);

-- Every collectivité proper: communes, EPCI à fiscalité propre, EPT, départements, régions, and the
-- collectivités d'outre-mer (type COLOM, flagged, outside the 101/18 counts). Narrow on purpose:
-- no geometry here, analysts and OData query this table.
create table collectivite (
    id                        text primary key,          -- '<TYPE GROUP>-<code>': COM-35238, EPCI-243500139, EPT-200057867, DEP-35, REG-53, COLOM-975
    siren                     char(9),
    code                      text not null,             -- INSEE code; SIREN for EPCI/EPT
    type                      text not null check (type in ('COM','CC','CA','CU','MET','EPT','DEP','REG','COLOM')),
    name                      text not null,
    population                integer,
    population_band           text,
    departement_code          text,
    region_code               text,
    epci_siren                char(9),
    ept_siren                 char(9),
    zone                      text not null check (zone in ('metro','drom','com')),
    is_overseas_collectivity  boolean not null,          -- zone 'com': kept, flagged, outside the 101/18 counts
    member_count              integer,                   -- EPCI/EPT/DEP/REG/COLOM: current communes inside
    staff                     integer,                   -- agents (FTE); null = unknown (see obligation rule)
    is_obliged                boolean not null default false,
    has_geometry              boolean not null default false,
    search_name               text not null,             -- lower-case, no accents, hyphens/apostrophes as spaces
    vintage                   text not null
);
create index collectivite_type_idx on collectivite (type);
create index collectivite_siren_idx on collectivite (siren);
create index collectivite_code_idx on collectivite (code);
create index collectivite_dep_idx on collectivite (departement_code);
create index collectivite_reg_idx on collectivite (region_code);
create index collectivite_epci_idx on collectivite (epci_siren);

-- Former communes (communes déléguées / associées, and each current commune's anciensCodes): the
-- status import resolves old identifiers through them.
create table former_commune (
    code          text not null,
    kind          text not null check (kind in ('commune-deleguee','commune-associee','ancien-code')),
    name          text,
    current_code  text not null,
    primary key (code, kind, current_code)
);
create index former_commune_current_idx on former_commune (current_code);

-- Geometry kept apart from the narrow table. geom_low and geom_mid are pre-simplified once per import
-- (coverage-preserving: neighbours keep shared borders); see Geometry/ZoomBands.cs for which zooms use which.
create table collectivite_geometry (
    collectivite_id  text primary key references collectivite (id) on delete cascade,
    geom             geometry(MultiPolygon, 4326) not null,
    geom_mid         geometry(MultiPolygon, 4326) not null,
    geom_low         geometry(MultiPolygon, 4326) not null,
    label_point      geometry(Point, 4326) not null,
    source           text not null check (source in ('fichier','union-anciens-codes','union-membres')),
    repaired         boolean not null default false
);
create index collectivite_geometry_geom_gix on collectivite_geometry using gist (geom);
create index collectivite_geometry_mid_gix on collectivite_geometry using gist (geom_mid);
create index collectivite_geometry_low_gix on collectivite_geometry using gist (geom_low);
create index collectivite_geometry_label_gix on collectivite_geometry using gist (label_point);

-- Search without accents: "saint etienne" finds Saint-Étienne.
create or replace function search_key(t text) returns text
language sql immutable parallel safe as
$$ select trim(regexp_replace(lower(public.unaccent('public.unaccent'::regdictionary, coalesce(t, ''))), '[^a-z0-9]+', ' ', 'g')) $$;
