-- 003_bulk: what the master writes on a cold start, made cheap to write.
--
-- The packages of a section become one JSON text per section
-- (package_lists): the master computes states from the Packages files, and
-- the list is read only as a whole. The states keep one row per package and
-- carry the tested version, which reserve hands out. The reserve order gets
-- its own table (candidates; the master used to keep it in states_inputs,
-- one name a line after the key): it changes with every computation, the
-- states mostly do not, so a recomputation rewrites few pages of states.
-- sections.packages_stat identifies the Packages files as found by stat, so
-- the master hashes their contents only when they were touched.

CREATE TABLE package_lists (
    section_id INTEGER PRIMARY KEY REFERENCES sections (id) ON DELETE CASCADE,
    count      INTEGER NOT NULL,
    -- a JSON array of objects: n name, v version, tv test version, s source,
    -- sv source version, m maintainer, u uploaders, d depends, pd
    -- pre-depends, p provides, r resolved dependency names
    data       TEXT    NOT NULL
);

INSERT INTO package_lists (section_id, count, data)
SELECT section_id, count(*), json_group_array(json_object(
        'n', name, 'v', version, 'tv', COALESCE(test_version, ''), 's', source, 'sv', source_version,
        'm', maintainer, 'u', uploaders, 'd', depends, 'pd', pre_depends, 'p', provides,
        'r', json(dependencies)))
FROM (SELECT * FROM packages ORDER BY section_id, name)
GROUP BY section_id;

CREATE TABLE states_new (
    section_id INTEGER NOT NULL REFERENCES sections (id) ON DELETE CASCADE,
    package    TEXT    NOT NULL,
    -- the tested version: the version in the final upgrade distro, else the
    -- package's version
    version    TEXT    NOT NULL,
    state      TEXT    NOT NULL,
    PRIMARY KEY (section_id, package)
) WITHOUT ROWID;

-- the order in which reserve offers packages, from rank 1
CREATE TABLE candidates (
    section_id INTEGER NOT NULL REFERENCES sections (id) ON DELETE CASCADE,
    rank       INTEGER NOT NULL CHECK (rank > 0),
    package    TEXT    NOT NULL,
    PRIMARY KEY (section_id, rank),
    UNIQUE (section_id, package)
) WITHOUT ROWID;

INSERT INTO states_new (section_id, package, version, state)
SELECT s.section_id, s.package, COALESCE(p.test_version, p.version), s.state
FROM states s JOIN packages p ON p.section_id = s.section_id AND p.name = s.package;

-- The candidate names after the first line of states_inputs become ranks.
-- Package names hold no '"' or '\' (the guard keeps the JSON valid anyway).
INSERT INTO candidates (section_id, rank, package)
SELECT s.id, min(j.key) + 1, j.value
FROM sections s, json_each('["' || replace(substr(s.states_inputs, instr(s.states_inputs, char(10)) + 1),
                                           char(10), '","') || '"]') j
WHERE instr(s.states_inputs, char(10)) > 0
  AND instr(s.states_inputs, '"') = 0 AND instr(s.states_inputs, '\') = 0
GROUP BY s.id, j.value;

UPDATE sections SET states_inputs = substr(states_inputs, 1, instr(states_inputs, char(10)) - 1)
WHERE instr(states_inputs, char(10)) > 0;

DROP INDEX states_by_state;
DROP TABLE states;
DROP TABLE packages;
ALTER TABLE states_new RENAME TO states;
CREATE INDEX states_by_state ON states (section_id, state);

ALTER TABLE sections ADD COLUMN packages_stat TEXT NOT NULL DEFAULT '';
