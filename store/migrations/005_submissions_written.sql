-- 005_submissions_written: a submission is indexed (logs row, submissions row
-- with written = 0) in one transaction, then its line is appended to
-- SECTION/submissions.txt and the row marked written. Rows left unwritten by
-- a crash are written by the next submission, by a session's start and by
-- fsck, so the file never misses an indexed log.
ALTER TABLE submissions ADD COLUMN written INTEGER NOT NULL DEFAULT 1;
CREATE INDEX submissions_unwritten ON submissions (section_id, id) WHERE written = 0;

-- Every computation of a section's states counts (states_seq) and says
-- whether it was made in recycle mode: a master that waited for another's
-- computation takes its states rather than computing again.
ALTER TABLE sections ADD COLUMN states_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sections ADD COLUMN states_recycle INTEGER NOT NULL DEFAULT 0;
