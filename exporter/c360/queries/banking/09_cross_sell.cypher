// Whom can we offer more products? Persons with at least one cross-sell
// recommendation, with their segment, accounts and balance; the most
// recommendations first.
MATCH (p:Person)
WHERE size(coalesce(p.cross_sell, [])) > 0
RETURN p.person_id AS person_id,
       trim(coalesce(p.first_name, '') + ' ' + coalesce(p.last_name, '')) AS name,
       p.segment AS segment,
       p.num_accounts AS num_accounts,
       p.total_balance AS total_balance,
       p.risk_level AS risk_level,
       p.cross_sell AS recommendations
ORDER BY size(p.cross_sell) DESC, person_id;
