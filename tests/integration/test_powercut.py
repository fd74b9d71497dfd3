#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The two loss windows of the buffer, as the field has them.

A kill -9 keeps the kernel's page cache: every commit survives it, synced or
not (buffer.sync_interval_ms is made long here, so no sync can be what saves
them). A power cut keeps only what reached the disk: the buffer lives on a
FUSE filesystem that keeps only what was fsynced (syncfs.py), cut at random
moments while the sim source writes. After each cut the buffer must pass
PRAGMA integrity_check, hold every message up to the synced_seq the daemon
reported before the cut, and, started in a new boot, give new messages seqs
past everything the last boot may have published (a consumer keeping a
high-water mark would drop a reused seq)."""
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker import free_port  # noqa: E402
from fgtest import DaemonTestCase, sim_config  # noqa: E402
from seqorder import wait_status  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CUTS = 3
STEP_TIMEOUT = 30


def have_fuse():
    if not os.path.exists("/dev/fuse") or not os.access("/dev/fuse", os.R_OK | os.W_OK):
        return False
    try:
        import llfuse  # noqa: F401
    except ImportError:
        return False
    return os.geteuid() == 0


def config(state_dir, buffer_path, port, sync_interval_ms, sim=True):
    text = sim_config(state_dir, devices=8, interval_ms=40) + f"""
mqtt = {{ host = "127.0.0.1"; port = {port}; }};
buffer = {{
  path = "{buffer_path}";
  commit_interval_ms = 50;
  sync_interval_ms = {sync_interval_ms};
}};
"""
    return text if sim else text.replace("enabled = true;", "enabled = false;", 1)


def outbox_seqs(db_path):
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        check = db.execute("PRAGMA integrity_check").fetchone()[0]
        seqs = [r[0] for r in db.execute("SELECT seq FROM outbox ORDER BY seq")]
    finally:
        db.close()
    return check, seqs


class SyncFS:
    """syncfs.py mounted at MOUNT, the disk after its cut in IMAGE."""

    def __init__(self, mount, image, seed=None):
        self.mount, self.image = mount, image
        os.makedirs(mount, exist_ok=True)
        os.makedirs(image, exist_ok=True)
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "syncfs.py"), mount, image,
                                      *([seed] if seed else [])], stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while not os.path.ismount(mount):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"syncfs did not mount: {self.proc.stderr.read()!r}")
            time.sleep(0.05)

    def cut(self):
        try:
            with open(os.path.join(self.mount, ".cut"), "w") as f:
                f.write("now")
        except OSError:
            pass  # the power is off: the file's own close fails too
        deadline = time.monotonic() + 10
        while not os.path.exists(os.path.join(self.image, ".done")):
            if time.monotonic() > deadline:
                raise AssertionError("syncfs did not write its image")
            time.sleep(0.02)

    def stop(self):
        if os.path.ismount(self.mount):
            subprocess.run(["umount", "-l", self.mount], check=False)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stderr.close()


class LossWindowTest(DaemonTestCase):
    def set_boot(self, n):
        path = os.path.join(self.dir, "boot_id")
        with open(path, "w") as f:
            f.write("%08x%024x\n" % (0x5eed0000 + n, 0xb007))  # the key is the first 15 digits
        return {"FIELDGATE_BOOT_ID_FILE": path}

    def test_kill_9_keeps_every_commit_without_a_sync(self):
        buffer_path = os.path.join(self.dir, "buffer.db")
        port = free_port()  # no broker: the outbox keeps every message
        env = self.set_boot(0)
        self.write_conf(config(self.dir, buffer_path, port, 60000))
        self.start_daemon(env=env)
        st = wait_status(self.conf, lambda s: s["committed_seq"] >= 300, STEP_TIMEOUT)
        self.assertGreaterEqual(st["committed_seq"], 300, self.daemon.stderr()[-2000:])
        committed, synced = st["committed_seq"], st["synced_seq"]
        self.daemon.proc.send_signal(signal.SIGKILL)
        self.daemon.proc.wait(timeout=10)
        self.daemon.kill()
        # Only the first commit (the seq reservation) was synced: the rest lived in the page cache.
        self.assertLess(synced, committed)
        check, seqs = outbox_seqs(buffer_path)
        self.assertEqual(check, "ok")
        self.assertGreaterEqual(len(seqs), committed)
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)))
        # The same boot goes on where it was: no gap after a kill -9.
        self.start_daemon(env=env)
        st = wait_status(self.conf, lambda s: s["committed_seq"] > len(seqs), STEP_TIMEOUT)
        self.daemon.signal(signal.SIGTERM)
        self.assertEqual(self.daemon.wait_exit(15), 0, self.daemon.stderr()[-2000:])
        check, after = outbox_seqs(buffer_path)
        self.assertEqual(check, "ok")
        self.assertEqual(after, list(range(1, len(after) + 1)))
        self.assertGreater(len(after), len(seqs))

    @unittest.skipUnless(have_fuse(), "needs /dev/fuse, python3-llfuse and root")
    def test_power_cuts_keep_everything_synced_and_never_reuse_a_seq(self):
        rng = random.Random(int(os.environ.get("FG_POWERCUT_SEED", "0")) or None)
        port = free_port()
        mount = os.path.join(self.dir, "disk")
        buffer_path = os.path.join(mount, "buffer.db")
        seed = None
        kept = []          # seqs the last image holds
        published_max = 0  # the newest seq the last boot said it committed
        for n in range(CUTS):
            image = os.path.join(self.dir, f"image-{n}")
            fs = SyncFS(mount, image, seed)
            try:
                self.write_conf(config(self.dir, buffer_path, port, 500))
                self.start_daemon(env=self.set_boot(n))
                start = wait_status(self.conf, lambda s: s["committed_seq"] > published_max,
                                    STEP_TIMEOUT)
                self.assertIsNotNone(start, self.daemon.stderr()[-2000:])
                target = start["committed_seq"] + 200
                st = wait_status(self.conf, lambda s: s["committed_seq"] >= target
                                 and s["wal_syncs"] >= 2, STEP_TIMEOUT)
                self.assertGreaterEqual(st["committed_seq"], target, self.daemon.stderr()[-2000:])
                time.sleep(rng.uniform(0, 1.0))  # the cut comes when it comes
                last = wait_status(self.conf, lambda s: True, STEP_TIMEOUT)
                fs.cut()
                self.daemon.proc.send_signal(signal.SIGKILL)
                self.daemon.proc.wait(timeout=10)
                self.daemon.kill()
                self.daemon = None
            finally:
                fs.stop()
            check, seqs = outbox_seqs(os.path.join(image, "buffer.db"))
            self.assertEqual(check, "ok", f"cut {n}")
            new = seqs[len(kept):]
            # What the disk had before this boot is all there.
            self.assertEqual(seqs[:len(kept)], kept, f"cut {n}")
            # This boot's messages: one run of seqs, past everything the last boot published...
            self.assertTrue(new, f"cut {n}: nothing of this boot survived")
            self.assertGreater(new[0], published_max, f"cut {n}: a seq was given twice")
            self.assertEqual(new, list(range(new[0], new[0] + len(new))), f"cut {n}")
            # ...and every one up to what the daemon had reported synced.
            self.assertGreaterEqual(new[-1], last["synced_seq"], f"cut {n}: {last}")
            kept, published_max, seed = seqs, last["committed_seq"], image


if __name__ == "__main__":
    unittest.main()
