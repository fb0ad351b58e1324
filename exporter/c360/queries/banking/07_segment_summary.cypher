// How do the customer segments compare? Per segment: persons, balances, sending
// activity, flagged persons and average risk points.
MATCH (p:Person)
WITH coalesce(p.segment, '(none)') AS segment,
     count(p) AS persons,
     sum(p.total_balance) AS total_balance,
     avg(p.total_balance) AS avg_balance,
     avg(p.num_accounts) AS avg_accounts,
     sum(p.sent_volume) AS sent_volume,
     avg(p.sent_count) AS avg_sent_count,
     count(CASE WHEN p.flagged THEN 1 END) AS flagged,
     avg(p.risk_points) AS avg_risk_points
RETURN segment,
       persons,
       round(total_balance, 2) AS total_balance,
       round(avg_balance, 2) AS avg_balance,
       round(avg_accounts, 1) AS avg_accounts,
       round(sent_volume, 2) AS sent_volume,
       round(avg_sent_count, 1) AS avg_sent_count,
       flagged,
       round(avg_risk_points, 1) AS avg_risk_points
ORDER BY persons DESC, segment;
