// Which phone numbers do different persons share? Phones are one node per KYC row,
// so two Phone nodes are one phone when their phone_number is equal (leading and
// trailing spaces ignored). One row per shared number, the persons as
// "person_id first last".
MATCH (p:Person)-[:HAS_PHONE]->(ph:Phone)
WHERE trim(coalesce(ph.phone_number, '')) <> ''
WITH p, ph, trim(ph.phone_number) AS phone_number
ORDER BY p.person_id
WITH phone_number,
     collect(DISTINCT ph.phone_type) AS phone_types,
     collect(DISTINCT p.person_id + ' ' + coalesce(p.first_name, '') + ' '
       + coalesce(p.last_name, '')) AS persons
WHERE size(persons) > 1
RETURN phone_number,
       phone_types,
       size(persons) AS person_count,
       persons
ORDER BY person_count DESC, phone_number;
