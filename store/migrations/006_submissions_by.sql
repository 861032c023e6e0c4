-- 006_submissions_by: a submission records the slave that made it (the
-- holder name the master knows it by), for the report's slaves page and
-- per-package history. Imported submissions.txt lines have none ('').
ALTER TABLE submissions ADD COLUMN submitted_by TEXT NOT NULL DEFAULT '';

