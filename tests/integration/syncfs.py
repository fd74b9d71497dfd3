#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A filesystem that keeps only what was fsynced: a power cut, for tests.

    syncfs.py MOUNTPOINT IMAGE_DIR [SEED_DIR]

Mounts a flat, in-memory directory at MOUNTPOINT (FUSE, python3-llfuse).
Writes go to memory; fsync (or fdatasync) of a file makes what it holds
durable. Writing anything to MOUNTPOINT/.cut is the power cut: from that
moment every operation fails with EIO, and IMAGE_DIR gets every file as it
was at its last sync (a file never synced is empty; names created or
removed count at once, as a journalled filesystem has them within seconds).
Then IMAGE_DIR/.done appears. The files in IMAGE_DIR are the disk after
the cut. The process leaves when MOUNTPOINT is unmounted. The files of
SEED_DIR, if given, are there from the start, durable (the disk as the
last cut left it: the next boot).

FUSE without writeback_cache sends every write(2) here as it happens (the
kernel's page cache keeps a copy for reads only), so the cut cannot be
softened by the kernel writing back a dirty page after it; only a mapped
file (SQLite's -shm, shared memory it rebuilds after a crash) is written
back later.
"""
import errno
import os
import stat
import sys
import threading
import time

import llfuse

CUT = b".cut"


class File:
    def __init__(self, inode, mode):
        self.inode = inode
        self.mode = mode
        self.data = bytearray()
        self.durable = b""
        self.syncs = 0
        self.mtime_ns = time.time_ns()


class SyncFS(llfuse.Operations):
    def __init__(self, image_dir, seed_dir=None):
        super().__init__()
        self.image_dir = image_dir
        self.names = {}          # name (bytes) -> File
        self.inodes = {}         # inode -> File
        self.next_inode = llfuse.ROOT_INODE + 1
        self.cut = False
        self.lock = threading.Lock()
        for name in sorted(os.listdir(seed_dir)) if seed_dir else ():
            if name.startswith("."):
                continue
            f = File(self.next_inode, stat.S_IFREG | 0o600)
            self.next_inode += 1
            with open(os.path.join(seed_dir, name), "rb") as src:
                f.data = bytearray(src.read())
            f.durable = bytes(f.data)
            self.names[os.fsencode(name)] = f
            self.inodes[f.inode] = f

    # -- helpers
    def _check(self):
        if self.cut:
            raise llfuse.FUSEError(errno.EIO)

    def _attr(self, f):
        a = llfuse.EntryAttributes()
        a.st_ino = f.inode
        a.generation = 0
        a.entry_timeout = 0
        a.attr_timeout = 0
        a.st_mode = f.mode
        a.st_nlink = 1
        a.st_uid = os.getuid()
        a.st_gid = os.getgid()
        a.st_rdev = 0
        a.st_size = len(f.data)
        a.st_blksize = 4096
        a.st_blocks = (len(f.data) + 511) // 512
        a.st_atime_ns = a.st_mtime_ns = a.st_ctime_ns = f.mtime_ns
        return a

    def _root_attr(self):
        a = llfuse.EntryAttributes()
        a.st_ino = llfuse.ROOT_INODE
        a.entry_timeout = 0
        a.attr_timeout = 0
        a.st_mode = stat.S_IFDIR | 0o755
        a.st_nlink = 2
        a.st_uid = os.getuid()
        a.st_gid = os.getgid()
        a.st_size = 0
        a.st_blksize = 4096
        a.st_atime_ns = a.st_mtime_ns = a.st_ctime_ns = time.time_ns()
        return a

    def _file(self, inode):
        f = self.inodes.get(inode)
        if f is None:
            raise llfuse.FUSEError(errno.ENOENT)
        return f

    def _power_cut(self):
        self.cut = True
        for name, f in self.names.items():
            with open(os.path.join(self.image_dir, os.fsdecode(name)), "wb") as out:
                out.write(f.durable)
        with open(os.path.join(self.image_dir, ".syncs"), "w") as out:
            for name, f in sorted(self.names.items()):
                out.write(f"{os.fsdecode(name)} {f.syncs}\n")
        open(os.path.join(self.image_dir, ".done"), "w").close()

    # -- operations
    def lookup(self, parent, name, ctx=None):
        with self.lock:
            self._check()
            if parent != llfuse.ROOT_INODE:
                raise llfuse.FUSEError(errno.ENOENT)
            if name == b".":
                return self._root_attr()
            if name == CUT:
                raise llfuse.FUSEError(errno.ENOENT)
            f = self.names.get(name)
            if f is None:
                raise llfuse.FUSEError(errno.ENOENT)
            return self._attr(f)

    def getattr(self, inode, ctx=None):
        with self.lock:
            if inode == llfuse.ROOT_INODE:
                return self._root_attr()
            self._check()
            return self._attr(self._file(inode))

    def setattr(self, inode, attr, fields, fh, ctx):
        with self.lock:
            self._check()
            f = self._file(inode)
            if fields.update_size:
                if attr.st_size < len(f.data):
                    del f.data[attr.st_size:]
                else:
                    f.data.extend(b"\0" * (attr.st_size - len(f.data)))
            if fields.update_mode:
                f.mode = stat.S_IFREG | (attr.st_mode & 0o7777)
            f.mtime_ns = time.time_ns()
            return self._attr(f)

    def opendir(self, inode, ctx):
        if inode != llfuse.ROOT_INODE:
            raise llfuse.FUSEError(errno.ENOTDIR)
        return inode

    def readdir(self, fh, off):
        with self.lock:
            self._check()
            entries = sorted(self.names.items())
        for i, (name, f) in enumerate(entries):
            if i < off:
                continue
            yield (name, self._attr(f), i + 1)

    def releasedir(self, fh):
        pass

    def fsyncdir(self, fh, datasync):
        with self.lock:
            self._check()

    def statfs(self, ctx):
        s = llfuse.StatvfsData()
        s.f_bsize = s.f_frsize = 4096
        s.f_blocks = 1 << 20
        s.f_bfree = s.f_bavail = 1 << 19
        s.f_files = 1 << 16
        s.f_ffree = s.f_favail = 1 << 15
        s.f_namemax = 255
        return s

    def access(self, inode, mode, ctx):
        return True

    def create(self, parent, name, mode, flags, ctx):
        with self.lock:
            if name == CUT:
                self._power_cut()
                f = File(0, stat.S_IFREG | 0o600)
                return (0, self._attr(f))
            self._check()
            f = self.names.get(name)
            if f is None:
                f = File(self.next_inode, stat.S_IFREG | (mode & 0o7777))
                self.next_inode += 1
                self.names[name] = f
                self.inodes[f.inode] = f
            return (f.inode, self._attr(f))

    def open(self, inode, flags, ctx):
        with self.lock:
            self._check()
            f = self._file(inode)
            if flags & os.O_TRUNC:
                del f.data[:]
            return inode

    def read(self, fh, off, size):
        with self.lock:
            self._check()
            return bytes(self._file(fh).data[off:off + size])

    def write(self, fh, off, buf):
        with self.lock:
            if fh == 0:
                return len(buf)  # the .cut file
            self._check()
            f = self._file(fh)
            if off > len(f.data):
                f.data.extend(b"\0" * (off - len(f.data)))
            f.data[off:off + len(buf)] = buf
            f.mtime_ns = time.time_ns()
            return len(buf)

    def fsync(self, fh, datasync):
        with self.lock:
            self._check()
            f = self._file(fh)
            f.durable = bytes(f.data)
            f.syncs += 1

    def flush(self, fh):
        pass

    def release(self, fh):
        pass

    def unlink(self, parent, name, ctx):
        with self.lock:
            self._check()
            f = self.names.pop(name, None)
            if f is None:
                raise llfuse.FUSEError(errno.ENOENT)
            self.inodes.pop(f.inode, None)

    def rename(self, old_parent, old_name, new_parent, new_name, flags, ctx):
        with self.lock:
            self._check()
            f = self.names.pop(old_name, None)
            if f is None:
                raise llfuse.FUSEError(errno.ENOENT)
            gone = self.names.pop(new_name, None)
            if gone is not None:
                self.inodes.pop(gone.inode, None)
            self.names[new_name] = f


def main():
    mountpoint, image_dir = sys.argv[1], sys.argv[2]
    fs = SyncFS(image_dir, sys.argv[3] if len(sys.argv) > 3 else None)
    options = set(llfuse.default_options)
    options.add("fsname=syncfs")
    options.discard("default_permissions")
    llfuse.init(fs, mountpoint, options)
    try:
        llfuse.main(workers=1)
    finally:
        llfuse.close()


if __name__ == "__main__":
    main()
