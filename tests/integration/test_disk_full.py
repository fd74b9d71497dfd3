#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The buffer on a small, real filesystem: a tmpfs mounted for the test holds
the state directory while the broker is down, until the disk is full. The
real fieldgated must keep running, evict by policy (counted, one log line per
episode), and recover by itself once the broker returns, also after a restart
on the full disk. Mounting needs root (CI runs as root); elsewhere the tests
skip and say why."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker import Broker, Subscriber, senml_seq  # noqa: E402
from fgtest import FIELDGATECTL, Daemon, NotifySocket, run, sim_config, tempdir  # noqa: E402

START = "buffer full ("
END = ") ended: "


def mount_tmpfs(path, size, ro=False):
    """Mount a tmpfs of SIZE at PATH; None on success, else the reason it cannot be done."""
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    opts = f"size={size},mode=0755" + (",ro" if ro else "")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "fieldgate-test", path],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        return f"mount -t tmpfs is not permitted here: {r.stderr.strip()}"
    return None


def umount(path):
    subprocess.run(["umount", "-l", path], capture_output=True, timeout=30)


def avail(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


class DiskFullTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempdir()
        self.dir = self.tmp.name
        self.state = os.path.join(self.dir, "state")
        os.mkdir(self.state)
        self.mounted = False
        self.conf = os.path.join(self.dir, "fieldgate.conf")
        self.notify = NotifySocket(self.dir)
        self.daemon = None
        self.broker = None
        self.sub = None

    def tearDown(self):
        if self.daemon:
            self.daemon.kill()
        if self.sub:
            self.sub.stop()
        if self.broker:
            self.broker.stop()
        self.notify.close()
        if self.mounted:
            umount(self.state)
        self.tmp.cleanup()

    def mount(self, size, ro=False):
        why = mount_tmpfs(self.state, size, ro)
        if why:
            self.skipTest(why)
        self.mounted = True

    def write_conf(self, buffer, devices=20, interval_ms=20):
        # The control socket stays off the small filesystem: only the buffer lives there.
        conf = sim_config(self.state, devices=devices, interval_ms=interval_ms).replace(
            f'runtime_dir = "{self.state}"', f'runtime_dir = "{self.dir}"')
        conf += f"""
mqtt = {{ host = "127.0.0.1"; port = {self.broker.port}; stats_interval = 0; }};
buffer = {{ commit_interval_ms = 50; max_rows = 100000000; max_bytes = "1T"; {buffer} }};
"""
        with open(self.conf, "w") as f:
            f.write(conf)
        os.chmod(self.conf, 0o600)

    def start_daemon(self):
        self.daemon = Daemon(self.conf, notify=self.notify, dry_run=False)
        self.notify.wait_for("READY=1", 20)
        return self.daemon

    def status(self):
        out = run([FIELDGATECTL, "-c", self.conf, "status", "--json"]).stdout
        self.assertTrue(out.startswith("{"), f"the daemon did not answer: {out!r}; "
                        f"stderr: {self.daemon.stderr()}")
        return json.loads(out)

    def wait_status(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            self.assertIsNone(self.daemon.proc.poll(), f"the daemon died; {self.daemon.stderr()}")
            st = self.status()
            if pred(st):
                return st
            if time.monotonic() > deadline:
                self.fail(f"{what} not within {timeout}s: {st}; stderr: {self.daemon.stderr()}")
            self.daemon.pump(0.2)

    def lines(self, text):
        self.daemon.pump(0)
        out = [ln for ln in self.daemon.stderr().splitlines() if text in ln]
        if text == START:  # episode starts only, not their ends
            out = [ln for ln in out if END not in ln]
        return out

    def fill_until_evicting(self, cause_key):
        st = self.wait_status(lambda s: s.get(cause_key, 0) > 0, 120, "disk-full eviction")
        self.daemon.wait_stderr(START, 10)
        return st

    def recover(self, before_seq=0):
        """Start the broker; the backlog drains, acked rows go, new readings flow."""
        self.broker.start()
        self.sub = Subscriber(self.broker.port, client_id="itest-diskfull")
        self.assertTrue(self.sub.wait(lambda s: len(s.readings()) >= 100, 90), self.daemon.stderr())
        # The acked rows are deleted: the backlog drains to (about) what one commit brings.
        st = self.wait_status(lambda s: s["buffer_depth"] < 200, 90, "the backlog draining")
        self.assertGreater(st["published"], 0)
        self.daemon.wait_stderr(END, 30)
        # Readings made after the recovery arrive too: newer sequence numbers keep coming.
        top = max(senml_seq(p) for _, p in self.sub.readings())
        self.assertGreater(top, before_seq)
        self.assertTrue(self.sub.wait(
            lambda s: max(senml_seq(p) for _, p in s.readings()) >= top + 200, 60),
            self.daemon.stderr())
        return st

    def test_full_disk_evicts_once_per_episode_and_recovers_when_the_broker_returns(self):
        self.mount("6m")
        self.broker = Broker(self.dir)  # not started: the broker is down
        self.write_conf("min_free = 0;")
        d = self.start_daemon()
        st = self.fill_until_evicting("evicted_disk")
        # Full as far as the buffer goes: it keeps only the reserve its WAL needs
        # (1 MiB), give or take a commit.
        self.assertLess(avail(self.state), 2 * 1024 * 1024)
        self.assertLess(st["disk_free"], 2 * 1024 * 1024)
        # Keeps running on the full disk, evicting, and says so once, not once per commit.
        first = st["evicted_disk"]
        self.wait_status(lambda s: s["evicted_disk"] > first, 60, "evicting on")
        self.assertIsNone(d.proc.poll())
        self.assertEqual(len(self.lines(START)), 1, d.stderr())
        self.assertIn("buffer.min_free keeps 1048576", self.lines(START)[0])
        self.assertIn("evicting oldest messages", self.lines(START)[0])
        self.assertEqual(self.lines(END), [])
        self.assertEqual(st["evicted"], st["evicted_disk"] + st["evicted_rows"] +
                         st["evicted_bytes"] + st["evicted_age"])
        self.recover()
        end = self.lines(END)
        self.assertEqual(len(end), 1, d.stderr())
        self.assertRegex(end[0], r"ended: [1-9]\d* evicted")
        self.assertEqual(len(self.lines(START)), 1, d.stderr())
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(10), 0, d.stderr())

    def test_restart_on_a_full_disk_recovers(self):
        self.mount("6m")
        self.broker = Broker(self.dir)
        self.write_conf("min_free = 0;")
        d = self.start_daemon()
        self.fill_until_evicting("evicted_disk")
        # A power cut on the full disk (the WAL stays), and a start on it again.
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait()
        d.kill()
        self.daemon = None
        d = self.start_daemon()
        st = self.fill_until_evicting("evicted_disk")
        self.assertGreater(st["buffer_depth"], 1000)
        # Then something else takes the room left: the daemon stays up, and what
        # cannot be written is counted as evicted for the disk.
        filler = os.path.join(self.state, "filler")
        with open(filler, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 4096)
            except OSError:
                pass
        self.assertLess(avail(self.state), 4096 * 2)
        first = self.status()["evicted_disk"]
        self.wait_status(lambda s: s["evicted_disk"] > first + 1000, 60, "evicting on the full disk")
        self.assertIsNone(d.proc.poll())
        # The broker returns while the disk is still full to the last byte: the
        # acks, written alone in small transactions, need no new space; the rows
        # they delete take new readings. No restart, no room given back needed.
        self.assertLess(avail(self.state), 4096 * 2)
        self.recover()
        self.assertEqual(len(self.lines(START)), 1, d.stderr())
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(10), 0, d.stderr())

    def test_min_free_keeps_room_on_the_filesystem(self):
        self.mount("12m")
        self.broker = Broker(self.dir)
        self.write_conf('min_free = "6M";')
        d = self.start_daemon()
        st = self.fill_until_evicting("evicted_disk")
        self.assertIn("buffer.min_free", self.lines(START)[0])
        # The buffer stops growing near the bound and makes room by evicting, so the
        # filesystem keeps (nearly: one commit's worth) the free space asked for, and
        # the disk never runs full.
        first = st["evicted_disk"]
        st = self.wait_status(lambda s: s["evicted_disk"] > first + 1000, 60, "evicting on")
        self.assertGreater(avail(self.state), 5 * 1024 * 1024)
        self.assertGreater(st["disk_free"], 5 * 1024 * 1024)
        self.assertEqual(self.lines("commit failed"), [])
        self.assertEqual(len(self.lines(START)), 1, d.stderr())
        self.recover()
        self.assertEqual(len(self.lines(END)), 1, d.stderr())

    def test_buffer_files_are_private_whatever_the_umask(self):
        # The buffer holds OTAA session keys: -rw------- even under umask 022.
        self.broker = Broker(self.dir)
        self.write_conf("")
        old = os.umask(0o022)
        try:
            d = self.start_daemon()
        finally:
            os.umask(old)
        self.wait_status(lambda s: s["buffer_depth"] > 0, 30, "a buffered message")
        for name in ("buffer.db", "buffer.db-wal", "buffer.db-shm"):
            mode = os.stat(os.path.join(self.state, name)).st_mode & 0o777
            self.assertEqual(mode, 0o600, f"{name} is {oct(mode)}")
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(10), 0, d.stderr())

    def test_read_only_state_dir_is_named_as_such(self):
        self.mount("1m", ro=True)
        self.broker = Broker(self.dir)
        self.write_conf("")
        d = Daemon(self.conf, notify=self.notify, dry_run=False)
        self.daemon = d
        self.assertNotEqual(d.wait_exit(20), 0, d.stderr())
        self.assertIn(f"cannot open the buffer '{self.state}/buffer.db': Read-only file system",
                      d.stderr())
        self.assertNotIn("No such file or directory", d.stderr())


if __name__ == "__main__":
    unittest.main(verbosity=2)
