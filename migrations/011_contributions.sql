-- Contributions (issue #16): API keys, observations recorded through the API, corrections that
-- supersede an observation without editing it, an append-only audit log and idempotent retries.

-- 1. API keys. Only a SHA-256 of the key is stored (the key is 32 random bytes, shown once by
-- `keys create`); the prefix lets a list name a key without revealing it. No foreign key to atd: the
-- ATD registry is re-imported by delete + insert (Atd/AtdImporter.cs).
create table api_key (
    id          serial primary key,
    name        text not null,
    role        text not null check (role in ('admin', 'atd-editor')),
    atd_id      text,
    prefix      text not null,
    hash        bytea not null unique,
    created_at  timestamptz not null default now(),
    expires_on  date,
    revoked_at  timestamptz,
    check (role = 'admin' or atd_id is not null)
);

-- 2. What a contributed observation adds to the directory's columns. A correction is a new row; the
-- row it corrects keeps its values and only learns which row superseded it.
alter table observation
    add column superseded_by  bigint references observation (id),
    add column note           text,
    add column contributor    text,       -- the key's name (or the OpenID subject) that recorded it; null for imports
    add column recorded_at    timestamptz;
create index observation_superseded_idx on observation (superseded_by) where superseded_by is not null;

-- The one status rule (002), now without superseded observations: a correction replaces the row it
-- corrects on every surface (indicators, map, tiles, reports, OData), while the card still lists both.
create or replace function status_on(d date)
returns table (collectivite_id text, is_open boolean, dataset_count integer, first_seen_open date)
language sql stable parallel safe as $$
    with day as (
        select ob.collectivite_id, ob.observed_on, bool_or(ob.is_listed) as listed,
               sum(coalesce(ob.datasets_local, 0) + coalesce(ob.datasets_datagouv, 0))
                   filter (where ob.is_listed and (ob.datasets_local is not null or ob.datasets_datagouv is not null)) as datasets
          from observation ob
         where ob.collectivite_id is not null and ob.observed_on <= d and ob.superseded_by is null
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

-- 3. The audit log: one row per write attempt, refused ones included. Append-only for every role
-- (the triggers below), and the role the web app writes with (4) may only insert and read it.
create table audit_entry (
    id               bigserial primary key,
    at               timestamptz not null default clock_timestamp(),
    actor            text not null,        -- key name, OpenID subject, or 'anonyme'
    api_key_id       integer,
    role             text,
    action           text not null,        -- observation.create | observation.supersede | snapshot.import | snapshot.dry-run
    collectivite_id  text,
    observation_id   bigint,
    status           integer not null,     -- the HTTP status answered
    outcome          text not null check (outcome in ('accepted', 'refused')),
    reason           text,
    before           jsonb,
    after            jsonb,
    request_id       text,
    client_address   text
);
create index audit_entry_at_idx on audit_entry (at);
create index audit_entry_collectivite_idx on audit_entry (collectivite_id) where collectivite_id is not null;

create or replace function audit_entry_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'le journal d''audit n''accepte que des ajouts (% refusé)', tg_op using errcode = 'insufficient_privilege';
end $$;
create trigger audit_entry_no_update before update or delete on audit_entry
    for each row execute function audit_entry_append_only();
create trigger audit_entry_no_truncate before truncate on audit_entry
    for each statement execute function audit_entry_append_only();

-- 5. Idempotency-Key: the first answer to a (caller, key) pair, written in the same transaction as the
-- write it answers, so a retried POST finds either nothing (the first was not committed) or the answer.
create table idempotency_record (
    actor         text not null,
    key           text not null,
    request_hash  text not null,
    status        integer not null,
    location      text,
    body          text not null,
    created_at    timestamptz not null default now(),
    primary key (actor, key)
);

-- OData: the observation's new columns, and the audit log (served to administrators only).
create or replace view odata_observation as
select o.id, o.subject_key, o.collectivite_id, o.associated_actor_id, o.observed_on, o.source, o.is_listed,
       o.datasets_local::bigint     as datasets_local,
       o.datasets_datagouv::bigint  as datasets_datagouv,
       o.platforms, o.url, o.match_method, o.match_evidence, o.superseded_by, o.note, o.contributor
  from observation o;
create view odata_audit_entry as
select a.id, a.at, a.actor, a.api_key_id::bigint as api_key_id, a.role, a.action, a.collectivite_id, a.observation_id,
       a.status::bigint as status, a.outcome, a.reason, a.before::text as before, a.after::text as after, a.request_id, a.client_address
  from audit_entry a;

-- 4. The role contributions are written with (`set local role` in each write transaction,
-- Contributions/ObservationWriter.cs): it reads, inserts observations, marks one superseded, refreshes
-- the derived status columns, adds a data release, appends to the audit log; it cannot update or
-- delete audit rows nor touch anything else. Roles are cluster-wide (created once) and backups carry no
-- privileges (scripts/backup.sh): scripts/restore.sh calls this function again after a restore.
create or replace function grant_contribution_role() returns void language plpgsql as $$
begin
    if not exists (select 1 from pg_roles where rolname = 'observatoire_writer') then
        create role observatoire_writer nologin;
    end if;
    grant usage on schema public to observatoire_writer;
    grant select on all tables in schema public to observatoire_writer;
    grant insert on observation, data_release, audit_entry, idempotency_record to observatoire_writer;
    grant update (superseded_by) on observation to observatoire_writer;
    grant update (is_open, first_seen_open, dataset_count, last_observed_on) on collectivite to observatoire_writer;
    grant usage on all sequences in schema public to observatoire_writer;
end $$;
select grant_contribution_role();
