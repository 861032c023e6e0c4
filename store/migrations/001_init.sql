-- 001_init: sections, packages, computed states, reservations, the log index
-- and the submission history. Times are Unix seconds (UTC).

CREATE TABLE sections (
    id                  INTEGER PRIMARY KEY,
    name                TEXT    NOT NULL UNIQUE,
    -- hash of the section's configuration, set by the master
    config_hash         TEXT    NOT NULL DEFAULT '',
    -- fingerprint of the Packages file(s) the packages table was loaded from
    packages_size       INTEGER NOT NULL DEFAULT 0,
    packages_mtime      INTEGER NOT NULL DEFAULT 0, -- Unix nanoseconds
    packages_sha256     TEXT    NOT NULL DEFAULT '',
    packages_updated_at INTEGER,
    -- bumped by every change to the packages or the log index of the section
    generation          INTEGER NOT NULL DEFAULT 0,
    -- what the stored states were computed from, and when
    states_inputs       TEXT    NOT NULL DEFAULT '',
    states_computed_at  INTEGER,
    -- piuparts' idle.stamp and recycle.stamp
    idle_at             INTEGER,
    recycle_idle_at     INTEGER
);

CREATE TABLE packages (
    section_id     INTEGER NOT NULL REFERENCES sections (id) ON DELETE CASCADE,
    name           TEXT    NOT NULL,
    version        TEXT    NOT NULL,
    -- version in the final upgrade distro, 'None' if absent there,
    -- NULL when the section has no upgrade test (same as version)
    test_version   TEXT,
    source         TEXT    NOT NULL,
    source_version TEXT    NOT NULL,
    maintainer     TEXT    NOT NULL DEFAULT '',
    uploaders      TEXT    NOT NULL DEFAULT '',
    depends        TEXT    NOT NULL DEFAULT '',
    pre_depends    TEXT    NOT NULL DEFAULT '',
    provides       TEXT    NOT NULL DEFAULT '',
    -- resolved dependency package names, a JSON array of strings
    dependencies   TEXT    NOT NULL DEFAULT '[]',
    PRIMARY KEY (section_id, name)
) WITHOUT ROWID;

CREATE TABLE states (
    section_id INTEGER NOT NULL,
    package    TEXT    NOT NULL,
    state      TEXT    NOT NULL,
    PRIMARY KEY (section_id, package),
    FOREIGN KEY (section_id, package) REFERENCES packages (section_id, name) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE INDEX states_by_state ON states (section_id, state);

-- one reservation per package and section
CREATE TABLE reservations (
    section_id  INTEGER NOT NULL REFERENCES sections (id) ON DELETE CASCADE,
    package     TEXT    NOT NULL,
    version     TEXT    NOT NULL,
    holder      TEXT    NOT NULL,
    reserved_at INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (section_id, package)
);

CREATE INDEX reservations_by_expiry ON reservations (expires_at);

-- the files of the piuparts log tree: SECTION/KIND/NAME_VERSION.log
CREATE TABLE logs (
    id           INTEGER PRIMARY KEY,
    section_id   INTEGER NOT NULL REFERENCES sections (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL CHECK (kind IN ('pass', 'fail', 'untestable', 'bugged', 'affected', 'recycle', 'reserved')),
    package      TEXT    NOT NULL,
    version      TEXT    NOT NULL,
    path         TEXT    NOT NULL, -- relative to the master directory
    size         INTEGER NOT NULL,
    sha256       TEXT    NOT NULL,
    submitted_at INTEGER NOT NULL,
    submitted_by TEXT    NOT NULL DEFAULT '',
    UNIQUE (section_id, package, version, kind)
);

CREATE INDEX logs_by_kind ON logs (section_id, kind, package);

-- what SECTION/submissions.txt records: EPOCH RESULT NAME VERSION
CREATE TABLE submissions (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    section_id INTEGER NOT NULL REFERENCES sections (id) ON DELETE CASCADE,
    result     TEXT    NOT NULL,
    package    TEXT    NOT NULL,
    version    TEXT    NOT NULL
);

CREATE INDEX submissions_by_time ON submissions (at);
