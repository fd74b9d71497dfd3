# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared helpers for the integration tests: paths, a notify socket, a daemon runner.

Tests run the real fieldgated binary; only hardware sits behind a seam.
"""
import json
import os
import selectors
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

SRCDIR = os.environ.get("FG_SRCDIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILDDIR = os.environ.get("FG_BUILDDIR", SRCDIR)
FIELDGATED = os.path.join(BUILDDIR, "src", "fieldgated")
FIELDGATECTL = os.path.join(BUILDDIR, "src", "fieldgatectl")


def sim_config(state_dir, devices=2, interval_ms=100, extra=""):
    """A minimal valid configuration with the sim source on."""
    return f"""
gateway = {{
  id = "itest";
  state_dir = "{state_dir}";
  runtime_dir = "{state_dir}";
  log_level = "info";
  trust_system_clock = true;
}};
sources = {{
  sim = {{
    enabled = true;
    devices = {devices};
    interval_ms = {interval_ms};
    seed = 1;
  }};
}};
{extra}
"""


class NotifySocket:
    """A datagram socket standing in for systemd's NOTIFY_SOCKET.

    A thread reads it all the time, as systemd does: the kernel queues only a
    few datagrams (net.unix.max_dgram_qlen, 10 by default) and a sender whose
    queue is full blocks, so a daemon left unread stalls in sd_notify after a
    minute of STATUS= updates.
    """

    def __init__(self, directory):
        self.path = os.path.join(directory, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.messages = []
        self.cond = threading.Condition()
        self.closing = False
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while not self.closing:
            try:
                data = self.sock.recv(4096).decode()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.cond:
                self.messages.append(data)
                self.cond.notify_all()

    def wait_for(self, key, timeout=10.0):
        """Wait for a datagram holding KEY (e.g. 'READY=1'), take it and return its text."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for m in self.messages:
                    if key in m.split("\n"):
                        self.messages.remove(m)
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            raise AssertionError(f"no {key} on the notify socket within {timeout}s; saw {self.messages}")

    def drain(self):
        """Every datagram not yet taken."""
        with self.cond:
            return list(self.messages)

    def close(self):
        self.closing = True
        self.reader.join(timeout=5)
        self.sock.close()


class Daemon:
    """fieldgated in --dry-run mode with pipes on stdout and stderr."""

    def __init__(self, config_path, notify=None, extra_args=(), env=None, dry_run=True, prefix=(),
                 binary=None):
        e = dict(os.environ)
        e.pop("JOURNAL_STREAM", None)
        e.pop("NOTIFY_SOCKET", None)
        e.pop("WATCHDOG_USEC", None)
        e.pop("WATCHDOG_PID", None)
        if notify:
            e["NOTIFY_SOCKET"] = notify.path
        if env:
            e.update(env)
        self.proc = subprocess.Popen(
            [*prefix, binary or FIELDGATED, *(["--dry-run"] if dry_run else []), "-c", config_path,
             *extra_args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e)
        os.set_blocking(self.proc.stdout.fileno(), False)
        os.set_blocking(self.proc.stderr.fileno(), False)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.proc.stdout, selectors.EVENT_READ, "out")
        self.sel.register(self.proc.stderr, selectors.EVENT_READ, "err")
        self.out = b""
        self.err = b""
        self.out_pos = 0

    def pump(self, timeout):
        for key, _ in self.sel.select(timeout):
            data = key.fileobj.read()
            if not data:
                self.sel.unregister(key.fileobj)
                continue
            if key.data == "out":
                self.out += data
            else:
                self.err += data

    def readings(self, count, timeout=10.0):
        """Wait for COUNT new JSON lines on stdout; return them parsed."""
        deadline = time.monotonic() + timeout
        got = []
        while len(got) < count and time.monotonic() < deadline:
            self.pump(0.05)
            while len(got) < count:
                nl = self.out.find(b"\n", self.out_pos)
                if nl < 0:
                    break
                got.append(json.loads(self.out[self.out_pos:nl]))
                self.out_pos = nl + 1
            if self.proc.poll() is not None and not self.sel.get_map():
                break
        if len(got) < count:
            raise AssertionError(f"only {len(got)} of {count} readings; stderr: {self.stderr()}")
        return got

    def wait_stderr(self, text, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.stderr():
                return
            self.pump(0.05)
        raise AssertionError(f"{text!r} not on stderr within {timeout}s; stderr: {self.stderr()}")

    def stderr(self):
        return self.err.decode(errors="replace")

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout):
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self.pump(0.02)
        if self.proc.poll() is None:
            return None
        self.pump(0)
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.sel.close()
        self.proc.stdout.close()
        self.proc.stderr.close()


def tempdir():
    return tempfile.TemporaryDirectory(prefix="fieldgate-test-")


def run(args, **kw):
    """Run a command, capturing text output."""
    return subprocess.run(args, capture_output=True, text=True, timeout=30, **kw)


def mqtt_block(port, extra="", commit_interval_ms=50, stats_interval=None):
    """The mqtt and buffer sections of a test configuration: a broker on loopback."""
    stats = f'  stats_interval = "{stats_interval}";\n' if stats_interval else ""
    return f"""
mqtt = {{
  host = "127.0.0.1";
  port = {port};
{stats}  {extra}
}};
buffer = {{ commit_interval_ms = {commit_interval_ms}; }};
"""


class DaemonTestCase(unittest.TestCase):
    """A temporary directory with a configuration path and a notify socket; the
    daemon, broker and subscriber a test starts (self.daemon, self.broker,
    self.sub) are stopped after it."""

    def setUp(self):
        self.tmp = tempdir()
        self.dir = self.tmp.name
        self.conf = os.path.join(self.dir, "fieldgate.conf")
        self.notify = NotifySocket(self.dir)
        self.daemon = self.broker = self.sub = None

    def tearDown(self):
        if self.daemon:
            self.daemon.kill()
        if self.sub:
            self.sub.stop()
        if self.broker:
            self.broker.stop()
        self.notify.close()
        self.tmp.cleanup()

    def write_conf(self, text):
        """The configuration, readable by its owner only (it may hold keys)."""
        with open(self.conf, "w") as f:
            f.write(text)
        os.chmod(self.conf, 0o600)

    def start_daemon(self, **kw):
        """The daemon on self.conf, publishing (no --dry-run), once it is ready."""
        self.daemon = Daemon(self.conf, notify=self.notify, dry_run=False, **kw)
        self.notify.wait_for("READY=1")
        return self.daemon


__all__ = ["SRCDIR", "BUILDDIR", "FIELDGATED", "FIELDGATECTL", "sim_config", "NotifySocket",
           "Daemon", "tempdir", "run", "signal", "mqtt_block", "DaemonTestCase"]
