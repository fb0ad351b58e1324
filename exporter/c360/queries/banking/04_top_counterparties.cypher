// Which accounts receive the most money? The $limit accounts with the largest sum
// of transfers received, internal or external (is_external), with how many
// transfers, distinct sending accounts and distinct sending persons (owners of
// the sending accounts; external accounts have none) they received from.
// param: limit integer = 10 - how many accounts to show
MATCH (s:BankAccount)-[t:TRANSFERRED]->(r:BankAccount)
OPTIONAL MATCH (sender:Person)-[:OWNS]->(s)
WITH r,
     sum(t.amount) AS received_amount,
     count(DISTINCT t) AS received_count,
     count(DISTINCT s) AS sender_accounts,
     count(DISTINCT sender) AS sender_persons
ORDER BY received_amount DESC, r.account_id
LIMIT $limit
OPTIONAL MATCH (owner:Person)-[:OWNS]->(r)
RETURN r.account_id AS account_id,
       r.is_external AS is_external,
       r.account_type AS account_type,
       owner.person_id AS owner_person_id,
       received_amount,
       received_count,
       sender_accounts,
       sender_persons
ORDER BY received_amount DESC, account_id;
