-- 002_history: per-section state counts over time (the report's chart, what
-- piuparts-report keeps in counts.txt), and a per-section submissions index.

CREATE TABLE state_counts (
    section_id INTEGER NOT NULL REFERENCES sections (id) ON DELETE CASCADE,
    at         INTEGER NOT NULL,
    state      TEXT    NOT NULL,
    count      INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (section_id, at, state)
) WITHOUT ROWID;

CREATE INDEX submissions_by_section ON submissions (section_id, at);
