// How is risk spread over the customers? Per risk_level: persons and their share,
// the range and average of risk points, the average risk score, flagged persons,
// and their balances; the riskiest level first.
MATCH (p:Person)
WITH count(p) AS everyone
MATCH (p:Person)
WITH everyone,
     coalesce(p.risk_level, '(none)') AS risk_level,
     count(p) AS persons,
     min(p.risk_points) AS min_risk_points,
     max(p.risk_points) AS max_risk_points,
     avg(p.risk_points) AS avg_risk_points,
     avg(p.risk_score) AS avg_risk_score,
     count(CASE WHEN p.flagged THEN 1 END) AS flagged,
     sum(p.total_balance) AS total_balance
RETURN risk_level,
       persons,
       round(100.0 * persons / everyone, 1) AS share_pct,
       min_risk_points,
       max_risk_points,
       round(avg_risk_points, 1) AS avg_risk_points,
       round(avg_risk_score, 3) AS avg_risk_score,
       flagged,
       round(total_balance, 2) AS total_balance
ORDER BY avg_risk_points DESC, risk_level;
