// Which accounts look like money mules? Accounts that received transfers from at
// least $min_senders distinct customers: distinct persons owning the sending
// accounts, the account's own owner not counted. External accounts are included
// (is_external), so a merchant many customers pay shows here too.
// param: min_senders integer = 5 - the fewest distinct sending persons an account must have
MATCH (sender:Person)-[:OWNS]->(:BankAccount)-[t:TRANSFERRED]->(r:BankAccount)
WHERE NOT (sender)-[:OWNS]->(r)
WITH r,
     count(DISTINCT sender) AS distinct_senders,
     count(DISTINCT t) AS received_count,
     sum(t.amount) AS received_amount
WHERE distinct_senders >= $min_senders
OPTIONAL MATCH (owner:Person)-[:OWNS]->(r)
RETURN r.account_id AS account_id,
       r.is_external AS is_external,
       r.account_type AS account_type,
       owner.person_id AS owner_person_id,
       owner.risk_level AS owner_risk_level,
       distinct_senders,
       received_count,
       received_amount
ORDER BY distinct_senders DESC, received_amount DESC, account_id;
