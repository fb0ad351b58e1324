// Which addresses do different persons share? Addresses are one node per KYC row,
// so two Address nodes are one address when street, city, state and zip_code are
// equal ignoring case and spaces; an address without a street is never shared.
// One row per shared address, the persons as "person_id first last".
MATCH (p:Person)-[:HAS_ADDRESS]->(a:Address)
WHERE trim(coalesce(a.street, '')) <> ''
WITH p, a,
     [field IN [a.street, a.city, a.state, a.zip_code]
        | toLower(replace(coalesce(field, ''), ' ', ''))] AS same_address
ORDER BY p.person_id
WITH same_address,
     head(collect(a)) AS shown,
     collect(DISTINCT p.person_id + ' ' + coalesce(p.first_name, '') + ' '
       + coalesce(p.last_name, '')) AS persons
WHERE size(persons) > 1
RETURN shown.street AS street,
       shown.city AS city,
       shown.state AS state,
       shown.zip_code AS zip_code,
       size(persons) AS person_count,
       persons
ORDER BY person_count DESC, street, city;
