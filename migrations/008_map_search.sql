-- Search that tolerates typos ("Renes" finds Rennes): trigram similarity on the search key
-- (search_key(name), migration 001). pg_trgm ships with PostgreSQL's contrib package.
create extension if not exists pg_trgm;

create index if not exists collectivite_search_name_trgm on collectivite using gin (search_name gin_trgm_ops);

-- Search by SIREN (a 9-digit query) without reading the whole table.
create index if not exists collectivite_siren_idx on collectivite (siren);
