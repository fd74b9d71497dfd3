#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""fieldgatectl: check-config uses the daemon's validation; usage and exit codes."""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fgtest import FIELDGATECTL, SRCDIR, run, sim_config, tempdir  # noqa: E402


class FieldgatectlTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempdir()
        self.conf = os.path.join(self.tmp.name, "fieldgate.conf")

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, text, mode=0o640):
        with open(self.conf, "w") as f:
            f.write(text)
        os.chmod(self.conf, mode)

    def test_check_config_ok(self):
        self.write(sim_config(self.tmp.name))
        r = run([FIELDGATECTL, "check-config", self.conf])
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "configuration OK\n", ""))

    def test_check_config_sample(self):
        r = run([FIELDGATECTL, "check-config", os.path.join(SRCDIR, "conf", "fieldgate.conf")])
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_check_config_typo_names_file_line_setting(self):
        self.write("gateway = {\n  id = \"gw1\";\n  log_levl = \"debug\";\n};\n")
        r = run([FIELDGATECTL, "check-config", self.conf])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "")
        self.assertEqual(r.stderr, "%s:3: gateway.log_levl: unknown setting, did you mean "
                                   "'gateway.log_level'?\n" % self.conf)

    def test_check_config_out_of_range(self):
        self.write("buffer = { commit_interval_ms = 5; };\n")
        r = run([FIELDGATECTL, "check-config", self.conf])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "%s:1: buffer.commit_interval_ms: expected an integer 10..10000, "
                                   "got 5\n" % self.conf)

    def test_check_config_syntax_error(self):
        self.write("gateway = {\n  id = \"gw1\";\n  log_level = ;\n};\n")
        r = run([FIELDGATECTL, "check-config", self.conf])
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"^%s:3: syntax error" % re.escape(self.conf))

    def test_check_config_missing_file(self):
        missing = os.path.join(self.tmp.name, "nope.conf")
        r = run([FIELDGATECTL, "check-config", missing])
        self.assertEqual(r.returncode, 1)
        self.assertIn(missing, r.stderr)
        self.assertIn("No such file or directory", r.stderr)

    def test_world_readable_secret_warns_but_passes(self):
        self.write(sim_config(self.tmp.name) + "mqtt = { username = \"gw\"; password = \"s3cret\"; };\n",
                   mode=0o644)
        r = run([FIELDGATECTL, "check-config", self.conf])
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stdout, "configuration OK\n")
        self.assertIn("warning: mqtt.password:", r.stderr)
        self.assertIn("readable by other users", r.stderr)

    def test_secret_from_credentials_directory(self):
        creds = os.path.join(self.tmp.name, "creds")
        os.mkdir(creds)
        with open(os.path.join(creds, "mqtt-password"), "w") as f:
            f.write("s3cret\n")
        self.write(sim_config(self.tmp.name) + "mqtt = { username = \"gw\"; password_credential = \"mqtt-password\"; };\n",
                   mode=0o644)
        r = run([FIELDGATECTL, "check-config", self.conf], env=dict(os.environ, CREDENTIALS_DIRECTORY=creds))
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        env = dict(os.environ)
        env.pop("CREDENTIALS_DIRECTORY", None)
        r = run([FIELDGATECTL, "check-config", self.conf], env=env)
        self.assertEqual(r.returncode, 1)
        self.assertIn("mqtt.password_credential", r.stderr)

    def test_usage(self):
        self.assertEqual(run([FIELDGATECTL]).returncode, 2)
        self.assertEqual(run([FIELDGATECTL, "frobnicate"]).returncode, 2)
        self.assertEqual(run([FIELDGATECTL, "check-config", "a", "b"]).returncode, 2)
        r = run([FIELDGATECTL, "--version"])
        self.assertRegex(r.stdout, r"^fieldgatectl \d+\.\d+\.\d+\n$")
        r = run([FIELDGATECTL, "--help"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("check-config", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
