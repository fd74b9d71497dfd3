#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A fresh install: the daemon on conf/fieldgate.conf as the package installs it (only the
state and runtime directories moved into a temporary one) starts, says in one log line what
to configure, and buffers nothing: the sample must not start the simulator on a real gateway."""
import json
import os
import re
import signal
import sqlite3
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fgtest import FIELDGATECTL, SRCDIR, Daemon, NotifySocket, run, tempdir  # noqa: E402

SHIPPED = os.path.join(SRCDIR, "conf", "fieldgate.conf")
HINT = "no source is enabled: set sources.gwmp, sources.sx130x or sources.ble in '%s'"


def shipped_with_paths(directory):
    """The shipped file with gateway.state_dir and gateway.runtime_dir set to directory, and
    nothing else changed."""
    with open(SHIPPED) as f:
        text = f.read()
    for name in ("state_dir", "runtime_dir"):
        text, n = re.subn(r"^(\s*)#%s = .*$" % name, r'\1%s = "%s";' % (name, directory), text,
                          count=1, flags=re.M)
        if n != 1:
            raise AssertionError("no '#%s = ...' line in %s" % (name, SHIPPED))
    return text


class FirstRunTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempdir()
        self.dir = self.tmp.name
        self.conf = os.path.join(self.dir, "fieldgate.conf")
        with open(self.conf, "w") as f:
            f.write(shipped_with_paths(self.dir))
        os.chmod(self.conf, 0o640)  # as debian/fieldgate.postinst leaves it
        self.notify = NotifySocket(self.dir)
        self.daemon = None

    def tearDown(self):
        if self.daemon:
            self.daemon.kill()
        self.notify.close()
        self.tmp.cleanup()

    def status(self):
        r = run([FIELDGATECTL, "-c", self.conf, "status", "--json"])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return json.loads(r.stdout)

    def test_only_the_paths_differ_from_the_shipped_file(self):
        with open(SHIPPED) as f:
            shipped = f.read().splitlines()
        with open(self.conf) as f:
            ours = f.read().splitlines()
        self.assertEqual(len(shipped), len(ours))
        changed = [(a, b) for a, b in zip(shipped, ours) if a != b]
        self.assertEqual([b.strip() for _, b in changed],
                         ['state_dir = "%s";' % self.dir, 'runtime_dir = "%s";' % self.dir])

    def test_shipped_config_starts_says_what_to_configure_and_buffers_nothing(self):
        # The real daemon with its buffer and MQTT sink (no broker listens: none is configured).
        self.daemon = Daemon(self.conf, notify=self.notify, dry_run=False)
        self.notify.wait_for("READY=1", 15)
        st = self.status()
        self.assertEqual(st["mode"], "buffered")
        # Run a while: the old sample's simulator reported every 2 s; wait for several of its
        # intervals to pass by the daemon's own clock (a condition with a deadline).
        deadline = time.monotonic() + 30
        while st["uptime_s"] < 5 and time.monotonic() < deadline:
            self.daemon.pump(0.2)
            st = self.status()
        self.assertGreaterEqual(st["uptime_s"], 5, st)
        self.assertEqual((st["readings_in"], st["buffer_depth"]), (0, 0), st)
        self.daemon.signal(signal.SIGTERM)
        self.assertEqual(self.daemon.wait_exit(10), 0, self.daemon.stderr())
        hints = [line for line in self.daemon.stderr().splitlines() if "no source is enabled" in line]
        self.assertEqual(len(hints), 1, self.daemon.stderr())
        self.assertIn(HINT % self.conf, hints[0])
        self.assertIn("mqtt.host (now 'localhost')", hints[0])
        self.assertTrue(hints[0].endswith("then systemctl reload fieldgate"), hints[0])
        # The buffer file itself: nothing in it.
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.dir, "buffer.db"), uri=True)
        try:
            counts = [db.execute("SELECT COUNT(*) FROM %s" % t).fetchone()[0]
                      for t in ("readings", "outbox")]
        finally:
            db.close()
        self.assertEqual(counts, [0, 0])

    def test_a_source_enabled_by_reload_silences_the_hint(self):
        # What the hint tells the operator to do works: enable a source, reload; no second hint.
        self.daemon = Daemon(self.conf, notify=self.notify)
        self.notify.wait_for("READY=1", 15)
        self.daemon.wait_stderr("no source is enabled", 10)
        with open(self.conf) as f:
            text = f.read()
        text, n = re.subn(r"^(\tgwmp = \{\n(?:.*\n)*?)\t\t#enabled = false;", r"\1\t\tenabled = true;",
                          text, count=1, flags=re.M)
        self.assertEqual(n, 1)
        text = text.replace('#listen = "127.0.0.1:1700";', 'listen = "127.0.0.1:0";', 1)
        with open(self.conf + ".new", "w") as f:
            f.write(text)
        os.chmod(self.conf + ".new", 0o640)
        os.replace(self.conf + ".new", self.conf)
        self.daemon.signal(signal.SIGHUP)
        self.daemon.wait_stderr("reloaded '%s'" % self.conf, 15)
        self.daemon.signal(signal.SIGTERM)
        self.assertEqual(self.daemon.wait_exit(10), 0, self.daemon.stderr())
        self.assertEqual(self.daemon.stderr().count("no source is enabled"), 1, self.daemon.stderr())


if __name__ == "__main__":
    unittest.main(verbosity=2)
