// Headline question: how many users who share a payment method with a hacked
// account also share an IP address with other users?
// u counts when: u is not the compromised account h (h submitted a ticket tagged
// 'Account Compromised'), u has a card with the same card_fingerprint as one of
// h's cards, and u used an IP address some other account also used.
MATCH (h:Account)-[:SUBMITTED]->(:Ticket)-[:TAGGED_WITH]->(:Tag {tag_name: 'Account Compromised'})
MATCH (h)-[:HAS_PAYMENT_METHOD]->(hpm:PaymentMethod)
MATCH (u:Account)-[:HAS_PAYMENT_METHOD]->(upm:PaymentMethod)
WHERE u <> h AND upm.card_fingerprint = hpm.card_fingerprint
MATCH (u)-[:USED_IP]->(:IPAddress)<-[:USED_IP]-(other:Account)
WHERE other <> u
WITH DISTINCT u
ORDER BY u.email
RETURN count(u) AS users_at_risk,
       collect(u.email) AS emails;
