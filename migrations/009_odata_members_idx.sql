-- OData navigation Members (an EPCI's communes, issue #13): EF joins an EPCI's id to its members'
-- epci_id, which odata_collectivite computes ('EPCI-' || epci_siren for communes). Without an index
-- on that expression each expanded EPCI scanned the 36,000 rows: $expand=Members($expand=Members)
-- ran 23-75 s. The index repeats the view's expression exactly (PostgreSQL matches an expression
-- index on the expression's tree once the view is inlined): each EPCI's members are then one index
-- range in key order (EF pages members by id), and the second level of members (ROW_NUMBER() OVER
-- (PARTITION BY epci_id ORDER BY id)) reads the index in that order instead of sorting the view.
-- If the view's expression changes, change this index with it.
create index collectivite_odata_epci_id_idx on collectivite ((case when epci_siren is not null and type not in ('CC', 'CA', 'CU', 'MET')
            then 'EPCI-' || epci_siren end), id);
