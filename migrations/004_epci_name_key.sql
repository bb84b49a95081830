-- Name of an EPCI without its category prefix, for matching a directory row whose SIREN changed:
-- "CA PARIS - VALLEE DE LA MARNE" and "CA Paris - Vallée de la Marne" → "paris vallee de la marne";
-- "CC VOLVESTRE" and "CC du Volvestre" → "volvestre".
create or replace function epci_name_key(t text) returns text
language sql immutable parallel safe as
$$ select regexp_replace(search_key(t),
     '^(ca|cc|cu|communaute (d agglomeration|de communes|urbaine)|metropole|agglomeration)( (de la|de l|du|des|de|d))? ', '') $$;
