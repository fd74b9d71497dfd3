/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FG_TESTS_CUTVFS_H
#define FG_TESTS_CUTVFS_H

#include <sqlite3.h>

/*
 * A power cut for SQLite in the test process (cutvfs.c): install makes the
 * VFS the default; syncs counts the syncs of a file (its full path); cut
 * puts back what the main database and WAL files held at their last sync
 * and removes PATH-shm. Returns 0 (SQLITE_OK) or nonzero.
 */
int cutvfs_install(void);
unsigned long cutvfs_syncs(const char *name);
int cutvfs_cut(const char *db_path);

#endif
