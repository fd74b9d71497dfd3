/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A power cut for SQLite, in the process: a VFS over the default one that
 * remembers, for the main database and WAL files, what each held when it was
 * last synced. cutvfs_cut() puts those contents back (a file never synced
 * becomes empty) and removes the -shm file: the disk after a cut that kept
 * only what was synced. The caller then leaves without closing SQLite
 * (_exit in a child process), as the power would.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cutvfs.h"

#define FILES_MAX 8

struct image {
	char name[512];
	unsigned char *data; /* NULL: never synced */
	size_t len;
	unsigned long syncs;
};

struct cut_file {
	sqlite3_file base;
	struct image *img; /* NULL: not a file the cut is about */
	sqlite3_file *real;
};

static sqlite3_vfs vfs;
static sqlite3_vfs *real_vfs;
static struct image images[FILES_MAX];

static struct image *image_for(const char *name)
{
	for (int i = 0; i < FILES_MAX; i++)
		if (images[i].name[0] && strcmp(images[i].name, name) == 0)
			return &images[i];
	for (int i = 0; i < FILES_MAX; i++)
		if (!images[i].name[0]) {
			snprintf(images[i].name, sizeof(images[i].name), "%s", name);
			return &images[i];
		}
	return NULL;
}

/* The file's bytes now, as the sync just made them durable. */
static void remember(struct image *img)
{
	struct stat st;
	int fd = open(img->name, O_RDONLY | O_CLOEXEC);
	unsigned char *data = NULL;
	size_t got = 0;

	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && (data = malloc((size_t) st.st_size + 1))) {
		while (got < (size_t) st.st_size) {
			ssize_t n = pread(fd, data + got, (size_t) st.st_size - got, (off_t) got);

			if (n <= 0)
				break;
			got += (size_t) n;
		}
		free(img->data);
		img->data = data;
		img->len = got;
		img->syncs++;
	}
	close(fd);
}

#define REAL(f) (((struct cut_file *) (f))->real)

static int x_close(sqlite3_file *f)
{
	return REAL(f)->pMethods->xClose(REAL(f));
}
static int x_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	return REAL(f)->pMethods->xRead(REAL(f), buf, n, off);
}
static int x_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	return REAL(f)->pMethods->xWrite(REAL(f), buf, n, off);
}
static int x_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	return REAL(f)->pMethods->xTruncate(REAL(f), size);
}
static int x_sync(sqlite3_file *f, int flags)
{
	int rc = REAL(f)->pMethods->xSync(REAL(f), flags);

	if (rc == SQLITE_OK && ((struct cut_file *) f)->img)
		remember(((struct cut_file *) f)->img);
	return rc;
}
static int x_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), size);
}
static int x_lock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xLock(REAL(f), l);
}
static int x_unlock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), l);
}
static int x_check_lock(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}
static int x_fcntl(sqlite3_file *f, int op, void *arg)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}
static int x_sector(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int x_devchar(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int x_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, pgsz, extend, pp);
}
static int x_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}
static void x_shm_barrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int x_shm_unmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}
/* No memory-mapped reads: every read goes through x_read. */
static int x_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
	(void) f;
	(void) off;
	(void) n;
	*pp = NULL;
	return SQLITE_OK;
}
static int x_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	(void) f;
	(void) off;
	(void) p;
	return SQLITE_OK;
}

static const sqlite3_io_methods methods = {
	.iVersion = 3,
	.xClose = x_close,
	.xRead = x_read,
	.xWrite = x_write,
	.xTruncate = x_truncate,
	.xSync = x_sync,
	.xFileSize = x_size,
	.xLock = x_lock,
	.xUnlock = x_unlock,
	.xCheckReservedLock = x_check_lock,
	.xFileControl = x_fcntl,
	.xSectorSize = x_sector,
	.xDeviceCharacteristics = x_devchar,
	.xShmMap = x_shm_map,
	.xShmLock = x_shm_lock,
	.xShmBarrier = x_shm_barrier,
	.xShmUnmap = x_shm_unmap,
	.xFetch = x_fetch,
	.xUnfetch = x_unfetch,
};

static int x_open(sqlite3_vfs *v, sqlite3_filename name, sqlite3_file *f, int flags, int *out)
{
	struct cut_file *cf = (struct cut_file *) f;
	int rc;

	(void) v;
	cf->real = (sqlite3_file *) (cf + 1);
	cf->img = NULL;
	rc = real_vfs->xOpen(real_vfs, name, cf->real, flags, out);
	cf->base.pMethods = cf->real->pMethods ? &methods : NULL;
	if (rc == SQLITE_OK && name && (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL)))
		cf->img = image_for(name);
	return rc;
}

static int x_delete(sqlite3_vfs *v, const char *name, int sync_dir)
{
	struct image *img;

	(void) v;
	/* A deleted file stays deleted (the directory sync SQLite asks for is not modelled). */
	for (int i = 0; i < FILES_MAX; i++) {
		img = &images[i];
		if (img->name[0] && strcmp(img->name, name) == 0) {
			free(img->data);
			memset(img, 0, sizeof(*img));
		}
	}
	return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int x_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
	(void) v;
	return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int x_fullpath(sqlite3_vfs *v, const char *name, int n, char *out)
{
	(void) v;
	return real_vfs->xFullPathname(real_vfs, name, n, out);
}

int cutvfs_install(void)
{
	if (real_vfs)
		return SQLITE_OK;
	real_vfs = sqlite3_vfs_find(NULL);
	if (!real_vfs)
		return SQLITE_ERROR;
	vfs = *real_vfs;
	vfs.iVersion = 1; /* the system calls, time and sleep stay the real VFS's */
	vfs.szOsFile = (int) sizeof(struct cut_file) + real_vfs->szOsFile;
	vfs.zName = "cutvfs";
	vfs.pNext = NULL;
	vfs.xOpen = x_open;
	vfs.xDelete = x_delete;
	vfs.xAccess = x_access;
	vfs.xFullPathname = x_fullpath;
	return sqlite3_vfs_register(&vfs, 1);
}

unsigned long cutvfs_syncs(const char *name)
{
	for (int i = 0; i < FILES_MAX; i++)
		if (images[i].name[0] && strcmp(images[i].name, name) == 0)
			return images[i].syncs;
	return 0;
}

int cutvfs_cut(const char *db_path)
{
	char shm[600];

	for (int i = 0; i < FILES_MAX; i++) {
		struct image *img = &images[i];
		int fd;

		if (!img->name[0])
			continue;
		fd = open(img->name, O_WRONLY | O_TRUNC | O_CLOEXEC);
		if (fd < 0)
			return -1;
		for (size_t done = 0; done < img->len;) {
			ssize_t n = pwrite(fd, img->data + done, img->len - done, (off_t) done);

			if (n <= 0) {
				close(fd);
				return -1;
			}
			done += (size_t) n;
		}
		close(fd);
	}
	snprintf(shm, sizeof(shm), "%s-shm", db_path);
	(void) unlink(shm);
	return 0;
}
