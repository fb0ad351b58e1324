// Who may be structuring, splitting payments to stay under a reporting threshold?
// Persons who sent at least $min_count transfers of an amount in
// [0.9 * $threshold, $threshold) within $window_days days: for each such transfer,
// the window starting at it (its event_time, plus window_days days, exclusive)
// is counted, and the fullest window is shown.
// param: threshold number = 10000 - the reporting threshold transfers stay under
// param: window_days integer = 7 - the length of the window, in days
// param: min_count integer = 3 - the fewest near-threshold transfers in one window
MATCH (p:Person)-[:OWNS]->(:BankAccount)-[t:TRANSFERRED]->(:BankAccount)
WHERE t.amount >= 0.9 * $threshold AND t.amount < $threshold AND t.event_time IS NOT NULL
WITH DISTINCT p, t
ORDER BY t.event_time
WITH p, collect(t) AS near
WHERE size(near) >= $min_count
WITH p, near,
     [i IN range(0, size(near) - 1)
        | size([u IN near[i..]
                WHERE u.event_time < near[i].event_time + duration({days: $window_days})])]
       AS in_window
WITH p, near, in_window,
     reduce(most = 0, c IN in_window | CASE WHEN c > most THEN c ELSE most END) AS most
WHERE most >= $min_count
WITH p, near, most, [i IN range(0, size(near) - 1) WHERE in_window[i] = most][0] AS first
WITH p, most, size(near) AS near_threshold_total, near[first..first + most] AS window
RETURN p.person_id AS person_id,
       trim(coalesce(p.first_name, '') + ' ' + coalesce(p.last_name, '')) AS name,
       most AS transfers_in_window,
       reduce(total = 0.0, u IN window | total + u.amount) AS window_amount,
       window[0].event_time AS window_first,
       window[-1].event_time AS window_last,
       near_threshold_total,
       p.risk_level AS risk_level
ORDER BY transfers_in_window DESC, window_amount DESC, person_id;
