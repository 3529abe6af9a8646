-- ryz014 shared inventory, version 1: the devices table and the guarantees every station relies
-- on, enforced here rather than in the stations' code.
CREATE TABLE devices (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    imei          TEXT NOT NULL CHECK (imei ~ '^[0-9]{15}$'),
    endpoint      TEXT NOT NULL CHECK (endpoint <> ''),
    psk_identity  TEXT NOT NULL CHECK (psk_identity <> ''),
    psk_hex       TEXT NOT NULL,
    profile       TEXT NOT NULL CHECK (profile <> ''),
    state         TEXT NOT NULL CHECK (state IN ('pending', 'verified', 'failed', 'superseded')),
    port          TEXT,
    firmware      TEXT,
    error         TEXT,
    replaces      BIGINT REFERENCES devices(id),
    superseded_by BIGINT REFERENCES devices(id),
    server        TEXT,
    -- The station (host name or --station) that last wrote the record.
    station       TEXT NOT NULL CHECK (station <> ''),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- A record imported from a station's SQLite file: where it came from (importing twice adds
    -- nothing).
    import_key    TEXT UNIQUE
);
CREATE INDEX devices_imei ON devices (imei);
-- One active record per IMEI: the one pending (being provisioned) or the one verified (the key
-- the modem holds), never both, never two.
CREATE UNIQUE INDEX devices_one_active ON devices (imei) WHERE state IN ('pending', 'verified');

-- The history of rotations is kept: records are never deleted.
CREATE FUNCTION devices_keep_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ryz014 inventory records are history and are never deleted';
END
$$;
CREATE TRIGGER devices_keep_history BEFORE DELETE ON devices
    FOR EACH ROW EXECUTE FUNCTION devices_keep_history();
CREATE TRIGGER devices_keep_history_truncate BEFORE TRUNCATE ON devices
    FOR EACH STATEMENT EXECUTE FUNCTION devices_keep_history();
