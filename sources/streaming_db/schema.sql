-- streaming_db: the high-volume analytics database of play events.
-- The read-only login role is created by c360.sourcedb (passwords never live in SQL files).

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
