// Everything known about one person: who they are, their segment and risk, their
// accounts with balances, addresses and phones, the 10 most recent transfers sent
// or received, and the products recommended to them. One row per item, in sections
// (person, segment, risk, account, address, phone, transfer, cross_sell), so the
// table reads top to bottom; an unknown person_id gives no rows.
// param: person_id text - the person to show (Person.person_id, e.g. P000001)
// audit: access person_id
MATCH (p:Person {person_id: $person_id})
CALL (p) {
    RETURN 1 AS part, 0 AS n, 'person' AS section, p.person_id AS item,
           trim(coalesce(p.first_name, '') + ' ' + coalesce(p.last_name, ''))
             + ', born ' + coalesce(toString(p.date_of_birth), '?')
             + '; total balance of ' + coalesce(toString(p.num_accounts), '?') + ' accounts'
             AS detail,
           p.total_balance AS amount, null AS at
    UNION ALL
    RETURN 2 AS part, 0 AS n, 'segment' AS section, p.segment AS item,
           'sent ' + coalesce(toString(p.sent_count), '?') + ' transfers (average '
             + coalesce(toString(p.avg_sent_amount), '?') + '), received '
             + coalesce(toString(p.received_count), '?') + '; sent volume, last transfer'
             AS detail,
           p.sent_volume AS amount, p.last_transaction_at AS at
    UNION ALL
    RETURN 3 AS part, 0 AS n, 'risk' AS section, p.risk_level AS item,
           coalesce(toString(p.risk_points), '?') + ' risk points, risk score '
             + coalesce(toString(p.risk_score), '?')
             + CASE WHEN p.flagged THEN ', flagged: ' + coalesce(p.flag_reason, '?') ELSE '' END
             AS detail,
           null AS amount, null AS at
    UNION ALL
    MATCH (p)-[:OWNS]->(a:BankAccount)
    RETURN 4 AS part, 0 AS n, 'account' AS section, a.account_id AS item,
           coalesce(a.account_type, '?') + ', ' + coalesce(a.account_status, '?')
             + '; balance, opened' AS detail,
           a.balance AS amount, a.open_date AS at
    UNION ALL
    MATCH (p)-[:HAS_ADDRESS]->(ad:Address)
    RETURN 5 AS part, 0 AS n, 'address' AS section, ad.address_id AS item,
           coalesce(ad.street, '?') + ', ' + coalesce(ad.city, '?') + ', '
             + coalesce(ad.state, '?') + ' ' + coalesce(ad.zip_code, '') AS detail,
           null AS amount, null AS at
    UNION ALL
    MATCH (p)-[:HAS_PHONE]->(ph:Phone)
    RETURN 6 AS part, 0 AS n, 'phone' AS section, ph.phone_id AS item,
           coalesce(ph.phone_type + ' ', '') + coalesce(ph.phone_number, '?') AS detail,
           null AS amount, null AS at
    UNION ALL
    // a transfer between two of the person's accounts is found from both: once only
    MATCH (p)-[:OWNS]->(:BankAccount)-[t:TRANSFERRED]-(:BankAccount)
    WITH DISTINCT p, t
    ORDER BY t.event_time DESC, t.transaction_id
    LIMIT 10
    WITH p, collect(t) AS recent
    UNWIND range(0, size(recent) - 1) AS n
    WITH p, n, recent[n] AS t
    MATCH (s:BankAccount)-[t]->(r:BankAccount)
    WITH p, n, t, s, r, EXISTS { (p)-[:OWNS]->(s) } AS sent, EXISTS { (p)-[:OWNS]->(r) } AS received
    RETURN 7 AS part, n, 'transfer' AS section, t.transaction_id AS item,
           CASE
               WHEN sent AND received THEN 'moved ' + s.account_id + ' -> ' + r.account_id
               WHEN sent THEN 'sent ' + s.account_id + ' -> ' + r.account_id
               ELSE 'received ' + r.account_id + ' <- ' + s.account_id
           END
             + CASE WHEN (CASE WHEN sent THEN r ELSE s END).is_external THEN ' (external)' ELSE '' END
             + coalesce(', ' + t.transaction_type, '') + coalesce(': ' + t.description, '')
             AS detail,
           t.amount AS amount, t.event_time AS at
    UNION ALL
    UNWIND coalesce(p.cross_sell, []) AS recommendation
    RETURN 8 AS part, 0 AS n, 'cross_sell' AS section, recommendation AS item,
           'recommended product' AS detail, null AS amount, null AS at
}
RETURN section, item, detail, amount, at
ORDER BY part, n, item;
