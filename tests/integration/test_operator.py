#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""An operator who is not root: a member of the group 'fieldgate' asks the daemon (status,
buffer, devices) through its control socket without being able to read the configuration
(which holds secrets) or the buffer file (which holds session keys); a user outside the group
gets nothing. Real users and a real group: the test creates them as root and removes them."""
import grp
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker import free_port  # noqa: E402
from fgtest import FIELDGATECTL, FIELDGATED, Daemon, NotifySocket, run, tempdir  # noqa: E402

GROUP = "fieldgate"  # FG_CONTROL_GROUP in src/core/control.h; debian/fieldgate.postinst creates it
TOOLS = ("useradd", "userdel", "groupadd", "groupdel", "gpasswd", "runuser", "setpriv")


def config(directory, port):
    return f"""
gateway = {{
  id = "optest";
  state_dir = "{directory}/state";
  runtime_dir = "{directory}/run";
  trust_system_clock = true;
}};
mqtt = {{ host = "127.0.0.1"; port = {port}; }};
sources = {{ sim = {{ enabled = true; devices = 2; interval_ms = 200; seed = 1; lorawan = true; }}; }};
lorawan = {{
  devices = (
    {{ name = "op-soil"; dev_eui = "70B3D57ED0000042"; dev_addr = "26011BDA";
       nwk_s_key = "9A2F3C4D5E6F708192A3B4C5D6E7F801";
       app_s_key = "1F2E3D4C5B6A79880796A5B4C3D2E1F0"; codec = "cayenne"; }}
  );
}};
"""


@unittest.skipUnless(os.geteuid() == 0, "needs root to create users and a group")
@unittest.skipUnless(all(shutil.which(t) for t in TOOLS), "needs " + ", ".join(TOOLS))
class OperatorTest(unittest.TestCase):
    def setUp(self):
        tag = "%x" % (os.getpid() & 0xfffff)
        self.tmp = tempdir()
        self.dir = self.tmp.name
        self.addCleanup(self.tmp.cleanup)
        os.chmod(self.dir, 0o755)
        parent = os.path.dirname(self.dir)
        while parent != "/":
            if not os.stat(parent).st_mode & 0o001:
                self.skipTest("other users cannot enter %s (TMPDIR)" % parent)
            parent = os.path.dirname(parent)
        self.daemon = None
        self.notify = None
        try:
            grp.getgrnam(GROUP)
        except KeyError:
            self.must("groupadd", "--system", GROUP)
            self.addCleanup(self.quiet, "groupdel", GROUP)
        # The daemon's own user, in the operator group as the package puts _fieldgate; an
        # operator in the group; a user outside it.
        self.duser, self.op, self.other = "fgt-d-" + tag, "fgt-op-" + tag, "fgt-x-" + tag
        for user, groups in ((self.duser, [GROUP]), (self.op, [GROUP]), (self.other, [])):
            self.must("useradd", "--system", "--user-group", "--no-create-home",
                      "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
                      *(["--groups", ",".join(groups)] if groups else []), user)
            self.addCleanup(self.quiet, "userdel", user)
        dpw = pwd.getpwnam(self.duser)
        # Copies of the binaries: the build tree may sit where these users cannot go.
        self.fieldgated = os.path.join(self.dir, "fieldgated")
        self.fieldgatectl = os.path.join(self.dir, "fieldgatectl")
        shutil.copy(FIELDGATED, self.fieldgated)
        shutil.copy(FIELDGATECTL, self.fieldgatectl)
        for d, mode in (("state", 0o750), ("run", 0o755)):  # StateDirectory=, RuntimeDirectory=
            os.mkdir(os.path.join(self.dir, d), mode)
            os.chown(os.path.join(self.dir, d), dpw.pw_uid, dpw.pw_gid)
        # As the package installs it: root:<daemon group> 0640, unreadable by the operator.
        self.conf = os.path.join(self.dir, "fieldgate.conf")
        with open(self.conf, "w") as f:
            f.write(config(self.dir, free_port()))
        os.chown(self.conf, 0, dpw.pw_gid)
        os.chmod(self.conf, 0o640)
        self.sock = os.path.join(self.dir, "run", "control")

    def tearDown(self):
        if self.daemon:
            self.daemon.kill()
        if self.notify:
            self.notify.close()

    def must(self, *args):
        r = run(list(args))
        self.assertEqual(r.returncode, 0, "%s: %s" % (" ".join(args), r.stderr))

    @staticmethod
    def quiet(*args):
        subprocess.run(list(args), capture_output=True, timeout=30)

    def as_user(self, user, *args):
        return run(["runuser", "-u", user, "--", *args])

    def ctl(self, user, *args):
        return self.as_user(user, self.fieldgatectl, "-c", self.conf, *args)

    def start_daemon(self):
        self.notify = NotifySocket(self.dir)
        os.chmod(self.notify.path, 0o666)
        dpw = pwd.getpwnam(self.duser)
        # setpriv execs the daemon itself (no parent in between), with the user's groups.
        self.daemon = Daemon(self.conf, notify=self.notify, dry_run=False, binary=self.fieldgated,
                             prefix=["setpriv", "--reuid", str(dpw.pw_uid), "--regid",
                                     str(dpw.pw_gid), "--init-groups", "--"])
        self.notify.wait_for("READY=1", 15)

    def wait_buffered(self, timeout=20):
        """Wait until readings wait in the buffer (no broker listens), as root asks."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = run([self.fieldgatectl, "-c", self.conf, "status", "--json"])
            if r.returncode == 0 and json.loads(r.stdout)["buffer_depth"] > 0:
                return
            self.daemon.pump(0.2)
        self.fail("nothing buffered within %ss; stderr: %s" % (timeout, self.daemon.stderr()))

    def test_operator_group_asks_the_daemon_without_reading_secrets(self):
        self.start_daemon()
        st = os.stat(self.sock)
        self.assertEqual((st.st_gid, st.st_mode & 0o777), (grp.getgrnam(GROUP).gr_gid, 0o660))
        self.wait_buffered()

        # The operator cannot read the configuration nor the buffer file...
        for path in (self.conf, os.path.join(self.dir, "state", "buffer.db")):
            r = self.as_user(self.op, "cat", path)
            self.assertNotEqual(r.returncode, 0, path)
            self.assertIn("Permission denied", r.stderr)
        # ...and asks the daemon all the same.
        r = self.ctl(self.op, "-s", self.sock, "status", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        st = json.loads(r.stdout)
        self.assertEqual(st["gateway"], "optest")
        self.assertGreater(st["buffer_depth"], 0)

        r = self.ctl(self.op, "-s", self.sock, "buffer")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["messages", "first", "seq", "last", "seq", "topic"])
        rows = [line.split() for line in lines[1:]]
        self.assertTrue(rows, r.stdout)
        topics = {row[3]: int(row[0]) for row in rows}
        self.assertLessEqual({"fieldgate/optest/sim/sim-0001", "fieldgate/optest/sim/sim-0002"},
                             set(topics), r.stdout)
        self.assertTrue(all(n > 0 for n in topics.values()), r.stdout)

        r = self.ctl(self.op, "-s", self.sock, "devices")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"\nlora +op-soil +70b3d57ed0000042 +abp ")
        r = self.ctl(self.op, "-s", self.sock, "devices", "--json")
        self.assertEqual([d["name"] for d in json.loads(r.stdout)["devices"]],
                         ["op-soil", "sim-0001", "sim-0002"])

        # Without --socket, the unreadable configuration is no error: the default socket is asked.
        # (A gateway's own daemon may answer there; otherwise the path is named.)
        r = self.ctl(self.op, "devices")
        self.assertNotIn("cannot use configuration", r.stderr)
        if r.returncode != 0:
            self.assertRegex(r.stderr, r"not answering on '/\S*/fieldgate/control'")
            self.assertNotIn(self.sock, r.stderr)

        # Outside the group: nothing.
        for cmd in ("status", "buffer", "devices"):
            r = self.ctl(self.other, "-s", self.sock, cmd)
            self.assertEqual(r.returncode, 1, (cmd, r.stdout, r.stderr))
            self.assertIn("Permission denied", r.stdout + r.stderr, cmd)

        # The daemon's answer agrees with the file, read by root after it stops (with no broker
        # the buffer only grew since).
        self.daemon.signal(signal.SIGTERM)
        self.assertEqual(self.daemon.wait_exit(10), 0, self.daemon.stderr())
        self.assertNotIn("control socket to group", self.daemon.stderr())
        r = run([self.fieldgatectl, "-c", self.conf, "buffer"])
        self.assertEqual(r.returncode, 3, r.stderr)  # answered from the file: not running
        self.assertEqual(r.stdout.splitlines()[0], lines[0])
        after = {row.split()[3]: int(row.split()[0]) for row in r.stdout.splitlines()[1:]}
        self.assertLessEqual(set(topics), set(after), r.stdout)
        self.assertTrue(all(after[t] >= n for t, n in topics.items()), (topics, after))

    def test_daemon_outside_the_group_keeps_its_socket_and_says_so(self):
        # A daemon user not in the group cannot give it the socket: a warning, and it runs on.
        self.must("gpasswd", "--delete", self.duser, GROUP)
        self.start_daemon()
        self.daemon.wait_stderr("cannot give the control socket to group '%s'" % GROUP, 10)
        st = os.stat(self.sock)
        self.assertEqual(st.st_gid, pwd.getpwnam(self.duser).pw_gid)
        r = self.ctl(self.op, "-s", self.sock, "status")
        self.assertEqual(r.returncode, 1)
        self.assertIn("Permission denied", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
