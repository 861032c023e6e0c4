package store

// SQLite checkpoints the WAL into the database file when the last
// connection to it closes: with synchronous=FULL that writes the pages back
// and syncs the database file, ~15 ms for every connection of the master,
// one process per connection, more than all of its reservations cost. With
// SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE the WAL stays (it is durable: every
// commit synced it) and is checkpointed by a later commit once it holds
// wal_autocheckpoint pages, as SQLite does anyway; journal_size_limit
// truncates it to 8 MiB then. The driver offers no way to set the option
// on a connection, so an automatic extension, which SQLite runs on every
// connection it opens, sets it.

/*
typedef struct sqlite3 sqlite3;
extern int sqlite3_db_config(sqlite3*, int op, ...);
extern int sqlite3_auto_extension(void(*xEntryPoint)(void));
extern int sqlite3_exec(sqlite3*, const char*, void*, void*, char**);

// SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, since SQLite 3.16.
#define PIUPARTS_NO_CKPT_ON_CLOSE 1006

static int piupartsNoCkptEntry(sqlite3 *db, char **pzErrMsg, const void *pApi) {
	(void)pzErrMsg;
	(void)pApi;
	int rc = sqlite3_db_config(db, PIUPARTS_NO_CKPT_ON_CLOSE, 1, (int*)0);
	if (rc != 0) {
		return rc;
	}
	return sqlite3_exec(db, "PRAGMA journal_size_limit = 8388608", 0, 0, 0);
}

static int piupartsRegisterNoCkpt(void) {
	return sqlite3_auto_extension((void(*)(void))piupartsNoCkptEntry);
}
*/
import "C"

import "fmt"

// noCheckpointOnClose makes every SQLite connection the process opens from
// now on leave the WAL unchecked at close. Registering the same extension
// again is a no-op in SQLite, so every Open calls it.
func noCheckpointOnClose() error {
	if rc := C.piupartsRegisterNoCkpt(); rc != 0 {
		return fmt.Errorf("register sqlite extension: error code %d", int(rc))
	}
	return nil
}
