-- 004_chunks: the package list of a section in chunks, so that a new
-- Packages file rewrites only the chunks whose packages changed.
--
-- A chunk is a run of packages in name order; it ends after a package whose
-- name hashes to a boundary (see chunkEnds in packages.go), so adding or
-- removing a package changes its own chunk only. A chunk is keyed by the
-- name of its first package and carries the SHA-256 of its data: the master
-- compares hashes and writes only the chunks that differ. The list is read
-- by concatenating the chunks in key order. packages_updated_at tells a
-- section whose packages were loaded (an empty list has no chunk).

CREATE TABLE package_chunks (
    section_id INTEGER NOT NULL REFERENCES sections (id) ON DELETE CASCADE,
    -- the name of the chunk's first package
    first      TEXT    NOT NULL,
    count      INTEGER NOT NULL,
    -- hex SHA-256 of data; '' (a chunk written by this migration) matches
    -- no computed hash, so the next list rewrites it
    sha256     TEXT    NOT NULL,
    -- a JSON array of package objects sorted by name, as package_lists.data
    data       TEXT    NOT NULL,
    PRIMARY KEY (section_id, first)
);

-- Each old list becomes one chunk, rewritten in chunks by the next load.
INSERT INTO package_chunks (section_id, first, count, sha256, data)
SELECT section_id, data->0->>'n', count, '', data FROM package_lists
WHERE count > 0 AND json_valid(data) AND data->0->>'n' IS NOT NULL;

UPDATE sections SET packages_updated_at = COALESCE(packages_updated_at, 0)
WHERE id IN (SELECT section_id FROM package_lists);

DROP TABLE package_lists;
