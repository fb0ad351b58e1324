-- support_db: the legacy support desk.
-- The one place its tables and columns are written (sources/README.md): keep to plain
-- `create table` statements with unquoted names, which c360.samples.schema reads.
-- Its tables live in a schema of their own, as a real source's often do: the
-- control row of source `support` names it (source_databases.schemas).

create schema helpdesk;

create table helpdesk.tickets (
    ticket_id varchar(32) primary key,
    -- typed by agents: may differ from the account's email in case or spaces
    customer_email text,
    -- may reference agents.agent_id; no foreign key in the legacy schema
    agent_id integer,
    subject text,
    status text,
    created_at timestamptz,
    last_updated_at timestamptz
);

create table helpdesk.ticket_tags (
    tag_id serial primary key,
    tag_name text unique
);

create table helpdesk.ticket_tag_link (
    ticket_id varchar(32) not null references helpdesk.tickets (ticket_id),
    tag_id integer not null references helpdesk.ticket_tags (tag_id),
    primary key (ticket_id, tag_id)
);

-- not mapped by the default control rows: a table to map "with only control rows"
create table helpdesk.agents (
    agent_id integer primary key,
    full_name text,
    team text,
    hired_at date
);
