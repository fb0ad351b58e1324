-- streaming_db: the high-volume analytics database of play events.
-- The one place its tables and columns are written (sources/README.md): keep to plain
-- `create table` statements with unquoted names, which c360.samples.schema reads.

create table media_content (
    media_id varchar(32) primary key,
    title text,
    media_type text,
    genre text,
    release_date date,
    duration_minutes integer
);

create table play_events (
    event_id bigserial primary key,
    session_id text,
    -- no foreign key: the id comes from a login token issued by profiles_db
    account_id_from_token uuid,
    media_id varchar(32) references media_content (media_id),
    event_timestamp timestamptz,
    -- free text on purpose: clients send 'play', 'START', 'stop', 'FINISH', 'pause'
    action text,
    ip_address inet,
    device_fingerprint text
);
