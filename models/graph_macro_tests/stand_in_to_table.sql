-- Stands in for a staging table in the graph macros' unit tests, which give
-- its rows. Ephemeral and read by no other model: never built.
select cast(null as text) as stand_in
where false
