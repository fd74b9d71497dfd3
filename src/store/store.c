/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/clock.h"
#include "store/store.h"
#include "store/tail.h"

#define GROUP_MAX  64	 /* readings of one frame handed to the transform at once */
#define ACKS_MAX   16384 /* acks waiting for the next commit */
#define STATES_MAX 256	 /* device state writes waiting for the next commit */
/*
 * Acks alone do not make a commit until this many are waiting or the oldest
 * has waited this long; commits for readings take them along. Each commit
 * costs a sync and at least one filesystem block, and a deferred delete
 * costs nothing but a possible duplicate after a crash (invariant 2 allows
 * duplicates; the publisher skips acked rows until they are deleted).
 */
#define ACK_BATCH 4096
#define ACK_FLUSH_USEC (1 * FG_USEC_PER_SEC)
/*
 * The WAL between checkpoints: 2000 pages normally (see configure_db), less
 * for a small max_bytes (it counts there), and 128 pages (with the file cut
 * back to 256 KiB after a checkpoint) once the filesystem has less than
 * LOW_SPACE more than the free space to keep: a checkpoint must copy the
 * WAL's new pages into the main file, which needs room of its own, and a WAL
 * that cannot be checkpointed cannot be reused (the disk-full wedge).
 */
#define WAL_PAGES	   2000
#define WAL_LIMIT	   (8 * 1024 * 1024)
#define WAL_PAGES_LOW	   128
#define WAL_LIMIT_LOW	   (256 * 1024)
#define LOW_SPACE	   (4 * 1024 * 1024)

struct pending_state {
	char device[FG_DEVICE_ID_MAX];
	char key[32];
	int64_t value;
};

struct staged {
	struct fg_reading r;
	char *text; /* owned copy of r.text */
};

enum stmt_id {
	ST_INSERT_READING,
	ST_SELECT_READINGS,
	ST_DELETE_READINGS,
	ST_INSERT_OUTBOX,
	ST_DELETE_OUTBOX,
	ST_PEEK,
	ST_UNSTAMPED,
	ST_STAMP,
	ST_SET_STATE,
	ST_GET_STATE,
	ST_SET_META,
	ST_PUT_BLOB,
	ST_DELETE_BLOB,
	ST_GET_BLOB,
	ST_CMD_INSERT,
	ST_CMD_UPDATE,
	ST_CMD_STATE,
	ST_CMD_COUNT,
	ST_CMD_COUNT_DEVICE,
	ST_CMD_FORGET,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_MAX_SEQ,
	ST_OLDEST,
	ST_PAGE_COUNT,
	ST_FREELIST_COUNT,
	ST__COUNT,
};

static const char *const stmt_sql[ST__COUNT] = {
	[ST_INSERT_READING] =
		"INSERT INTO readings (source, device_id, device_name, quantity, kind, number, "
		"text, unit, time_ms, mono_usec, boot_id, frame_id, radio_present, rssi, snr, "
		"freq_hz, sf, bw_hz, dr, tmst) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[ST_SELECT_READINGS] =
		"SELECT source, device_id, device_name, quantity, kind, number, text, unit, "
		"time_ms, mono_usec, boot_id, frame_id, radio_present, rssi, snr, freq_hz, sf, "
		"bw_hz, dr, tmst FROM readings ORDER BY id",
	[ST_DELETE_READINGS] = "DELETE FROM readings",
	[ST_INSERT_OUTBOX] = "INSERT INTO outbox (seq, topic, payload, qos, retain, created_ms, "
			     "created_mono_usec, device, bytes, boot, correlation) "
			     "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
	[ST_DELETE_OUTBOX] = "DELETE FROM outbox WHERE seq BETWEEN ? AND ?",
	[ST_PEEK] = "SELECT seq, topic, payload, qos, retain, created_ms, created_mono_usec, boot, "
		    "correlation FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
	[ST_UNSTAMPED] = "SELECT seq, payload, created_mono_usec FROM outbox "
			 "WHERE created_ms = 0 AND boot = ? AND seq >= ? ORDER BY seq LIMIT ?",
	[ST_STAMP] = "UPDATE outbox SET payload = ?, bytes = ?, created_ms = ? WHERE seq = ?",
	[ST_SET_STATE] = "INSERT OR REPLACE INTO device_state (device, key, value) VALUES (?,?,?)",
	[ST_GET_STATE] = "SELECT value FROM device_state WHERE device = ? AND key = ?",
	[ST_SET_META] = "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
	[ST_PUT_BLOB] = "INSERT OR REPLACE INTO state (owner, key, value) VALUES (?,?,?)",
	[ST_DELETE_BLOB] = "DELETE FROM state WHERE owner = ?1 AND (?2 IS NULL OR key = ?2)",
	[ST_GET_BLOB] = "SELECT value FROM state WHERE owner = ? AND key = ?",
	[ST_CMD_INSERT] = "INSERT INTO command (id, device, kind, state, priority, expires_ms, "
			  "accepted_ms, finished_ms, body) VALUES (?,?,?,?,?,?,?,?,?)",
	[ST_CMD_UPDATE] = "UPDATE command SET state = ?2, finished_ms = ?3, body = ?4 WHERE id = ?1",
	[ST_CMD_STATE] = "SELECT state FROM command WHERE id = ?",
	[ST_CMD_COUNT] = "SELECT COUNT(*) FROM command WHERE state < 2",
	[ST_CMD_COUNT_DEVICE] = "SELECT COUNT(*) FROM command WHERE device = ? AND state < 2",
	[ST_CMD_FORGET] = "DELETE FROM command WHERE ord IN (SELECT ord FROM command WHERE "
			  "state = 2 AND finished_ms < ? ORDER BY finished_ms LIMIT ?)",
	/* Prepared once: parsing them at every commit cost more than the commit's inserts. */
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_MAX_SEQ] = "SELECT IFNULL(MAX(seq), 0) FROM outbox",
	[ST_OLDEST] = "SELECT created_ms FROM outbox ORDER BY seq LIMIT 1",
	[ST_PAGE_COUNT] = "PRAGMA page_count",
	[ST_FREELIST_COUNT] = "PRAGMA freelist_count",
};

/* Schema migrations: index i takes user_version i to i + 1. */
static const char *const migrations[] = {
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE readings (id INTEGER PRIMARY KEY, source INTEGER NOT NULL,"
	" device_id TEXT NOT NULL, device_name TEXT NOT NULL, quantity TEXT NOT NULL,"
	" kind INTEGER NOT NULL, number REAL, text TEXT, unit TEXT NOT NULL,"
	" time_ms INTEGER NOT NULL, mono_usec INTEGER NOT NULL, boot_id TEXT NOT NULL,"
	" frame_id INTEGER NOT NULL, radio_present INTEGER NOT NULL, rssi INTEGER, snr REAL,"
	" freq_hz INTEGER, sf INTEGER, bw_hz INTEGER, dr INTEGER, tmst INTEGER);"
	"CREATE TABLE outbox (seq INTEGER PRIMARY KEY, topic TEXT NOT NULL, payload BLOB NOT NULL,"
	" qos INTEGER NOT NULL, retain INTEGER NOT NULL, created_ms INTEGER NOT NULL,"
	" created_mono_usec INTEGER NOT NULL, device TEXT NOT NULL, bytes INTEGER NOT NULL);"
	"CREATE TABLE device_state (device TEXT NOT NULL, key TEXT NOT NULL,"
	" value INTEGER NOT NULL, PRIMARY KEY (device, key)) WITHOUT ROWID;"
	"INSERT INTO meta (key, value) VALUES ('next_seq', 1);",
	/*
	 * 2: the boot a message was made in (the first 60 bits of the kernel's
	 * boot id; 0 unknown), so that a message made before the wall clock was
	 * set can be given its time from its monotonic stamp once it is, within
	 * the same boot. The partial index holds only such messages: empty in
	 * normal running, it costs no writes.
	 */
	"ALTER TABLE outbox ADD COLUMN boot INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX outbox_unstamped ON outbox (seq) WHERE created_ms = 0;",
	/* 3: the transform's own state (rule engine: last values, windows, alerts). */
	"CREATE TABLE state (owner TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,"
	" PRIMARY KEY (owner, key)) WITHOUT ROWID;",
	/*
	 * 4: commands from the cloud (cmd/queue.c), and the MQTT 5 correlation
	 * data an outbox message carries (NULL: none). ord, an alias of the
	 * rowid, is the order of arrival: an INTEGER PRIMARY KEY keeps its
	 * values through a VACUUM, a bare rowid need not. state 0 pending,
	 * 1 awaiting its acknowledgement, 2 finished (the row keeps its id, for
	 * deduplication, and no body). The partial indexes cost no writes for
	 * rows they do not hold: command_next the send order of a device's
	 * unfinished rows, command_expiry the pending rows that can expire,
	 * command_finished the ids to forget, oldest first.
	 */
	"ALTER TABLE outbox ADD COLUMN correlation BLOB;"
	"CREATE TABLE command (ord INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
	" device TEXT NOT NULL, kind INTEGER NOT NULL, state INTEGER NOT NULL,"
	" priority INTEGER NOT NULL, expires_ms INTEGER NOT NULL, accepted_ms INTEGER NOT NULL,"
	" finished_ms INTEGER NOT NULL, body BLOB);"
	"CREATE INDEX command_next ON command (device, state DESC, priority DESC, ord)"
	" WHERE state < 2;"
	"CREATE INDEX command_expiry ON command (expires_ms) WHERE state = 0 AND expires_ms > 0;"
	"CREATE INDEX command_finished ON command (finished_ms) WHERE state = 2;",
};

struct fg_store {
	struct fg_buffer_config cfg; /* path owned */
	sqlite3 *db;
	sqlite3_stmt *st[ST__COUNT];
	fg_store_transform_fn transform;
	void *userdata;
	struct fg_store_hooks hooks;
	struct fg_tail tail; /* the outbox's newest rows, for peek (store/tail.h) */
	bool emitting;	     /* fg_store_emit's insert is running (the update hook) */
	bool in_commit;	  /* fg_store_emit is allowed */
	bool in_txn;	  /* fg_store_begin's transaction is open: fg_store_emit is allowed */
	uint64_t txn_seq; /* next_seq at fg_store_begin, restored by a rollback */
	uint64_t txn_reserved; /* reserved at fg_store_begin, likewise */
	struct fg_store_stats txn_stats; /* the counters at fg_store_begin, likewise */
	bool want_commit; /* fg_store_want_commit: run the next commit even if idle */
	int emitted;	  /* messages emitted in this commit */
	unsigned long sql_errors; /* sql_err calls, to tell whose failure last_error is */
	struct staged *staged;
	size_t nstaged;
	uint64_t *acks;
	size_t nacks;
	struct pending_state states[STATES_MAX];
	size_t nstates;
	uint64_t next_seq;
	uint64_t meta_seq; /* next_seq as written in the meta table */
	uint64_t reserved; /* seqs below this are covered by a synced reservation (see reserve_seqs) */
	uint64_t first_ack_usec; /* when the oldest waiting ack came */
	uint64_t unsynced_usec;	 /* when the oldest commit not yet synced was made, 0 none */
	uint64_t unsynced_seq;	 /* next_seq - 1 at the newest such commit */
	bool acks_sorted;	 /* acks[] ascending: peek can binary-search it */
	uint32_t page_size;
	uint64_t age_checked_usec; /* last max_age sweep, monotonic */
	int64_t boot;		   /* this boot's key (boot_key), 0 if unknown */
	uint64_t unstamped_from;   /* lowest seq that may lack its wall time, 0 none */
	bool age_due;
	bool evicting; /* an eviction episode is going on (see fg_store_get_episode) */
	bool disk_low; /* the filesystem is nearly full (see fg_store_disk_low) */
	struct fg_store_episode episode;
	uint64_t rows_at_evict;		 /* outbox rows after the last eviction */
	enum fg_store_evict_cause cause; /* the first cause of eviction in this commit */
	char *dir;			 /* the buffer's directory, for statvfs */
	char *wal_path;
	fg_store_free_space_fn free_space;
	void *free_space_userdata;
	bool avail_known; /* avail was measured for this commit */
	uint64_t avail;	  /* bytes free for us on the filesystem, this commit */
	int wal_mode;	  /* 0 not set yet, 1 normal, 2 low space */
	uint64_t wal_limit; /* journal_size_limit in force */
	struct fg_store_stats stats;
	char last_error[256];
};

/* Map an SQLite result to a negative errno, keeping its message. */
static int sql_err(struct fg_store *s, int rc)
{
	s->sql_errors++;
	snprintf(s->last_error, sizeof(s->last_error), "%s",
		 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EBADMSG;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_CANTOPEN:
		/* The system's own reason (EROFS, EACCES, ENOENT, ...), not a guess. */
		if (s->db && sqlite3_system_errno(s->db) > 0)
			return -sqlite3_system_errno(s->db);
		return access(s->cfg.path, F_OK) == 0 ? -EACCES : -ENOENT;
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return -EACCES;
	default:
		return -EIO;
	}
}

static int exec(struct fg_store *s, const char *sql)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : sql_err(s, rc);
}

/* Run a one-value query (a PRAGMA, a COUNT) into *ret. */
static int query_int(struct fg_store *s, const char *sql, int64_t *ret)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sql_err(s, rc);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_DONE)
		*ret = 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sql_err(s, rc);
}

/* Reset a cached statement for reuse. */
static sqlite3_stmt *stmt(struct fg_store *s, enum stmt_id id)
{
	sqlite3_reset(s->st[id]);
	sqlite3_clear_bindings(s->st[id]);
	return s->st[id];
}

/* Step a cached statement that returns no row (BEGIN, COMMIT). */
static int run(struct fg_store *s, enum stmt_id id)
{
	int rc = sqlite3_step(s->st[id]);

	sqlite3_reset(s->st[id]);
	return rc == SQLITE_DONE ? 0 : sql_err(s, rc);
}

/* A cached one-value query into *ret (0 for no row). */
static int query_st(struct fg_store *s, enum stmt_id id, int64_t *ret)
{
	sqlite3_stmt *st = s->st[id];
	int rc = sqlite3_step(st);

	*ret = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sql_err(s, rc);
}

static int txn_begin(struct fg_store *s)
{
	return run(s, ST_BEGIN);
}

/* Undo the open transaction; SQLite may have rolled it back already (SQLITE_FULL): harmless. */
static void txn_rollback(struct fg_store *s)
{
	(void) sqlite3_step(s->st[ST_ROLLBACK]);
	sqlite3_reset(s->st[ST_ROLLBACK]);
}

/*
 * What a commit leaves to sync (see configure_db): with sync_interval_ms 0
 * SQLite synced it (synchronous=FULL); otherwise the WAL holds it in the
 * page cache until sync_wal, at the latest sync_interval_ms after the oldest
 * such commit.
 */
static void note_commit(struct fg_store *s)
{
	if (!s->cfg.sync_interval_ms) {
		s->stats.synced_seq = s->next_seq - 1;
		return;
	}
	if (!s->unsynced_usec) {
		uint64_t now = fg_clock_mono_usec();

		s->unsynced_usec = now ? now : 1;
	}
	s->unsynced_seq = s->next_seq - 1;
}

static int txn_commit(struct fg_store *s)
{
	int r = run(s, ST_COMMIT);

	if (r >= 0)
		note_commit(s);
	return r;
}

/*
 * Sync the WAL (fdatasync through SQLite's own file, which also syncs the
 * directory once after the WAL was created): every commit before it is then
 * on the card. The main database file needs none: with synchronous=NORMAL
 * SQLite writes it only at a checkpoint and syncs it there. A failure is
 * counted and leaves the commits unsynced, to be tried again.
 */
static int sync_wal(struct fg_store *s)
{
	sqlite3_file *f = NULL;
	int rc;

	if (!s->unsynced_usec || !s->db)
		return 0;
	rc = sqlite3_file_control(s->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f);
	if (rc == SQLITE_OK && f && f->pMethods)
		rc = f->pMethods->xSync(f, SQLITE_SYNC_NORMAL);
	if (rc != SQLITE_OK) {
		s->stats.sync_errors++;
		snprintf(s->last_error, sizeof(s->last_error), "syncing the write-ahead log: %s",
			 sqlite3_errstr(rc));
		return -EIO;
	}
	s->stats.wal_syncs++;
	s->stats.synced_seq = s->unsynced_seq;
	s->unsynced_usec = 0;
	return 0;
}

/*
 * Sequence numbers across a power cut. A message is published as soon as its
 * commit is in the page cache, before the WAL is synced: a cut can lose
 * commits whose messages the broker already has, and the next boot would
 * give their seqs to new messages, which a consumer that keeps a high-water
 * mark drops as duplicates. So before a commit uses a seq at or past
 * `reserved`, it writes meta 'seq_reserved' = next_seq + SEQ_RESERVE with
 * this boot's key and is synced at once (one extra sync per SEQ_RESERVE
 * messages). Opening in another boot with a reservation left (the last run
 * did not close: a power cut, a kernel crash) starts at the reservation: a
 * gap, never a reuse. A clean close removes it; a kill -9 keeps the page
 * cache and its boot, and the next run in that boot goes on without a gap.
 */
#define SEQ_RESERVE 65536

static int set_meta(struct fg_store *s, const char *key, int64_t value)
{
	sqlite3_stmt *st = stmt(s, ST_SET_META);
	int rc;

	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64) value);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : sql_err(s, rc);
}

/*
 * Inside the transaction that used seqs from seq_before, before its COMMIT;
 * *ret_sync: sync right after the COMMIT.
 */
static int reserve_seqs(struct fg_store *s, uint64_t seq_before, bool *ret_sync)
{
	uint64_t r = s->next_seq + SEQ_RESERVE;
	int e;

	*ret_sync = false;
	if (!s->cfg.sync_interval_ms || s->next_seq == seq_before || s->next_seq <= s->reserved)
		return 0;
	e = set_meta(s, "seq_reserved", (int64_t) r);
	if (e >= 0)
		e = set_meta(s, "seq_reserved_boot", s->boot);
	if (e < 0)
		return e;
	s->reserved = r;
	*ret_sync = true;
	return 0;
}

/* Sync when the oldest unsynced commit is sync_interval_ms old (or now, for force). */
static void sync_if_due(struct fg_store *s, uint64_t now, bool force)
{
	if (s->unsynced_usec &&
	    (force || now - s->unsynced_usec >= (uint64_t) s->cfg.sync_interval_ms * FG_USEC_PER_MSEC))
		(void) sync_wal(s);
}

static void free_staged(struct fg_store *s)
{
	for (size_t i = 0; i < s->nstaged; i++)
		free(s->staged[i].text);
	s->nstaged = 0;
}

static void close_db(struct fg_store *s)
{
	for (int i = 0; i < ST__COUNT; i++) {
		sqlite3_finalize(s->st[i]);
		s->st[i] = NULL;
	}
	sqlite3_close(s->db);
	s->db = NULL;
}

/*
 * Settings for power loss and SD-card wear.
 *
 * Two loss windows (invariant 1). A commit (every commit_interval_ms) puts
 * the staged readings in the WAL: from then on a crash of the process
 * (kill -9, the OOM killer, a segfault) loses nothing, as the kernel's page
 * cache has the WAL. A power cut loses what the page cache held and the card
 * did not: the commits since the WAL was last synced. With
 * sync_interval_ms 0, synchronous=FULL syncs the WAL at every COMMIT (one
 * fdatasync per commit: at 10 readings/s a commit and a sync, about 1.8 KB
 * written to the card, per reading). Otherwise synchronous=NORMAL (which in
 * WAL mode syncs only at a checkpoint, and keeps the file consistent through
 * a cut whatever it loses) and sync_wal syncs the WAL once the oldest
 * unsynced commit is sync_interval_ms old, so a power cut loses at most
 * commit_interval_ms + sync_interval_ms of readings (about 750 B per reading
 * at 10 readings/s with the default 1000). What is promised to someone
 * else is synced before the promise: a command accepted from the cloud
 * (fg_store_end), a LoRaWAN session written (fg_store_state_put outside a
 * commit), and everything at flush and close.
 *
 * page_size 1024, not the usual 4096: a commit appends a few WAL frames of
 * one page each and syncs them; at 10 readings/s (one reading per commit)
 * 4 KiB frames made the kernel write about 12 KiB per reading, 1 KiB frames
 * about 6 KiB (the appends share 4 KiB filesystem blocks); at 100 readings
 * per commit 400 vs 230 bytes per reading (tests/bench/store_bench.c, ext4).
 * Speed was the same. The floor is one filesystem block per commit, the price
 * of syncing every commit; longer commit intervals are the lever below it. It only
 * applies to a new file; an existing buffer keeps its page size. Measured end
 * to end with the WAL synced once a second (scripts/bench): 2048 would cut
 * 575 instructions per reading at 1,000/s (10,618 -> 10,043: a B-tree leaf
 * holds two or three outbox rows, so deleting the acked ones rebalances
 * almost every row) but write 1,165 instead of 643 bytes per reading at 10/s.
 * The SD card's wear was chosen.
 * wal_autocheckpoint 2000 pages (2 MiB): the outbox drains, so most pages in
 * the WAL are rewritten versions of the same few pages and a checkpoint
 * copies only the newest version of each; 1000 vs 10000 made no measurable
 * difference, 2000 keeps the WAL (and recovery after a crash) small.
 * journal_size_limit truncates the WAL back to 8 MiB after a checkpoint so
 * it does not keep its high-water size.
 * cache_size 256 KiB: the outbox is read and deleted in sequence order, so
 * the cache holds a path of interior pages and the leaves at the two ends;
 * against 1 MiB it drained a million-message backlog as fast (about 52k
 * messages/s) with 0.5 MB less resident memory, and 256 against 512 KiB
 * drained a 200k backlog at 104% and 110% of the broker's ceiling taken
 * before each (within the run-to-run spread), with the same instructions
 * per reading, 0.3 MB less under overload (scripts/bench).
 * busy_timeout 0: fieldgated is the only writer; a lock held by someone else
 * (fieldgatectl reading) fails the commit with -EBUSY and it is retried at the
 * next tick instead of blocking the event loop.
 */
static int configure_db(struct fg_store *s)
{
	static const char *const pragmas = "PRAGMA page_size = 1024;"
					   "PRAGMA journal_mode = WAL;"
					   "PRAGMA synchronous = FULL;"
					   "PRAGMA wal_autocheckpoint = 2000;"
					   "PRAGMA journal_size_limit = 8388608;"
					   "PRAGMA temp_store = MEMORY;"
					   "PRAGMA cache_size = -256;"
					   "PRAGMA secure_delete = OFF;"
					   "PRAGMA foreign_keys = OFF;"
					   "PRAGMA busy_timeout = 0;";

	int r = exec(s, pragmas);

	if (r >= 0 && s->cfg.sync_interval_ms)
		r = exec(s, "PRAGMA synchronous = NORMAL");
	return r;
}

/* A boot id's first 15 hex digits as a number: 0 for none or a malformed one. */
static int64_t boot_key(const char *boot_id)
{
	int64_t v = 0;

	for (int i = 0; i < 15; i++) {
		char c = boot_id[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (d < 0)
			return 0;
		v = v * 16 + d;
	}
	return v;
}

/* Bring the schema to the newest version, one migration per transaction. */
static int migrate(struct fg_store *s)
{
	int64_t version;
	char sql[64];
	int r;

	r = query_int(s, "PRAGMA user_version", &version);
	if (r < 0)
		return r;
	if (version > (int64_t) (sizeof(migrations) / sizeof(migrations[0]))) {
		snprintf(s->last_error, sizeof(s->last_error),
			 "buffer schema version %lld is newer than this fieldgate knows",
			 (long long) version);
		return -EPROTO;
	}
	for (size_t v = (size_t) version; v < sizeof(migrations) / sizeof(migrations[0]); v++) {
		r = exec(s, "BEGIN IMMEDIATE");
		if (r < 0)
			return r;
		r = exec(s, migrations[v]);
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %zu", v + 1);
		if (r >= 0)
			r = exec(s, sql);
		if (r >= 0)
			r = exec(s, "COMMIT");
		if (r < 0) {
			(void) exec(s, "ROLLBACK");
			return r;
		}
	}
	return 0;
}

/*
 * Create the buffer file mode 0600 before SQLite opens it, whatever the
 * umask (SQLite would make it 0644 less the umask): it holds OTAA session
 * keys. SQLite creates the -wal and -shm files with the mode of the database
 * file; files left wider by an older version are narrowed. Doing the open
 * ourselves also gives the real reason a directory cannot be written
 * (EROFS, EACCES), where SQLite says only "unable to open database file".
 */
static int create_private(struct fg_store *s)
{
	static const char *const sfx[] = { "-wal", "-shm" };
	struct stat st;
	char other[4200];
	int fd;

	fd = open(s->cfg.path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		int e = errno;

		snprintf(s->last_error, sizeof(s->last_error), "%s", strerror(e));
		return -e;
	}
	if (fstat(fd, &st) == 0 && (st.st_mode & 077))
		(void) fchmod(fd, st.st_mode & 0700);
	close(fd);
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(other, sizeof(other), "%s%s", s->cfg.path, sfx[i]);
		if (stat(other, &st) == 0 && (st.st_mode & 077))
			(void) chmod(other, st.st_mode & 0700);
	}
	return 0;
}

/* Open, check, migrate, prepare; -EBADMSG when the file is not a sound database. */
/*
 * Every change to an outbox row reaches the tail: a delete of its oldest
 * entry (acks, in order) keeps it; anything else it cannot follow (an
 * eviction's delete from the middle, the time stamp's update, an insert but
 * fg_store_emit's) makes it forget.
 */
static void on_row_change(void *userdata, int op, const char *db, const char *table,
			  sqlite3_int64 rowid)
{
	struct fg_store *s = userdata;

	(void) db;
	if (strcmp(table, "outbox") != 0)
		return;
	if (op == SQLITE_DELETE)
		fg_tail_deleted(&s->tail, (uint64_t) rowid, s->next_seq);
	else if (op != SQLITE_INSERT || !s->emitting)
		fg_tail_reset(&s->tail, s->next_seq);
}

/* A rollback may bring back rows the tail has let go: it forgets. */
static void on_rollback(void *userdata)
{
	struct fg_store *s = userdata;

	fg_tail_reset(&s->tail, s->next_seq);
}

static int open_db(struct fg_store *s)
{
	int64_t v;
	sqlite3_stmt *st;
	int rc, r;

	r = create_private(s);
	if (r < 0)
		return r;
	rc = sqlite3_open_v2(s->cfg.path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK)
		return sql_err(s, rc);
	r = configure_db(s);
	if (r < 0)
		return r;
	/* quick_check reads every page once: the price of knowing the file is sound. */
	rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sql_err(s, rc);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && strcmp((const char *) sqlite3_column_text(st, 0), "ok") != 0) {
		snprintf(s->last_error, sizeof(s->last_error), "integrity check: %s",
			 sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		return -EBADMSG;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return sql_err(s, rc);
	r = migrate(s);
	if (r < 0)
		return r;
	for (int i = 0; i < ST__COUNT; i++) {
		rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					&s->st[i], NULL);
		if (rc != SQLITE_OK)
			return sql_err(s, rc);
	}
	sqlite3_update_hook(s->db, on_row_change, s);
	sqlite3_rollback_hook(s->db, on_rollback, s);
	r = query_int(s, "SELECT value FROM meta WHERE key = 'next_seq'", &v);
	if (r < 0)
		return r;
	s->meta_seq = v > 0 ? (uint64_t) v : 1;
	/* The counter is written only when the outbox no longer shows it (see commit_once). */
	r = query_int(s, "SELECT IFNULL(MAX(seq), 0) FROM outbox", &v);
	if (r < 0)
		return r;
	s->next_seq = (uint64_t) v + 1 > s->meta_seq ? (uint64_t) v + 1 : s->meta_seq;
	s->boot = boot_key(fg_clock_boot_id());
	r = query_int(s, "SELECT value FROM meta WHERE key = 'seq_reserved'", &v);
	if (r >= 0 && v > 0) {
		int64_t boot = 0;

		r = query_int(s, "SELECT value FROM meta WHERE key = 'seq_reserved_boot'", &boot);
		if (r >= 0 && (!s->boot || boot != s->boot) && (uint64_t) v > s->next_seq)
			s->next_seq = (uint64_t) v; /* a power cut may have lost published seqs */
		else if (r >= 0)
			s->reserved = (uint64_t) v; /* this boot's: it still covers what it did */
	}
	if (r < 0)
		return r;
	fg_tail_reset(&s->tail, s->next_seq);
	r = query_int(s, "SELECT COUNT(*) FROM outbox", &v);
	if (r < 0)
		return r;
	s->stats.outbox_rows = (uint64_t) v;
	r = query_int(s, "SELECT COUNT(*) FROM readings", &v);
	if (r < 0)
		return r;
	s->stats.readings_rows = (uint64_t) v;
	r = query_int(s, "PRAGMA page_size", &v);
	if (r < 0)
		return r;
	s->page_size = (uint32_t) v;
	if (s->boot) {
		/* Left by an earlier run in this boot; the partial index makes this cheap. */
		char sql[120];

		snprintf(sql, sizeof(sql),
			 "SELECT IFNULL(MIN(seq), 0) FROM outbox WHERE created_ms = 0 AND boot = %lld",
			 (long long) s->boot);
		r = query_int(s, sql, &v);
		if (r < 0)
			return r;
		s->unstamped_from = (uint64_t) v;
	}
	return 0;
}

/* Rename a bad buffer (and its WAL and shared-memory files) out of the way. */
static int move_aside(struct fg_store *s, char **ret_name)
{
	char stamp[32], *name = NULL, *from = NULL, *to = NULL;
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (asprintf(&name, "%s.corrupt-%s", s->cfg.path, stamp) < 0)
		return -ENOMEM;
	if (rename(s->cfg.path, name) < 0) {
		int e = -errno;

		free(name);
		return e;
	}
	for (int i = 0; i < 2; i++) {
		const char *sfx = i ? "-shm" : "-wal";

		if (asprintf(&from, "%s%s", s->cfg.path, sfx) >= 0 &&
		    asprintf(&to, "%s%s", name, sfx) >= 0)
			(void) rename(from, to);
		free(from);
		free(to);
		from = to = NULL;
	}
	*ret_name = name;
	return 0;
}

int fg_store_single_thread(void)
{
	if (sqlite3_config(SQLITE_CONFIG_SINGLETHREAD) != SQLITE_OK ||
	    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK)
		return -EBUSY;
	return 0;
}

int fg_store_open(const struct fg_buffer_config *cfg, fg_store_transform_fn transform,
		  void *userdata, struct fg_store **ret_store, char **ret_moved_to)
{
	struct fg_store *s;
	char *moved = NULL;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	s->cfg.path = strdup(cfg->path);
	s->staged = calloc(cfg->commit_batch ? cfg->commit_batch : 1, sizeof(*s->staged));
	s->acks = calloc(ACKS_MAX, sizeof(*s->acks));
	s->acks_sorted = true;
	if (s->cfg.path) {
		const char *slash = strrchr(s->cfg.path, '/');

		if (!slash)
			s->dir = strdup(".");
		else if (slash == s->cfg.path)
			s->dir = strdup("/");
		else
			s->dir = strndup(s->cfg.path, (size_t) (slash - s->cfg.path));
		if (asprintf(&s->wal_path, "%s-wal", s->cfg.path) < 0)
			s->wal_path = NULL;
	}
	if (!s->cfg.path || !s->staged || !s->acks || !s->dir || !s->wal_path) {
		r = -ENOMEM;
		goto fail;
	}
	s->transform = transform;
	s->userdata = userdata;
	r = open_db(s);
	if (r == -EBADMSG || r == -EPROTO) {
		/* Keep the gateway working: the bad file goes aside, a fresh buffer starts. */
		close_db(s);
		r = move_aside(s, &moved);
		if (r < 0)
			goto fail;
		memset(&s->stats, 0, sizeof(s->stats));
		s->stats.recovered_corrupt = true;
		r = open_db(s);
	}
	if (r < 0)
		goto fail;
	if (ret_moved_to)
		*ret_moved_to = moved;
	else
		free(moved);
	*ret_store = s;
	return 0;
fail:
	free(moved);
	if (ret_moved_to)
		*ret_moved_to = NULL;
	fg_store_close(s);
	return r;
}

void fg_store_close(struct fg_store *s)
{
	if (!s)
		return;
	if (s->db) {
		if (s->in_txn)
			(void) fg_store_end(s, false);
		if (s->nstaged || s->nacks || s->nstates)
			(void) fg_store_flush(s);
		if (s->reserved && txn_begin(s) >= 0) {
			/* Closed cleanly: the next run goes on from the exact counter. */
			if (set_meta(s, "next_seq", (int64_t) s->next_seq) >= 0 &&
			    exec(s, "DELETE FROM meta WHERE key IN ('seq_reserved', "
				    "'seq_reserved_boot')") >= 0 &&
			    txn_commit(s) >= 0)
				s->reserved = 0;
			else
				txn_rollback(s);
		}
		(void) sync_wal(s);
		(void) exec(s, "PRAGMA wal_checkpoint(TRUNCATE)");
	}
	close_db(s);
	fg_tail_free(&s->tail);
	free_staged(s);
	free(s->staged);
	free(s->acks);
	free(s->cfg.path);
	free(s->dir);
	free(s->wal_path);
	free(s);
}

int fg_store_append(struct fg_store *s, const struct fg_reading *r, size_t n)
{
	if (s->nstaged + n > s->cfg.commit_batch)
		return -ENOBUFS;
	for (size_t i = 0; i < n; i++) {
		struct staged *st = &s->staged[s->nstaged];

		st->r = r[i];
		st->text = NULL;
		if (r[i].kind == FG_VALUE_STRING) {
			st->text = strdup(r[i].text ? r[i].text : "");
			if (!st->text)
				return -ENOMEM;
		}
		st->r.text = st->text;
		s->nstaged++;
	}
	s->stats.readings_appended += n;
	return 0;
}

size_t fg_store_staged(const struct fg_store *s)
{
	return s->nstaged;
}

/* Write the staged readings into the readings table. */
static int insert_staged(struct fg_store *s)
{
	for (size_t i = 0; i < s->nstaged; i++) {
		const struct fg_reading *r = &s->staged[i].r;
		sqlite3_stmt *st = stmt(s, ST_INSERT_READING);
		int rc;

		sqlite3_bind_int(st, 1, r->source);
		sqlite3_bind_text(st, 2, r->device_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, r->device_name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, r->quantity, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 5, r->kind);
		if (r->kind == FG_VALUE_BOOL)
			sqlite3_bind_int(st, 6, r->boolean);
		else if (r->kind == FG_VALUE_NUMBER)
			sqlite3_bind_double(st, 6, r->number);
		if (r->kind == FG_VALUE_STRING)
			sqlite3_bind_text(st, 7, r->text, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 8, r->unit, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 9, (sqlite3_int64) r->time_ms);
		sqlite3_bind_int64(st, 10, (sqlite3_int64) r->mono_usec);
		sqlite3_bind_text(st, 11, r->boot_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 12, (sqlite3_int64) r->frame_id);
		sqlite3_bind_int(st, 13, r->radio.present);
		if (r->radio.present) {
			sqlite3_bind_int(st, 14, r->radio.rssi);
			sqlite3_bind_double(st, 15, r->radio.snr);
			sqlite3_bind_int64(st, 16, r->radio.freq_hz);
			sqlite3_bind_int(st, 17, r->radio.sf);
			sqlite3_bind_int64(st, 18, r->radio.bw_hz);
			sqlite3_bind_int(st, 19, r->radio.dr);
			sqlite3_bind_int64(st, 20, r->radio.tmst);
		}
		rc = sqlite3_step(st);
		if (rc != SQLITE_DONE)
			return sql_err(s, rc);
	}
	s->stats.readings_committed += s->nstaged;
	s->stats.readings_rows += s->nstaged;
	return 0;
}

/* Copy a text column into a fixed field. */
static void col_copy(sqlite3_stmt *st, int col, char *dst, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(dst, size, "%s", t ? (const char *) t : "");
}

/* One frame through the transform into the outbox. */
static int flush_group(struct fg_store *s, struct fg_reading *g, char **texts, size_t n)
{
	unsigned long errors = s->sql_errors;
	int r = s->transform ? s->transform(s, g, n, s->userdata) : 0;

	for (size_t i = 0; i < n; i++) {
		free(texts[i]);
		texts[i] = NULL;
	}
	/* Keep SQLite's own message when the failure was a write of the transform's. */
	if (r < 0 && s->sql_errors == errors)
		snprintf(s->last_error, sizeof(s->last_error), "transform failed: %s", strerror(-r));
	return r;
}

void fg_store_msg_from_frame(struct fg_store_msg *m, const struct fg_reading *r, size_t n)
{
	m->device = r[0].device_id;
	m->created_mono_usec = r[0].mono_usec;
	m->boot_id = r[0].boot_id;
	m->created_ms = 0;
	for (size_t i = 0; i < n; i++)
		if (r[i].time_ms && (!m->created_ms || r[i].time_ms < m->created_ms))
			m->created_ms = r[i].time_ms;
}

uint64_t fg_store_next_seq(const struct fg_store *s)
{
	return s->next_seq;
}

int fg_store_emit(struct fg_store *s, const struct fg_store_msg *m)
{
	int64_t boot = boot_key(m->boot_id ? m->boot_id : "");
	sqlite3_stmt *st;
	int rc;

	if (!s->in_commit && !s->in_txn)
		return -EPERM;
	if (m->correlation_len > INT32_MAX)
		return -E2BIG;
	st = stmt(s, ST_INSERT_OUTBOX);
	sqlite3_bind_int64(st, 1, (sqlite3_int64) s->next_seq);
	sqlite3_bind_text(st, 2, m->topic ? m->topic : "", -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, m->payload ? m->payload : "", (int) m->payload_len,
			  SQLITE_STATIC);
	sqlite3_bind_int(st, 4, m->qos);
	sqlite3_bind_int(st, 5, m->retain);
	sqlite3_bind_int64(st, 6, (sqlite3_int64) m->created_ms);
	sqlite3_bind_int64(st, 7, (sqlite3_int64) m->created_mono_usec);
	sqlite3_bind_text(st, 8, m->device ? m->device : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, (sqlite3_int64) m->payload_len);
	sqlite3_bind_int64(st, 10, boot);
	if (m->correlation && m->correlation_len)
		sqlite3_bind_blob(st, 11, m->correlation, (int) m->correlation_len, SQLITE_STATIC);
	s->emitting = true;
	rc = sqlite3_step(st);
	s->emitting = false;
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sql_err(s, rc);
	fg_tail_add(&s->tail, &(struct fg_outbox_msg){
				      .seq = s->next_seq,
				      .topic = m->topic,
				      .payload = m->payload,
				      .payload_len = m->payload_len,
				      .qos = m->qos,
				      .retain = m->retain,
				      .created_ms = m->created_ms,
				      /* peek's rule: another boot's monotonic clock means nothing */
				      .created_mono_usec = boot && boot == s->boot ? m->created_mono_usec : 0,
				      .correlation = m->correlation,
				      .correlation_len = m->correlation ? m->correlation_len : 0,
			      });
	if (!m->created_ms && boot && boot == s->boot &&
	    (!s->unstamped_from || s->next_seq < s->unstamped_from))
		s->unstamped_from = s->next_seq;
	/* The sequence number is spent only on a message that exists: no gaps for consumers. */
	s->next_seq++;
	s->stats.outbox_rows++;
	s->stats.messages_queued++;
	s->emitted++;
	return 0;
}

void fg_store_set_hooks(struct fg_store *s, const struct fg_store_hooks *h)
{
	s->hooks = h ? *h : (struct fg_store_hooks){ 0 };
}

uint64_t fg_store_commit_due(const struct fg_store *s, uint64_t soon)
{
	uint64_t due = 0;

	if (s->nstaged || s->nstates || s->want_commit || (s->stats.readings_rows && s->transform) ||
	    s->nacks >= ACK_BATCH)
		due = soon;
	else if (s->nacks)
		due = s->first_ack_usec + ACK_FLUSH_USEC;
	if (s->unsynced_usec) {
		uint64_t sync = s->unsynced_usec + (uint64_t) s->cfg.sync_interval_ms * FG_USEC_PER_MSEC;

		if (!due || sync < due)
			due = sync;
	}
	return due;
}

void fg_store_want_commit(struct fg_store *s)
{
	s->want_commit = true;
}

/*
 * A write outside a transaction committed on its own (a LoRaWAN session, a
 * join's nonces, a command row: written at once, durable on return).
 */
static int written_alone(struct fg_store *s)
{
	if (s->in_commit || s->in_txn)
		return 0;
	note_commit(s);
	return sync_wal(s);
}

int fg_store_state_put(struct fg_store *s, const char *owner, const char *key, const void *blob,
		       size_t len)
{
	sqlite3_stmt *st = stmt(s, ST_PUT_BLOB);
	int rc;

	if (len > INT32_MAX)
		return -E2BIG;
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, len ? blob : "", (int) len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? written_alone(s) : sql_err(s, rc);
}

int fg_store_state_delete(struct fg_store *s, const char *owner, const char *key)
{
	sqlite3_stmt *st = stmt(s, ST_DELETE_BLOB);
	int rc;

	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	if (key)
		sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 2);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? written_alone(s) : sql_err(s, rc);
}

int fg_store_state_get(struct fg_store *s, const char *owner, const char *key, void *buf,
		       size_t size, size_t *ret_len)
{
	sqlite3_stmt *st = stmt(s, ST_GET_BLOB);
	int r = 0, rc;

	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		size_t n = (size_t) sqlite3_column_bytes(st, 0);

		if (n > size) {
			r = -ENOBUFS;
		} else {
			if (n)
				memcpy(buf, sqlite3_column_blob(st, 0), n);
			*ret_len = n;
		}
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : sql_err(s, rc);
	}
	sqlite3_reset(st);
	return r;
}

int fg_store_state_each(struct fg_store *s, const char *owner, fg_store_state_fn fn,
			void *userdata)
{
	sqlite3_stmt *st;
	int r = 0, rc, rows = 0;

	rc = sqlite3_prepare_v2(s->db, owner ? "SELECT owner, key, value FROM state WHERE owner = ?"
					     : "SELECT owner, key, value FROM state",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return sql_err(s, rc);
	if (owner)
		sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	while (r >= 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = fn((const char *) sqlite3_column_text(st, 0),
		       (const char *) sqlite3_column_text(st, 1), sqlite3_column_blob(st, 2),
		       (size_t) sqlite3_column_bytes(st, 2), userdata);
		rows++;
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = sql_err(s, rc);
	sqlite3_finalize(st);
	return r < 0 ? r : rows;
}

/* Readings being gathered into one frame for the transform. */
struct group {
	struct fg_reading r[GROUP_MAX];
	char *texts[GROUP_MAX]; /* owned copies, or NULL when the text is borrowed */
	size_t n;
};

/* Add a reading (its text borrowed, or owned when `owned`) to the group, flushing the previous
 * frame. */
static int group_add(struct fg_store *s, struct group *gr, const struct fg_reading *cur,
		     char *owned)
{
	const struct fg_reading *g0 = &gr->r[0];
	int r;

	if (gr->n > 0 && (gr->n == GROUP_MAX || cur->source != g0->source ||
			  cur->frame_id != g0->frame_id || strcmp(cur->device_id, g0->device_id))) {
		r = flush_group(s, gr->r, gr->texts, gr->n);
		gr->n = 0;
		if (r < 0) {
			free(owned);
			return r;
		}
	}
	gr->r[gr->n] = *cur;
	gr->texts[gr->n] = owned;
	gr->n++;
	return 0;
}

/* Hand the last frame to the transform. */
static int group_finish(struct fg_store *s, struct group *gr)
{
	int r = 0;

	if (gr->n > 0)
		r = flush_group(s, gr->r, gr->texts, gr->n);
	gr->n = 0;
	return r < 0 ? r : 0;
}

/* Free what a failed pass left in the group. */
static void group_free(struct group *gr)
{
	for (size_t i = 0; i < gr->n; i++)
		free(gr->texts[i]);
	gr->n = 0;
}

/* Feed the readings left in the table (by a crash, or a store without transform) to the group. */
static int transform_table(struct fg_store *s, struct group *gr)
{
	sqlite3_stmt *st;
	int r = 0, rc;

	if (s->stats.readings_rows == 0)
		return 0;
	st = stmt(s, ST_SELECT_READINGS);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct fg_reading cur;
		char *owned = NULL;

		memset(&cur, 0, sizeof(cur));
		cur.source = (enum fg_source_kind) sqlite3_column_int(st, 0);
		col_copy(st, 1, cur.device_id, sizeof(cur.device_id));
		col_copy(st, 2, cur.device_name, sizeof(cur.device_name));
		col_copy(st, 3, cur.quantity, sizeof(cur.quantity));
		cur.kind = (enum fg_value_kind) sqlite3_column_int(st, 4);
		cur.number = sqlite3_column_double(st, 5);
		cur.boolean = sqlite3_column_int(st, 5) != 0;
		col_copy(st, 7, cur.unit, sizeof(cur.unit));
		cur.time_ms = (uint64_t) sqlite3_column_int64(st, 8);
		cur.mono_usec = (uint64_t) sqlite3_column_int64(st, 9);
		col_copy(st, 10, cur.boot_id, sizeof(cur.boot_id));
		cur.frame_id = (uint64_t) sqlite3_column_int64(st, 11);
		cur.radio.present = sqlite3_column_int(st, 12) != 0;
		cur.radio.rssi = (int16_t) sqlite3_column_int(st, 13);
		cur.radio.snr = (float) sqlite3_column_double(st, 14);
		cur.radio.freq_hz = (uint32_t) sqlite3_column_int64(st, 15);
		cur.radio.sf = (uint8_t) sqlite3_column_int(st, 16);
		cur.radio.bw_hz = (uint32_t) sqlite3_column_int64(st, 17);
		cur.radio.dr = (int8_t) (cur.radio.present ? sqlite3_column_int(st, 18) : -1);
		cur.radio.tmst = (uint32_t) sqlite3_column_int64(st, 19);
		if (cur.kind == FG_VALUE_STRING) {
			const unsigned char *t = sqlite3_column_text(st, 6);

			owned = strdup(t ? (const char *) t : "");
			if (!owned) {
				r = -ENOMEM;
				break;
			}
			cur.text = owned;
		}
		r = group_add(s, gr, &cur, owned);
		if (r < 0)
			break;
	}
	sqlite3_reset(st);
	if (r < 0)
		return r;
	if (rc != SQLITE_DONE)
		return sql_err(s, rc);
	rc = sqlite3_step(stmt(s, ST_DELETE_READINGS));
	if (rc != SQLITE_DONE)
		return sql_err(s, rc);
	return 0;
}

/*
 * Move readings to the outbox through the transform, frame by frame: first
 * those left in the readings table, then the staged ones. Staged readings go
 * straight from memory to the transform: writing them into the readings table
 * and deleting them again in the same transaction would cost one more WAL
 * page per commit (SD-card wear) and add no safety, since the insert and the
 * move commit or roll back together (invariant 3 holds either way). Without
 * a transform they are written to the table and wait for a store that has one.
 */
static int transform_readings(struct fg_store *s)
{
	struct group gr; /* not zeroed: 18 KB a commit; only r[0..n) is read */
	int r;

	gr.n = 0;

	if (!s->transform)
		return insert_staged(s);
	r = transform_table(s, &gr);
	for (size_t i = 0; r >= 0 && i < s->nstaged; i++)
		r = group_add(s, &gr, &s->staged[i].r, NULL);
	if (r >= 0)
		r = group_finish(s, &gr);
	if (r < 0) {
		group_free(&gr);
		return r;
	}
	s->stats.readings_committed += s->nstaged;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Delete the messages of n acks, one statement per run of consecutive seqs
 * (QoS 1 acks come in order, so a commit's acks are mostly one run): a
 * statement per row cost 6,800 instructions, most of it the statement's own
 * start and end. The callers sort the acks first (sort_acks: a set, whose
 * order means nothing once here; peek's binary search gains too).
 */
static void sort_acks(struct fg_store *s)
{
	if (!s->acks_sorted) {
		qsort(s->acks, s->nacks, sizeof(*s->acks), cmp_u64);
		s->acks_sorted = true;
	}
}

static int delete_acked(struct fg_store *s, const uint64_t *acks, size_t n, uint64_t *ret_deleted)
{
	for (size_t i = 0; i < n;) {
		sqlite3_stmt *st = stmt(s, ST_DELETE_OUTBOX);
		size_t j = i + 1;
		int rc;

		while (j < n && acks[j] - acks[j - 1] <= 1)
			j++;
		sqlite3_bind_int64(st, 1, (sqlite3_int64) acks[i]);
		sqlite3_bind_int64(st, 2, (sqlite3_int64) acks[j - 1]);
		rc = sqlite3_step(st);
		if (rc != SQLITE_DONE)
			return sql_err(s, rc);
		*ret_deleted += (uint64_t) sqlite3_changes(s->db);
		i = j;
	}
	return 0;
}

/* Delete the acked messages and write pending device state. */
static int apply_acks_and_state(struct fg_store *s, uint64_t *ret_deleted)
{
	uint64_t deleted = 0;
	int rc;

	sort_acks(s);
	rc = delete_acked(s, s->acks, s->nacks, &deleted);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < s->nstates; i++) {
		sqlite3_stmt *st = stmt(s, ST_SET_STATE);

		sqlite3_bind_text(st, 1, s->states[i].device, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, s->states[i].key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, s->states[i].value);
		rc = sqlite3_step(st);
		if (rc != SQLITE_DONE)
			return sql_err(s, rc);
	}
	*ret_deleted = deleted;
	return 0;
}

/* Count n rows evicted (or readings refused) for a cause; the commit's first cause is kept. */
static void count_evicted(struct fg_store *s, uint64_t n, enum fg_store_evict_cause cause)
{
	if (n == 0)
		return;
	s->stats.evicted += n;
	switch (cause) {
	case FG_EVICT_MAX_ROWS:
		s->stats.evicted_rows += n;
		break;
	case FG_EVICT_MAX_BYTES:
		s->stats.evicted_bytes += n;
		break;
	case FG_EVICT_MIN_FREE:
	case FG_EVICT_DISK_FULL:
		s->stats.evicted_disk += n;
		break;
	case FG_EVICT_NONE:
		s->stats.evicted_age += n;
		return;
	}
	if (s->cause == FG_EVICT_NONE)
		s->cause = cause;
}

/* Delete the oldest n outbox rows, counted as evicted for cause. */
static int evict_oldest(struct fg_store *s, uint64_t n, enum fg_store_evict_cause cause)
{
	char sql[160];
	int r;

	if (n == 0)
		return 0;
	snprintf(sql, sizeof(sql),
		 "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox ORDER BY seq LIMIT %llu)",
		 (unsigned long long) n);
	r = exec(s, sql);
	if (r < 0)
		return r;
	n = (uint64_t) sqlite3_changes(s->db);
	count_evicted(s, n, cause);
	s->stats.outbox_rows -= n < s->stats.outbox_rows ? n : s->stats.outbox_rows;
	return 0;
}

/* Size of a file, 0 if it does not exist. */
static uint64_t file_size(const char *path)
{
	struct stat st;

	return path && stat(path, &st) == 0 ? (uint64_t) st.st_size : 0;
}

/* Pages of the database in use (not on the free list), in bytes. */
static uint64_t page_bytes(struct fg_store *s, uint64_t *ret_free_bytes, uint64_t *ret_all_bytes)
{
	int64_t pages = 0, free_pages = 0;

	(void) query_st(s, ST_PAGE_COUNT, &pages);
	(void) query_st(s, ST_FREELIST_COUNT, &free_pages);
	if (ret_free_bytes)
		*ret_free_bytes = (uint64_t) free_pages * s->page_size;
	if (ret_all_bytes)
		*ret_all_bytes = (uint64_t) pages * s->page_size;
	return (uint64_t) (pages - free_pages) * s->page_size;
}

/*
 * Bytes the buffer holds in use: pages not on the free list, and the WAL,
 * which takes room on the disk as much as the database does (max_bytes).
 */
static uint64_t used_bytes(struct fg_store *s)
{
	return page_bytes(s, NULL, NULL) + file_size(s->wal_path);
}

/*
 * used_bytes() > max_bytes, settled from the files' sizes when they show it
 * cannot be: every page is in the database file or in a WAL frame, so the
 * pages in use are at most the two files and used_bytes() at most the file
 * and twice the WAL. The two PRAGMAs run only near the bound: a PRAGMA is
 * compiled afresh at every run (it expires itself), and four of them were
 * 250 instructions per reading at 1,000 readings/s.
 */
static bool over_max_bytes(struct fg_store *s)
{
	uint64_t wal = file_size(s->wal_path);

	if (file_size(s->cfg.path) + 2 * wal <= s->cfg.max_bytes)
		return false;
	return page_bytes(s, NULL, NULL) + wal > s->cfg.max_bytes;
}

/* Free space for us on the buffer's filesystem: statvfs f_bavail * f_frsize. */
static int measure_free(struct fg_store *s, uint64_t *ret)
{
	struct statvfs v;

	if (s->free_space)
		return s->free_space(s->dir, ret, s->free_space_userdata);
	if (statvfs(s->dir, &v) < 0)
		return -errno;
	*ret = (uint64_t) v.f_bavail * v.f_frsize;
	return 0;
}

/* The free space to keep on the filesystem: min_free, and never less than the WAL's reserve. */
static uint64_t free_floor(const struct fg_store *s)
{
	return s->cfg.min_free > FG_STORE_DISK_RESERVE ? s->cfg.min_free : FG_STORE_DISK_RESERVE;
}

/*
 * Below the free space to keep, the file must not grow: how many bytes of free
 * pages the buffer lacks to take the next commits (DISK_HEADROOM), 0 if none
 * or while the filesystem has room. The room is what the filesystem has free
 * less what the file must still grow by at the next checkpoint (pages now only
 * in the WAL). Evicting more than the headroom would give nothing back (the
 * file does not shrink) and, on a disk full to the last byte, make a delete
 * too big for the WAL's room.
 */
#define DISK_HEADROOM (128 * 1024)
static uint64_t disk_deficit(struct fg_store *s)
{
	uint64_t free_bytes, all_bytes, file, grow, wal;

	if (!s->avail_known)
		return 0;
	/* The file grows by the pages that are only in WAL frames: at most the WAL. */
	wal = file_size(s->wal_path);
	if (s->avail > wal && s->avail - wal >= free_floor(s))
		return 0;
	(void) page_bytes(s, &free_bytes, &all_bytes);
	file = file_size(s->cfg.path);
	grow = all_bytes > file ? all_bytes - file : 0;
	if (s->avail > grow && s->avail - grow >= free_floor(s))
		return 0;
	return free_bytes < DISK_HEADROOM ? DISK_HEADROOM - free_bytes : 0;
}

/* Rows to evict to free about `bytes`, from the average size of a row in use. */
static uint64_t rows_for_bytes(struct fg_store *s, uint64_t bytes)
{
	uint64_t used = page_bytes(s, NULL, NULL), rows = s->stats.outbox_rows;
	uint64_t avg = rows ? used / rows : 1;

	return bytes / (avg ? avg : 1) + 1;
}

/* drop_oldest: evict by age, count, size and free space, inside the commit's transaction. */
static int enforce_bounds(struct fg_store *s)
{
	uint64_t deficit;
	int r;

	if (s->age_due) {
		uint64_t now = fg_clock_wall_ms(), limit = s->cfg.max_age_s * 1000;
		char sql[300];
		uint64_t n;

		/*
		 * In sequence order, up to the first message young enough to keep:
		 * the subquery walks the primary key from the oldest row and stops
		 * there, where a plain WHERE on created_ms would read the whole
		 * buffer (a quarter of a gigabyte with a million rows) once a
		 * minute. Messages without a wall time (made before the clock was
		 * set) are kept: their age is unknown.
		 */
		if (now > limit) {
			unsigned long long cut = (unsigned long long) (now - limit);

			snprintf(sql, sizeof(sql),
				 "DELETE FROM outbox WHERE created_ms != 0 AND created_ms < %llu AND "
				 "seq < coalesce((SELECT seq FROM outbox WHERE created_ms >= %llu "
				 "ORDER BY seq LIMIT 1), 9223372036854775807)",
				 cut, cut);
			r = exec(s, sql);
			if (r < 0)
				return r;
			n = (uint64_t) sqlite3_changes(s->db);
			count_evicted(s, n, FG_EVICT_NONE);
			s->stats.outbox_rows -= n < s->stats.outbox_rows ? n : s->stats.outbox_rows;
		}
	}
	if (s->cfg.overflow != FG_OVERFLOW_DROP_OLDEST)
		return 0;
	if (s->stats.outbox_rows > s->cfg.max_rows) {
		r = evict_oldest(s, s->stats.outbox_rows - s->cfg.max_rows, FG_EVICT_MAX_ROWS);
		if (r < 0)
			return r;
	}
	/* Size: shed a tenth of the backlog at a time until under the bound. */
	for (int i = 0; i < 10 && s->stats.outbox_rows > 0 && over_max_bytes(s); i++) {
		r = evict_oldest(s, s->stats.outbox_rows / 10 + 1, FG_EVICT_MAX_BYTES);
		if (r < 0)
			return r;
	}
	/*
	 * Free space: below it, evict so that the pages freed take the next
	 * commits' rows and the file stops growing (it does not shrink: the free
	 * list is reused, not returned).
	 */
	for (int i = 0; i < 10 && s->stats.outbox_rows > 0 && (deficit = disk_deficit(s)) > 0;
	     i++) {
		r = evict_oldest(s, rows_for_bytes(s, deficit), FG_EVICT_MIN_FREE);
		if (r < 0)
			return r;
	}
	return 0;
}

/* drop_newest: refuse this commit's readings when the buffer is already full. */
static void refuse_if_full(struct fg_store *s)
{
	enum fg_store_evict_cause cause = FG_EVICT_NONE;

	if (s->cfg.overflow != FG_OVERFLOW_DROP_NEWEST || s->nstaged == 0)
		return;
	if (s->stats.outbox_rows >= s->cfg.max_rows)
		cause = FG_EVICT_MAX_ROWS;
	else if (over_max_bytes(s))
		cause = FG_EVICT_MAX_BYTES;
	else if (disk_deficit(s) > 0)
		cause = FG_EVICT_MIN_FREE;
	if (cause != FG_EVICT_NONE) {
		count_evicted(s, s->nstaged, cause);
		free_staged(s);
	}
}

/* The commit transaction; on failure it is rolled back and nothing in memory changes. */
static int commit_once(struct fg_store *s)
{
	struct fg_store_stats before = s->stats;
	enum fg_store_evict_cause cause_before = s->cause;
	uint64_t deleted = 0, seq_before = s->next_seq, reserved_before = s->reserved;
	bool meta_written = false, sync_now = false;
	int r;
	sqlite3_stmt *st;

	r = txn_begin(s);
	if (r < 0)
		return r;
	s->in_commit = true;
	s->emitted = 0;
	r = transform_readings(s);
	if (r >= 0 && s->transform && s->hooks.end)
		r = s->hooks.end(s, s->userdata);
	s->in_commit = false;
	if (r >= 0)
		r = apply_acks_and_state(s, &deleted);
	if (r >= 0) {
		s->stats.outbox_rows -=
			deleted < s->stats.outbox_rows ? deleted : s->stats.outbox_rows;
		r = enforce_bounds(s);
	}
	/*
	 * The sequence counter: at open it is the larger of the meta row and the
	 * newest outbox seq + 1, so the meta row needs writing only when this
	 * commit leaves the outbox without its newest seq (acked or evicted).
	 * In steady flow each commit adds a newer message than it deletes and
	 * the meta page is not written: one WAL page less per commit.
	 */
	if (r >= 0 && s->next_seq != s->meta_seq) {
		int64_t top = 0;

		r = query_st(s, ST_MAX_SEQ, &top);
		if (r >= 0 && (uint64_t) top + 1 < s->next_seq) {
			st = stmt(s, ST_SET_META);
			sqlite3_bind_text(st, 1, "next_seq", -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, (sqlite3_int64) s->next_seq);
			if (sqlite3_step(st) != SQLITE_DONE)
				r = sql_err(s, sqlite3_errcode(s->db));
			sqlite3_reset(st);
			if (r >= 0)
				meta_written = true;
		}
	}
	if (r >= 0)
		r = reserve_seqs(s, seq_before, &sync_now);
	if (r >= 0)
		r = txn_commit(s);
	if (r < 0) {
		txn_rollback(s);
		/* Nothing of the transaction happened: neither do its counters. */
		s->stats = before;
		s->cause = cause_before;
		s->next_seq = seq_before;
		s->reserved = reserved_before;
		if (s->transform && s->hooks.rolled_back)
			s->hooks.rolled_back(s->userdata);
		return r;
	}
	if (sync_now)
		(void) sync_wal(s);
	s->stats.messages_acked += deleted;
	if (meta_written)
		s->meta_seq = s->next_seq;
	if (s->transform)
		s->stats.readings_rows = 0;
	s->stats.commits++;
	free_staged(s);
	s->nacks = 0;
	s->acks_sorted = true;
	s->nstates = 0;
	s->want_commit = false;
	return s->emitted;
}

/*
 * The acks (and device state) alone, when the commit with the readings failed
 * for want of space: deleting rows needs no new pages, and the rows deleted
 * make room for the readings. Without this the acks rolled back with the
 * readings every time and the buffer never drained. In transactions of
 * ACK_CHUNK rows, each followed by a checkpoint: a delete dirties every leaf
 * page it touches, and a small transaction fits in the WAL's existing room,
 * which the checkpoint (copying pages the main file already has, so needing
 * no space either) lets the next one reuse. Acks left when one fails wait.
 */
#define ACK_CHUNK 128
static int commit_acks(struct fg_store *s)
{
	size_t done = 0;
	int r = 0;

	sort_acks(s);
	while (r >= 0 && (done < s->nacks || s->nstates)) {
		size_t n = s->nacks - done < ACK_CHUNK ? s->nacks - done : ACK_CHUNK;
		uint64_t deleted = 0;

		r = txn_begin(s);
		if (r >= 0)
			r = delete_acked(s, s->acks + done, n, &deleted);
		for (size_t i = 0; r >= 0 && i < s->nstates; i++) {
			sqlite3_stmt *st = stmt(s, ST_SET_STATE);

			sqlite3_bind_text(st, 1, s->states[i].device, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, s->states[i].key, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 3, s->states[i].value);
			if (sqlite3_step(st) != SQLITE_DONE)
				r = sql_err(s, sqlite3_errcode(s->db));
		}
		if (r >= 0)
			r = txn_commit(s);
		if (r < 0) {
			txn_rollback(s);
			break;
		}
		(void) sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		s->stats.outbox_rows -=
			deleted < s->stats.outbox_rows ? deleted : s->stats.outbox_rows;
		s->stats.messages_acked += deleted;
		s->stats.commits++;
		s->nstates = 0;
		done += n;
	}
	/* What is left stays for the next commit, still in order. */
	memmove(s->acks, s->acks + done, (s->nacks - done) * sizeof(*s->acks));
	s->nacks -= done;
	if (s->nacks == 0)
		s->acks_sorted = true;
	return r < 0 ? r : 0;
}

/*
 * The disk is full: write the acks alone, checkpoint the WAL so its space can
 * be reused (or given back), and make room by policy, counted: drop_oldest
 * evicts (if its free pages cannot take the staged readings) about what the
 * staged readings need, at least a tenth of the backlog; drop_newest, or with
 * nothing old to drop, the staged readings go.
 */
static void make_room(struct fg_store *s)
{
	(void) commit_acks(s);
	(void) sqlite3_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	if (s->cfg.overflow == FG_OVERFLOW_DROP_OLDEST && s->stats.outbox_rows > 0) {
		uint64_t free_bytes = 0, need = s->nstaged * 512 + 16 * s->page_size;
		struct fg_store_stats before = s->stats;
		enum fg_store_evict_cause cause_before = s->cause;
		uint64_t n;

		(void) page_bytes(s, &free_bytes, NULL);
		if (free_bytes >= need)
			return;
		n = rows_for_bytes(s, need - free_bytes);
		if (n < s->stats.outbox_rows / 10 + 1)
			n = s->stats.outbox_rows / 10 + 1;
		if (txn_begin(s) < 0 || evict_oldest(s, n, FG_EVICT_DISK_FULL) < 0 ||
		    txn_commit(s) < 0) {
			txn_rollback(s);
			s->stats = before;
			s->cause = cause_before;
		}
	} else {
		count_evicted(s, s->nstaged, FG_EVICT_DISK_FULL);
		free_staged(s);
	}
}

/*
 * Evictions for max_rows, max_bytes and the disk make episodes (max_age
 * sweeps do not). One begins at the first such commit and ends at a commit
 * that evicts nothing once the backlog has moved by a quarter since the last
 * eviction: drained by acks, or grown because there is room again.
 */
static void track_episode(struct fg_store *s, uint64_t evicted_before)
{
	uint64_t n = s->stats.evicted - s->stats.evicted_age - evicted_before;
	uint64_t rows = s->stats.outbox_rows, last = s->rows_at_evict;

	if (n) {
		if (!s->evicting) {
			s->evicting = true;
			s->stats.evict_episodes++;
			s->episode = (struct fg_store_episode){ .cause = s->cause };
		}
		s->episode.evicted += n;
		s->rows_at_evict = rows;
		return;
	}
	if (s->evicting && (rows * 4 <= last * 3 || rows * 4 >= last * 5))
		s->evicting = false;
}

/*
 * Measure the free space once per commit, and size the WAL for it: small
 * when the filesystem is low, so that a checkpoint always has room to run.
 */
static void watch_space(struct fg_store *s)
{
	uint64_t pages = WAL_PAGES, limit = WAL_LIMIT;
	int mode;
	char sql[120];

	s->avail_known = measure_free(s, &s->avail) == 0;
	if (s->avail_known)
		s->stats.disk_free = s->avail;
	/* Nearly full below twice the floor; room again at two and a half times it. */
	if (s->avail_known && s->avail < 2 * free_floor(s))
		s->disk_low = true;
	else if (s->avail_known && s->avail >= 2 * free_floor(s) + free_floor(s) / 2)
		s->disk_low = false;
	mode = s->avail_known && s->avail < free_floor(s) + LOW_SPACE ? 2 : 1;
	if (mode == s->wal_mode)
		return;
	if (mode == 2) {
		pages = WAL_PAGES_LOW;
		limit = WAL_LIMIT_LOW;
	} else {
		/* A small max_bytes, which the WAL counts in, gets a WAL of its size. */
		if (pages * s->page_size > s->cfg.max_bytes / 8)
			pages = s->cfg.max_bytes / 8 / s->page_size;
		if (pages < WAL_PAGES_LOW)
			pages = WAL_PAGES_LOW;
		if (limit > s->cfg.max_bytes / 4)
			limit = s->cfg.max_bytes / 4;
	}
	snprintf(sql, sizeof(sql), "PRAGMA wal_autocheckpoint = %llu; PRAGMA journal_size_limit = %llu",
		 (unsigned long long) pages, (unsigned long long) limit);
	if (exec(s, sql) == 0) {
		s->wal_mode = mode;
		s->wal_limit = limit;
	}
}

static int store_commit(struct fg_store *s, bool force)
{
	uint64_t evicted_before = s->stats.evicted - s->stats.evicted_age;
	int64_t oldest = 0;
	bool acks_due;
	int r;

	/* The age sweep runs once a minute; an idle buffer is not written (SD-card wear). */
	uint64_t now = fg_clock_mono_usec();

	if (s->in_txn)
		return -EBUSY;

	s->age_due = s->cfg.max_age_s && (s->stats.outbox_rows || s->nstaged) &&
		     now - s->age_checked_usec >= 60 * FG_USEC_PER_SEC;
	if (s->age_due)
		s->age_checked_usec = now;
	acks_due = s->nacks && (force || s->nacks >= ACK_BATCH ||
				now - s->first_ack_usec >= ACK_FLUSH_USEC);
	if (!s->nstaged && !acks_due && !s->nstates && !s->want_commit &&
	    (!s->stats.readings_rows || !s->transform) && !s->age_due) {
		sync_if_due(s, now, force);
		return 0;
	}
	s->cause = FG_EVICT_NONE;
	watch_space(s);
	refuse_if_full(s);
	r = commit_once(s);
	if (r == -ENOSPC) {
		make_room(s);
		r = commit_once(s);
		if (r == -ENOSPC) {
			/*
			 * Still no room (the filesystem is full of something else, or
			 * the WAL cannot be checkpointed yet): these readings are lost
			 * to the disk, counted, rather than staged until the stage
			 * overflows; acks and state wait for the next commit.
			 */
			count_evicted(s, s->nstaged, FG_EVICT_DISK_FULL);
			free_staged(s);
			r = 0;
		}
	}
	if (r >= 0)
		track_episode(s, evicted_before);
	if (r >= 0 && query_st(s, ST_OLDEST, &oldest) >= 0)
		s->stats.oldest_ms = (uint64_t) oldest;
	/*
	 * A commit bigger than the WAL's share (of max_bytes, or of a low disk)
	 * left the log past it: checkpoint and cut it now rather than at the
	 * next checkpoint, so the WAL's room is given back.
	 */
	/*
	 * Low on space: checkpoint after every commit, so the WAL holds no page
	 * the main file still lacks. Should the disk then fill to the last byte
	 * (another program), the next transaction starts the WAL over in the
	 * room it already has and needs no new space to delete acked rows.
	 */
	if (r >= 0 && s->wal_mode == 2)
		(void) sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	s->stats.wal_bytes = file_size(s->wal_path);
	if (s->wal_limit && s->stats.wal_bytes > s->wal_limit &&
	    sqlite3_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) == SQLITE_OK)
		s->stats.wal_bytes = file_size(s->wal_path);
	sync_if_due(s, fg_clock_mono_usec(), force);
	return r;
}

int fg_store_commit(struct fg_store *s)
{
	return store_commit(s, false);
}

int fg_store_flush(struct fg_store *s)
{
	return store_commit(s, true);
}

/* Acked but not yet deleted: the broker has it already. */
static bool ack_pending(const struct fg_store *s, uint64_t seq)
{
	if (s->nacks == 0)
		return false;
	if (s->acks_sorted) {
		size_t lo = 0, hi = s->nacks;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (s->acks[mid] < seq)
				lo = mid + 1;
			else
				hi = mid;
		}
		return lo < s->nacks && s->acks[lo] == seq;
	}
	for (size_t i = 0; i < s->nacks; i++)
		if (s->acks[i] == seq)
			return true;
	return false;
}

static bool tail_skip(const void *ctx, uint64_t seq)
{
	return ack_pending(ctx, seq);
}

int fg_store_peek(struct fg_store *s, uint64_t after_seq, size_t max, fg_outbox_fn fn,
		  void *userdata)
{
	sqlite3_stmt *st;
	int n = 0, rc;

	/* Outside a transaction the tail holds what the table holds, from tail.from on. */
	if (!s->in_commit && !s->in_txn) {
		n = fg_tail_peek(&s->tail, after_seq, max, tail_skip, s, fn, userdata);
		if (n >= 0)
			return n;
		n = 0;
	}
	st = stmt(s, ST_PEEK);

	sqlite3_bind_int64(st, 1, (sqlite3_int64) after_seq);
	sqlite3_bind_int64(st, 2, (sqlite3_int64) max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct fg_outbox_msg m = {
			.seq = (uint64_t) sqlite3_column_int64(st, 0),
			.topic = (const char *) sqlite3_column_text(st, 1),
			.payload = sqlite3_column_blob(st, 2),
			.payload_len = (size_t) sqlite3_column_bytes(st, 2),
			.qos = sqlite3_column_int(st, 3),
			.retain = sqlite3_column_int(st, 4) != 0,
			.created_ms = (uint64_t) sqlite3_column_int64(st, 5),
			.created_mono_usec = (uint64_t) sqlite3_column_int64(st, 6),
			.correlation = sqlite3_column_blob(st, 8),
			.correlation_len = (size_t) sqlite3_column_bytes(st, 8),
		};
		/* Another boot's monotonic clock means nothing in this one. */
		if (!s->boot || sqlite3_column_int64(st, 7) != s->boot)
			m.created_mono_usec = 0;
		if (ack_pending(s, m.seq))
			continue;
		if (fn(&m, userdata) < 0)
			break;
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sql_err(s, rc);
	return n;
}

#define STAMP_BATCH 256

struct unstamped {
	uint64_t seq;
	uint64_t mono_usec;
	void *payload;
	size_t len;
};

int fg_store_stamp_times(struct fg_store *s, uint64_t now_wall_ms, uint64_t now_mono_usec,
			 fg_store_stamp_fn fn, void *userdata)
{
	struct unstamped *u;
	size_t n = 0;
	sqlite3_stmt *st;
	int rc, r = 0;

	if (!s->unstamped_from)
		return 0;
	u = calloc(STAMP_BATCH, sizeof(*u));
	if (!u)
		return -ENOMEM;
	/* Copied out first: the rows are rewritten below, not while the query walks them. */
	st = stmt(s, ST_UNSTAMPED);
	sqlite3_bind_int64(st, 1, s->boot);
	sqlite3_bind_int64(st, 2, (sqlite3_int64) s->unstamped_from);
	sqlite3_bind_int(st, 3, STAMP_BATCH);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const void *p = sqlite3_column_blob(st, 1);
		size_t len = (size_t) sqlite3_column_bytes(st, 1);

		u[n].seq = (uint64_t) sqlite3_column_int64(st, 0);
		u[n].mono_usec = (uint64_t) sqlite3_column_int64(st, 2);
		u[n].len = len;
		u[n].payload = malloc(len + 1);
		if (!u[n].payload) {
			r = -ENOMEM;
			break;
		}
		memcpy(u[n].payload, p ? p : "", len);
		n++;
	}
	sqlite3_reset(st);
	if (r == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = sql_err(s, rc);
	if (r == 0 && n > 0)
		r = txn_begin(s);
	for (size_t i = 0; r == 0 && i < n; i++) {
		uint64_t age_ms = u[i].mono_usec <= now_mono_usec ?
					  (now_mono_usec - u[i].mono_usec) / FG_USEC_PER_MSEC : 0;
		uint64_t t = now_wall_ms > age_ms ? now_wall_ms - age_ms : 1;
		char *out = NULL;
		size_t out_len = 0;

		/* A payload the callback cannot rewrite keeps its bytes; the row gets its time. */
		if (fn(u[i].payload, u[i].len, t, &out, &out_len, userdata) < 0 || !out) {
			free(out);
			out = NULL;
		}
		st = stmt(s, ST_STAMP);
		sqlite3_bind_blob(st, 1, out ? out : u[i].payload, (int) (out ? out_len : u[i].len),
				  SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64) (out ? out_len : u[i].len));
		sqlite3_bind_int64(st, 3, (sqlite3_int64) t);
		sqlite3_bind_int64(st, 4, (sqlite3_int64) u[i].seq);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		free(out);
		if (rc != SQLITE_DONE)
			r = sql_err(s, rc);
	}
	if (r == 0 && n > 0)
		r = txn_commit(s);
	if (r < 0 && n > 0)
		txn_rollback(s);
	if (r == 0) {
		int64_t oldest = 0;

		/* A short batch was the last: what is left has its time. */
		s->unstamped_from = n == STAMP_BATCH ? u[n - 1].seq + 1 : 0;
		s->stats.stamped += n;
		if (n && query_st(s, ST_OLDEST, &oldest) >= 0)
			s->stats.oldest_ms = (uint64_t) oldest;
	}
	for (size_t i = 0; i < n; i++)
		free(u[i].payload);
	free(u);
	return r < 0 ? r : (int) n;
}

int fg_store_ack(struct fg_store *s, uint64_t seq)
{
	if (s->nacks == ACKS_MAX) {
		int r = fg_store_flush(s);

		if (r < 0)
			return r;
	}
	if (s->nacks == 0)
		s->first_ack_usec = fg_clock_mono_usec();
	else if (seq < s->acks[s->nacks - 1])
		s->acks_sorted = false;
	s->acks[s->nacks++] = seq;
	return 0;
}

void fg_store_get_stats(const struct fg_store *s, struct fg_store_stats *ret)
{
	struct fg_store *m = (struct fg_store *) s;

	*ret = s->stats;
	ret->db_bytes = m->db ? used_bytes(m) : 0;
	ret->committed_seq = s->next_seq - 1;
}

bool fg_store_evicting(const struct fg_store *s)
{
	return s->evicting;
}

void fg_store_get_episode(const struct fg_store *s, struct fg_store_episode *ret)
{
	*ret = s->episode;
}

bool fg_store_disk_low(const struct fg_store *s, uint64_t *ret_mark)
{
	if (ret_mark)
		*ret_mark = 2 * free_floor(s);
	return s->disk_low;
}

const char *fg_store_evict_cause_to_string(enum fg_store_evict_cause c)
{
	switch (c) {
	case FG_EVICT_MAX_ROWS:
		return "max_rows";
	case FG_EVICT_MAX_BYTES:
		return "max_bytes";
	case FG_EVICT_MIN_FREE:
		return "min_free";
	case FG_EVICT_DISK_FULL:
		return "disk full";
	case FG_EVICT_NONE:
		break;
	}
	return "none";
}

void fg_store_set_free_space_fn(struct fg_store *s, fg_store_free_space_fn fn, void *userdata)
{
	s->free_space = fn;
	s->free_space_userdata = userdata;
}

const char *fg_store_last_error(const struct fg_store *s)
{
	return s->last_error;
}

int fg_store_device_state_get(struct fg_store *s, const char *device, const char *key,
			      int64_t *ret_value)
{
	sqlite3_stmt *st;
	int rc;

	/* Read your own writes: the newest pending value wins. */
	for (size_t i = s->nstates; i > 0; i--)
		if (!strcmp(s->states[i - 1].device, device) &&
		    !strcmp(s->states[i - 1].key, key)) {
			*ret_value = s->states[i - 1].value;
			return 0;
		}
	st = stmt(s, ST_GET_STATE);
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret_value = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	return rc == SQLITE_ROW ? 0 : sql_err(s, rc);
}

int fg_store_device_state_set(struct fg_store *s, const char *device, const char *key,
			      int64_t value)
{
	struct pending_state *p;

	if (strlen(device) >= sizeof(p->device) || strlen(key) >= sizeof(p->key))
		return -ENAMETOOLONG;
	if (s->nstates == STATES_MAX) {
		int r = fg_store_commit(s);

		if (r < 0)
			return r;
	}
	p = &s->states[s->nstates++];
	snprintf(p->device, sizeof(p->device), "%s", device);
	snprintf(p->key, sizeof(p->key), "%s", key);
	p->value = value;
	return 0;
}

/* Open a buffer read-only for inspection; never creates one. */
static int open_readonly(const char *path, struct fg_store *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->cfg.path = (char *)path;
	if (access(path, F_OK) < 0)
		return -errno;
	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		int r = sql_err(s, rc);

		sqlite3_close(s->db);
		return r;
	}
	return 0;
}

int fg_store_read_summary(const char *path, struct fg_store_summary *ret)
{
	struct fg_store s;
	int64_t v[5] = { 0 };
	int r;

	r = open_readonly(path, &s);
	if (r < 0)
		return r;
	r = query_int(&s, "SELECT COUNT(*) FROM outbox", &v[0]);
	if (r >= 0)
		r = query_int(&s, "SELECT COUNT(*) FROM readings", &v[1]);
	if (r >= 0)
		r = query_int(&s, "SELECT MAX((SELECT value FROM meta WHERE key = 'next_seq'), "
				  "(SELECT IFNULL(MAX(seq), 0) + 1 FROM outbox))", &v[2]);
	if (r >= 0)
		r = query_int(&s, "SELECT created_ms FROM outbox ORDER BY seq LIMIT 1", &v[3]);
	if (r >= 0)
		r = query_int(&s, "SELECT (SELECT page_count FROM pragma_page_count()) * "
				  "(SELECT page_size FROM pragma_page_size())", &v[4]);
	sqlite3_close(s.db);
	if (r < 0)
		return r;
	*ret = (struct fg_store_summary){ .outbox_rows = (uint64_t)v[0],
					  .readings_rows = (uint64_t)v[1],
					  .next_seq = (uint64_t)v[2],
					  .oldest_ms = (uint64_t)v[3],
					  .db_bytes = (uint64_t)v[4] };
	return 0;
}

int fg_store_read_topics(const char *path, fg_store_topic_fn fn, void *userdata)
{
	struct fg_store s;
	sqlite3_stmt *st;
	int r, rc, n = 0;

	r = open_readonly(path, &s);
	if (r < 0)
		return r;
	rc = sqlite3_prepare_v2(s.db, "SELECT topic, COUNT(*), MIN(seq), MAX(seq) FROM outbox "
				      "GROUP BY topic ORDER BY topic", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		r = sql_err(&s, rc);
		sqlite3_close(s.db);
		return r;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (fn((const char *)sqlite3_column_text(st, 0), (uint64_t)sqlite3_column_int64(st, 1),
		       (uint64_t)sqlite3_column_int64(st, 2), (uint64_t)sqlite3_column_int64(st, 3),
		       userdata) < 0)
			break;
		n++;
	}
	r = rc == SQLITE_ROW || rc == SQLITE_DONE ? n : sql_err(&s, rc);
	sqlite3_finalize(st);
	sqlite3_close(s.db);
	return r;
}

int fg_store_read_device_state(const char *path, fg_store_device_state_fn fn, void *userdata)
{
	struct fg_store s;
	sqlite3_stmt *st;
	int r, rc, n = 0;

	r = open_readonly(path, &s);
	if (r < 0)
		return r;
	rc = sqlite3_prepare_v2(s.db, "SELECT device, key, value FROM device_state ORDER BY device, key",
				-1, &st, NULL);
	if (rc != SQLITE_OK) {
		r = sql_err(&s, rc);
		sqlite3_close(s.db);
		return r;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (fn((const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
		       sqlite3_column_int64(st, 2), userdata) < 0)
			break;
		n++;
	}
	r = rc == SQLITE_ROW || rc == SQLITE_DONE ? n : sql_err(&s, rc);
	sqlite3_finalize(st);
	sqlite3_close(s.db);
	return r;
}

/* ---------------------------------------------------------------- own transactions */

int fg_store_begin(struct fg_store *s)
{
	int r;

	if (s->in_commit || s->in_txn)
		return -EBUSY;
	r = txn_begin(s);
	if (r < 0)
		return r;
	s->in_txn = true;
	s->txn_seq = s->next_seq;
	s->txn_reserved = s->reserved;
	s->txn_stats = s->stats;
	return 0;
}

int fg_store_end(struct fg_store *s, bool commit)
{
	int64_t oldest = 0;
	bool sync_now;
	int r = 0;

	if (!s->in_txn)
		return -EINVAL;
	s->in_txn = false;
	if (commit)
		r = reserve_seqs(s, s->txn_seq, &sync_now);
	if (commit && r >= 0)
		r = txn_commit(s);
	if (!commit || r < 0) {
		txn_rollback(s);
		s->next_seq = s->txn_seq;
		s->stats = s->txn_stats;
		s->reserved = s->txn_reserved;
		return r;
	}
	/* Its caller promises what it wrote to someone (a command's PUBACK): on the card first. */
	r = sync_wal(s);
	if (r < 0)
		return r;
	/*
	 * The sequence counter needs no write: the messages emitted are in the
	 * outbox, and open takes the newest seq there (see commit_once).
	 */
	if (s->next_seq != s->txn_seq && query_st(s, ST_OLDEST, &oldest) >= 0)
		s->stats.oldest_ms = (uint64_t) oldest;
	return 0;
}

/* ---------------------------------------------------------------- command rows */

static int bind_body(sqlite3_stmt *st, int col, const struct fg_store_cmd *c)
{
	if (c->state == FG_STORE_CMD_FINISHED || !c->body)
		return sqlite3_bind_null(st, col);
	return sqlite3_bind_blob(st, col, c->body, (int) c->body_len, SQLITE_STATIC);
}

int fg_store_cmd_insert(struct fg_store *s, const struct fg_store_cmd *c)
{
	sqlite3_stmt *st;
	int rc;

	if (!c->id || c->body_len > INT32_MAX)
		return -EINVAL;
	st = stmt(s, ST_CMD_INSERT);
	sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->device ? c->device : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, c->kind);
	sqlite3_bind_int(st, 4, (int) c->state);
	sqlite3_bind_int(st, 5, c->priority);
	sqlite3_bind_int64(st, 6, (sqlite3_int64) c->expires_ms);
	sqlite3_bind_int64(st, 7, (sqlite3_int64) c->accepted_ms);
	sqlite3_bind_int64(st, 8, (sqlite3_int64) c->finished_ms);
	bind_body(st, 9, c);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT || (rc & 0xff) == SQLITE_CONSTRAINT) {
		s->sql_errors++;
		snprintf(s->last_error, sizeof(s->last_error), "%s", sqlite3_errmsg(s->db));
		return -EEXIST;
	}
	return rc == SQLITE_DONE ? written_alone(s) : sql_err(s, rc);
}

int fg_store_cmd_update(struct fg_store *s, const struct fg_store_cmd *c)
{
	sqlite3_stmt *st;
	int rc;

	if (!c->id || c->body_len > INT32_MAX)
		return -EINVAL;
	st = stmt(s, ST_CMD_UPDATE);
	sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int) c->state);
	sqlite3_bind_int64(st, 3, (sqlite3_int64) c->finished_ms);
	bind_body(st, 4, c);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sql_err(s, rc);
	return sqlite3_changes(s->db) > 0 ? written_alone(s) : -ENOENT;
}

int fg_store_cmd_state(struct fg_store *s, const char *id)
{
	sqlite3_stmt *st = stmt(s, ST_CMD_STATE);
	int rc, r;

	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	r = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : rc == SQLITE_DONE ? -ENOENT : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? r : sql_err(s, rc);
}

int fg_store_cmd_count(struct fg_store *s, const char *device)
{
	sqlite3_stmt *st = stmt(s, device ? ST_CMD_COUNT_DEVICE : ST_CMD_COUNT);
	int rc, n = 0;

	if (device)
		sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? n : sql_err(s, rc);
}

int fg_store_cmd_forget(struct fg_store *s, uint64_t before, size_t max)
{
	sqlite3_stmt *st = stmt(s, ST_CMD_FORGET);
	int rc;

	sqlite3_bind_int64(st, 1, (sqlite3_int64) before);
	sqlite3_bind_int64(st, 2, (sqlite3_int64) (max ? max : INT32_MAX));
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? sqlite3_changes(s->db) : sql_err(s, rc);
}

#define CMD_COLUMNS \
	"SELECT id, device, kind, state, priority, expires_ms, accepted_ms, finished_ms, ord, " \
	"body FROM command "

/* Walk the rows of a prepared command query through fn; finalizes st. */
static int cmd_walk(struct fg_store *s, sqlite3_stmt *st, fg_store_cmd_fn fn, void *userdata)
{
	int r = 0, rc, n = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *id = sqlite3_column_text(st, 0);
		const unsigned char *device = sqlite3_column_text(st, 1);
		struct fg_store_cmd c = {
			.id = id ? (const char *) id : "",
			.device = device ? (const char *) device : "",
			.kind = sqlite3_column_int(st, 2),
			.state = (enum fg_store_cmd_state) sqlite3_column_int(st, 3),
			.priority = sqlite3_column_int(st, 4),
			.expires_ms = (uint64_t) sqlite3_column_int64(st, 5),
			.accepted_ms = (uint64_t) sqlite3_column_int64(st, 6),
			.finished_ms = (uint64_t) sqlite3_column_int64(st, 7),
			.order = (uint64_t) sqlite3_column_int64(st, 8),
			.body = sqlite3_column_blob(st, 9),
			.body_len = (size_t) sqlite3_column_bytes(st, 9),
		};

		n++;
		r = fn(&c, userdata);
		if (r < 0)
			break;
	}
	if (r >= 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = sql_err(s, rc);
	sqlite3_finalize(st);
	return r < 0 ? r : n;
}

int fg_store_cmd_get(struct fg_store *s, const char *id, fg_store_cmd_fn fn, void *userdata)
{
	sqlite3_stmt *st;
	int rc, r;

	rc = sqlite3_prepare_v2(s->db, CMD_COLUMNS "WHERE id = ?", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sql_err(s, rc);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	r = cmd_walk(s, st, fn, userdata);
	return r < 0 ? r : r == 0 ? -ENOENT : 0;
}

/*
 * The query of fg_store_cmd_each, worded so that SQLite can use the partial
 * indexes: their WHERE must follow from the query's, with literals.
 */
static int cmd_each(struct fg_store *s, const char *device, int state, uint64_t expires_by,
		    size_t max, fg_store_cmd_fn fn, void *userdata)
{
	char sql[400], cond[64] = "";
	sqlite3_stmt *st;
	int rc;

	if (state >= 0)
		snprintf(cond, sizeof(cond), " AND state = %d", state);
	if (expires_by && state == FG_STORE_CMD_PENDING && !device)
		/* Expiry across devices: the expiry index, soonest first. */
		snprintf(sql, sizeof(sql),
			 CMD_COLUMNS "WHERE state = 0 AND expires_ms > 0 AND expires_ms <= ?2 "
				     "ORDER BY expires_ms, ord LIMIT ?3");
	else
		snprintf(sql, sizeof(sql),
			 CMD_COLUMNS "WHERE %s state < 2%s%s "
				     "ORDER BY device, state DESC, priority DESC, ord LIMIT ?3",
			 device ? "device = ?1 AND" : "", cond,
			 expires_by ? " AND expires_ms > 0 AND expires_ms <= ?2" : "");
	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sql_err(s, rc);
	if (device)
		sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	if (expires_by)
		sqlite3_bind_int64(st, 2, (sqlite3_int64) expires_by);
	sqlite3_bind_int64(st, 3, max ? (sqlite3_int64) max : -1);
	return cmd_walk(s, st, fn, userdata);
}

int fg_store_cmd_each(struct fg_store *s, const char *device, int state, uint64_t expires_by,
		      size_t max, fg_store_cmd_fn fn, void *userdata)
{
	return cmd_each(s, device, state, expires_by, max, fn, userdata);
}

int fg_store_read_cmds(const char *path, const char *device, fg_store_cmd_fn fn, void *userdata)
{
	struct fg_store s;
	int64_t tables = 0;
	int r;

	r = open_readonly(path, &s);
	if (r < 0)
		return r;
	r = query_int(&s, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND "
			  "name = 'command'", &tables);
	if (r >= 0 && tables)
		r = cmd_each(&s, device, -1, 0, 0, fn, userdata);
	sqlite3_close(s.db);
	return r;
}
