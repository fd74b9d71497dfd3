#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The journal as a fleet's tooling reads it. No journald runs here, but
sd-journal sends its native datagrams to /run/systemd/journal/socket, so the
test binds that socket and reads every entry exactly as journald would
receive it: the fields, and the sender's credentials (SCM_CREDENTIALS, as
journald gets _PID); the reader would take an entry too big for a datagram
from its memfd (SCM_RIGHTS), though the daemon's entries (a message of at
most 2 KB, its fields 1 KB) never are. FG_TEST_SHOW_JOURNAL=1 prints each
event's entry. The real daemon (and its test double with a concentrator)
logs there because its stderr is what JOURNAL_STREAM names, as systemd sets
it up for a service; every other test's daemon runs without JOURNAL_STREAM
and writes to stderr, whatever binds the socket. Each event is provoked for
real: the broker stopped and started again, a buffer filled to max_rows, a
small tmpfs filled up, a concentrator that fails its first start, the clock
becoming synchronized.

The socket is one for the whole machine: the test holds an flock on LOCK
while it is bound (tests/unit/check_log.c takes it too), removes it after,
and skips, saying why, where a journald (or anything else) answers on it."""
import errno
import fcntl
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker import Broker, free_port  # noqa: E402
from fgtest import SRCDIR, Daemon, NotifySocket, sim_config, tempdir  # noqa: E402
from test_disk_full import avail, mount_tmpfs, umount  # noqa: E402
import test_sx130x as sx  # noqa: E402

SOCKET = "/run/systemd/journal/socket"
LOCK = "/tmp/fieldgate-journal-socket.lock"
# What systemd does for a unit with StandardError=journal: JOURNAL_STREAM
# names the daemon's stderr (device:inode), here the pipe the test reads.
JOURNAL_STREAM = ["/bin/sh", "-c",
                  'export JOURNAL_STREAM="$(stat -L -c %d:%i /proc/self/fd/2)"; exec "$@"', "sh"]
GATEWAY = "journal-gw"
# Fields every entry of the daemon carries once its configuration is loaded.
EVERY_ENTRY = ("MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "FIELDGATE_GATEWAY",
               "FIELDGATE_MODULE", "CODE_FILE", "CODE_LINE", "CODE_FUNC")


def message_ids():
    """NAME -> id from src/core/log-ids.h."""
    with open(os.path.join(SRCDIR, "src", "core", "log-ids.h")) as f:
        return dict(re.findall(r'^#define FG_MESSAGE_(\w+) "([0-9a-f]{32})"$', f.read(), re.M))


def read_catalog(path=None):
    """id -> (headers, body) from conf/fieldgate.catalog, checking its format as we go."""
    path = path or os.path.join(SRCDIR, "conf", "fieldgate.catalog")
    entries, cur = {}, None
    with open(path) as f:
        lines = f.read().split("\n")
    for n, line in enumerate(lines, 1):
        m = re.match(r"^-- ([0-9a-f]{32})$", line)
        if m:
            if m.group(1) in entries:
                raise AssertionError(f"{path}:{n}: id {m.group(1)} twice")
            cur = entries[m.group(1)] = ({}, [])
            in_headers = True
            continue
        if cur is None:
            if line and not line.startswith("#"):
                raise AssertionError(f"{path}:{n}: text before the first '-- ID' line")
            continue
        if in_headers:
            if not line:
                in_headers = False
                continue
            m = re.match(r"^([A-Z][A-Za-z-]*): (.+)$", line)
            if not m:
                raise AssertionError(f"{path}:{n}: not a 'Header: value' line: {line!r}")
            cur[0][m.group(1)] = m.group(2)
        else:
            cur[1].append(line)
    return {i: (h, "\n".join(b).strip()) for i, (h, b) in entries.items()}


def catalog_fields(text):
    return set(re.findall(r"@([A-Z0-9_]+)@", text))


def parse_native(data):
    """sd-journal's native datagram: FIELD=value lines, or FIELD\\n<le64 size><bytes>\\n."""
    fields, i = {}, 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            name, value = line.split(b"=", 1)
            i = nl + 1
        else:
            name = line
            (size,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            value = data[nl + 9:nl + 9 + size]
            if data[nl + 9 + size:nl + 10 + size] != b"\n":
                raise AssertionError(f"binary field {name!r} not ended by a newline")
            i = nl + 10 + size
        fields.setdefault(name.decode(), []).append(value.decode(errors="replace"))
    return fields


class JournalStandIn:
    """The journal's native socket, bound by the test; a thread reads it all the time
    (a sender whose datagram queue is full blocks)."""

    def __init__(self):
        self.sock = self.lock = None
        self.entries = []  # (pid, {field: [values]})
        self.errors = []
        self.cond = threading.Condition()
        self.closing = False
        self.made_dirs = []

    def open(self):
        """Bind the socket; None, or why it cannot be done here."""
        if os.geteuid() != 0:
            return "standing in for journald needs root (/run/systemd/journal)"
        self.lock = open(LOCK, "w")
        fcntl.flock(self.lock, fcntl.LOCK_EX)
        for d in ("/run/systemd", "/run/systemd/journal"):
            if not os.path.isdir(d):
                os.mkdir(d, 0o755)
                self.made_dirs.insert(0, d)
        # Held under the lock, a socket that answers is a journald's (or another
        # program's) for as long as we look; one that refuses is a leftover.
        for _ in range(50):
            if not os.path.exists(SOCKET):
                break
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            try:
                probe.connect(SOCKET)
            except OSError as e:
                if e.errno == errno.ECONNREFUSED:
                    os.unlink(SOCKET)
                    break
            finally:
                probe.close()
            time.sleep(0.2)
        else:
            self.close()
            return f"{SOCKET} is answered by a journald (or another program)"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(SOCKET)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.settimeout(0.2)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        return None

    def _read(self):
        ucred = struct.calcsize("3i")
        anc = socket.CMSG_SPACE(ucred) + socket.CMSG_SPACE(struct.calcsize("4i"))
        while not self.closing:
            try:
                data, ancdata, flags, _ = self.sock.recvmsg(1 << 18, anc)
            except socket.timeout:
                continue
            except OSError:
                return
            pid = None
            for level, kind, cdata in ancdata:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("3i", cdata[:ucred])[0]
                elif level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    # An entry too big for a datagram: a sealed memfd holds it.
                    for fd in struct.unpack(f"{len(cdata) // 4}i", cdata[:len(cdata) // 4 * 4]):
                        with os.fdopen(fd, "rb") as f:
                            f.seek(0)
                            data = f.read()
            try:
                if flags & socket.MSG_TRUNC:
                    raise AssertionError("a datagram was truncated")
                entry = parse_native(data)
            except (AssertionError, ValueError, struct.error) as e:
                with self.cond:
                    self.errors.append(f"{e}: {data[:200]!r}")
                continue
            with self.cond:
                self.entries.append((pid, entry))
                self.cond.notify_all()

    def of(self, pid):
        with self.cond:
            return [e for p, e in self.entries if p == pid]

    def wait_for(self, pid, pred, what, timeout=20.0):
        """The first entry from PID for which pred(entry) holds."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for p, e in self.entries:
                    if p == pid and pred(e):
                        return e
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            got = [e.get("MESSAGE") for p, e in self.entries if p == pid]
        raise AssertionError(f"no journal entry {what} within {timeout}s; pid {pid} sent {got}")

    def close(self):
        self.closing = True
        if self.sock:
            self.reader.join(timeout=5)
            self.sock.close()
            try:
                os.unlink(SOCKET)
            except FileNotFoundError:
                pass
        for d in self.made_dirs:
            try:
                os.rmdir(d)
            except OSError:
                pass
        if self.lock:
            fcntl.flock(self.lock, fcntl.LOCK_UN)
            self.lock.close()


def one(entry, field):
    """The single value of FIELD in an entry (a field given twice is a bug)."""
    values = entry.get(field)
    assert values is not None, f"no {field} in {entry}"
    assert len(values) == 1, f"{field} given {len(values)} times in {entry}"
    return values[0]


IDS = message_ids()
CATALOG = read_catalog()


def has_id(name):
    return lambda e: e.get("MESSAGE_ID") == [IDS[name]]


class CatalogTest(unittest.TestCase):
    """The MESSAGE_IDs, the catalog the package installs and the man page agree."""

    def test_every_id_has_a_catalog_entry_and_every_entry_an_id(self):
        self.assertGreaterEqual(len(IDS), 9, IDS)
        self.assertEqual(len(set(IDS.values())), len(IDS), "an id used twice")
        self.assertEqual(set(IDS.values()), set(CATALOG), "log-ids.h and fieldgate.catalog differ")
        for i, (headers, body) in CATALOG.items():
            self.assertEqual(headers.get("Defined-By"), "fieldgate", i)
            self.assertIn("man:fieldgated(8)", headers.get("Documentation", ""), i)
            self.assertTrue(headers.get("Subject"), i)
            self.assertGreater(len(body), 40, f"{i}: the explanation is missing")

    def test_the_man_page_names_every_id(self):
        with open(os.path.join(SRCDIR, "man", "fieldgated.8.in")) as f:
            man = f.read()
        for name, i in IDS.items():
            self.assertTrue(i in man, f"FG_MESSAGE_{name} ({i}) is not in fieldgated(8)")

    def test_journalctl_compiles_the_catalog(self):
        with tempfile.TemporaryDirectory(prefix="fieldgate-catalog-") as root:
            d = os.path.join(root, "usr", "lib", "systemd", "catalog")
            os.makedirs(d)
            with open(os.path.join(SRCDIR, "conf", "fieldgate.catalog")) as src, \
                    open(os.path.join(d, "fieldgate.catalog"), "w") as dst:
                dst.write(src.read())
            r = subprocess.run(["journalctl", f"--root={root}", "--update-catalog"],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            r = subprocess.run(["journalctl", f"--root={root}", "--list-catalog"],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            listed = {line.split()[0] for line in r.stdout.splitlines() if " fieldgate: " in line}
            self.assertEqual(listed, set(IDS.values()), r.stdout)


class JournalTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.journal = JournalStandIn()
        why = cls.journal.open()
        if why:
            raise unittest.SkipTest(why)

    @classmethod
    def tearDownClass(cls):
        cls.journal.close()

    def setUp(self):
        self.assertEqual(self.journal.errors, [])
        self.tmp = tempdir()
        self.dir = self.tmp.name
        self.conf = os.path.join(self.dir, "fieldgate.conf")
        self.notify = NotifySocket(self.dir)
        self.daemon = self.broker = None
        self.mounted = None

    def tearDown(self):
        if self.daemon:
            self.daemon.kill()
        if self.broker:
            self.broker.stop()
        self.notify.close()
        if self.mounted:
            umount(self.mounted)
        self.tmp.cleanup()
        self.assertEqual(self.journal.errors, [])

    def write_conf(self, text):
        with open(self.conf, "w") as f:
            f.write(text.replace('id = "itest";', f'id = "{GATEWAY}";'))
        os.chmod(self.conf, 0o600)

    def sim_conf(self, port, state=None, devices=2, interval_ms=100, trust=True, buffer=""):
        conf = sim_config(state or self.dir, devices=devices, interval_ms=interval_ms)
        conf = conf.replace(f'runtime_dir = "{state or self.dir}"', f'runtime_dir = "{self.dir}"')
        if not trust:
            conf = conf.replace("trust_system_clock = true;", "trust_system_clock = false;")
        return conf + f"""
mqtt = {{ host = "127.0.0.1"; port = {port}; stats_interval = 0; }};
buffer = {{ commit_interval_ms = 50; {buffer} }};
"""

    def start(self, binary=None, env=None):
        self.daemon = Daemon(self.conf, notify=self.notify, dry_run=False, prefix=JOURNAL_STREAM,
                             binary=binary, env=env)
        self.notify.wait_for("READY=1", 20)
        return self.daemon.proc.pid

    def event(self, pid, name, timeout=30.0):
        """The first entry of event NAME from PID, checked against the catalog: every
        field its explanation substitutes is in the entry, once."""
        e = self.journal.wait_for(pid, has_id(name), f"FG_MESSAGE_{name}", timeout)
        for field in catalog_fields(CATALOG[IDS[name]][0]["Subject"] + CATALOG[IDS[name]][1]):
            one(e, field)
        self.assertEqual(one(e, "FIELDGATE_GATEWAY"), GATEWAY, e)
        self.assertEqual(one(e, "SYSLOG_IDENTIFIER"), "fieldgated", e)
        if os.environ.get("FG_TEST_SHOW_JOURNAL"):
            print(f"--- {name}\n" + "".join(f"{k}={v}\n" for k, vs in e.items() for v in vs),
                  file=sys.stderr)
        return e

    def test_every_entry_names_the_daemon_and_the_gateway(self):
        self.write_conf(self.sim_conf(free_port()))
        pid = self.start()
        self.journal.wait_for(pid, lambda e: "started as gateway" in e["MESSAGE"][0], "started")
        # The clock is trusted by the configuration: known from the first commit.
        e = self.event(pid, "CLOCK_SYNCHRONIZED")
        self.assertEqual(one(e, "FIELDGATE_CLOCK_TRUSTED"), "yes")
        self.assertEqual(one(e, "FIELDGATE_MODULE"), "core")
        self.assertEqual(one(e, "PRIORITY"), "6")
        entries = self.journal.of(pid)
        self.assertGreaterEqual(len(entries), 3, entries)
        for e in entries:
            for field in EVERY_ENTRY:
                one(e, field)
            self.assertEqual(one(e, "SYSLOG_IDENTIFIER"), "fieldgated")
            self.assertEqual(one(e, "FIELDGATE_GATEWAY"), GATEWAY)
            module = one(e, "FIELDGATE_MODULE")
            self.assertTrue(one(e, "MESSAGE").startswith(module + ": "), e)
            self.assertRegex(one(e, "CODE_FILE"), r"^src/.*\.c$")
            self.assertRegex(one(e, "CODE_LINE"), r"^[0-9]+$")
            self.assertIn(one(e, "PRIORITY"), list("01234567"))
            if "MESSAGE_ID" in e:
                self.assertIn(one(e, "MESSAGE_ID"), IDS.values())
        # All of it went to the journal, none to stderr.
        self.daemon.pump(0.1)
        self.assertEqual(self.daemon.stderr(), "")

    def test_broker_lost_and_restored(self):
        self.broker = Broker(self.dir)
        self.broker.start()
        self.write_conf(self.sim_conf(self.broker.port))
        pid = self.start()
        first = self.journal.wait_for(pid, lambda e: "connected to" in e["MESSAGE"][0],
                                      "connected")
        self.assertNotIn("MESSAGE_ID", first, "the first connection restores nothing")
        self.broker.stop()
        lost = self.event(pid, "BROKER_LOST")
        self.assertEqual(one(lost, "FIELDGATE_BROKER"), f"127.0.0.1:{self.broker.port}")
        self.assertEqual(one(lost, "PRIORITY"), "4")
        self.assertEqual(one(lost, "FIELDGATE_MODULE"), "mqtt")
        self.assertEqual(one(lost, "CODE_FILE"), "src/sink/mqtt.c")
        self.assertRegex(one(lost, "FIELDGATE_RETRY_SEC"), r"^[0-9]+$")
        self.broker.start()
        back = self.event(pid, "BROKER_RESTORED", 60)
        self.assertEqual(one(back, "FIELDGATE_BROKER"), f"127.0.0.1:{self.broker.port}")
        self.assertRegex(one(back, "FIELDGATE_OUTAGE_SEC"), r"^[0-9]+$")
        self.assertEqual(one(back, "PRIORITY"), "5")
        # Once each: the retries while it was away are not losses.
        self.assertEqual(len([e for e in self.journal.of(pid) if has_id("BROKER_LOST")(e)]), 1)

    def test_eviction_episode_started_and_ended(self):
        # No broker at first: 20 devices every 20 ms fill max_rows 1000.
        self.broker = Broker(self.dir)
        self.write_conf(self.sim_conf(self.broker.port, devices=20, interval_ms=20,
                                      buffer="max_rows = 1000;"))
        pid = self.start()
        started = self.event(pid, "EVICTION_STARTED")
        self.assertEqual(one(started, "FIELDGATE_EVICT_CAUSE"), "max_rows")
        self.assertEqual(one(started, "FIELDGATE_POLICY"), "drop_oldest")
        self.assertEqual(one(started, "CODE_FUNC"), "report_evictions")
        self.broker.start()
        ended = self.event(pid, "EVICTION_ENDED", 90)
        self.assertEqual(one(ended, "FIELDGATE_EVICT_CAUSE"), "max_rows")
        self.assertGreater(int(one(ended, "FIELDGATE_EVICTED")), 0)
        self.assertGreaterEqual(int(one(ended, "FIELDGATE_EVICTED_TOTAL")),
                                int(one(ended, "FIELDGATE_EVICTED")))

    def test_disk_nearly_full_once_then_room_again(self):
        state = os.path.join(self.dir, "state")
        os.mkdir(state)
        why = mount_tmpfs(state, "16m")
        if why:
            self.skipTest(why)
        self.mounted = state
        # min_free 1 MiB: nearly full below 2 MiB free, room again at 2.5 MiB.
        self.write_conf(self.sim_conf(free_port(), state=state, buffer='min_free = "1M";'))
        pid = self.start()
        self.journal.wait_for(pid, lambda e: "started as gateway" in e["MESSAGE"][0], "started")
        ballast = os.path.join(state, "ballast")
        with open(ballast, "wb") as f:
            f.write(b"\0" * (avail(state) - 1536 * 1024))
        low = self.event(pid, "DISK_LOW")
        self.assertLess(int(one(low, "FIELDGATE_DISK_FREE")), 2 << 20)
        self.assertEqual(one(low, "FIELDGATE_DISK_LOW_MARK"), str(2 << 20))
        self.assertEqual(one(low, "FIELDGATE_BUFFER"), os.path.join(state, "buffer.db"))
        self.assertEqual(one(low, "PRIORITY"), "4")
        os.unlink(ballast)
        ok = self.event(pid, "DISK_RECOVERED")
        self.assertGreaterEqual(int(one(ok, "FIELDGATE_DISK_FREE")), 5 << 19)
        # Once per episode, though every commit measured it.
        self.assertEqual(len([e for e in self.journal.of(pid) if has_id("DISK_LOW")(e)]), 1)

    def test_concentrator_failed_then_started(self):
        if not os.access(sx.DOUBLE, os.X_OK):
            self.skipTest(f"{sx.DOUBLE} not built (make check builds it)")
        script = os.path.join(self.dir, "loragw.script")
        with open(script, "w") as f:
            f.write("start_fail 1\n")
        open(os.path.join(self.dir, "spidev0.0"), "w").close()
        self.write_conf(sx.config(self.dir, free_port(), gateway_id=GATEWAY))
        pid = self.start(binary=sx.DOUBLE,
                         env={"FG_LORAGW_SCRIPT": script, "FG_LORAGW_EUI": sx.CHIP_EUI.upper(),
                              "FG_LORAGW_RECORD": os.path.join(self.dir, "loragw.record")})
        failed = self.event(pid, "CONCENTRATOR_FAILED")
        self.assertEqual(one(failed, "FIELDGATE_ATTEMPT"), "1")
        self.assertEqual(one(failed, "FIELDGATE_RETRY_SEC"), "1")
        self.assertEqual(one(failed, "FIELDGATE_SPI"), os.path.join(self.dir, "spidev0.0"))
        self.assertEqual(one(failed, "PRIORITY"), "3")
        self.assertEqual(one(failed, "CODE_FILE"), "src/source/sx130x.c")
        started = self.event(pid, "CONCENTRATOR_STARTED")
        self.assertEqual(one(started, "FIELDGATE_EUI"), sx.CHIP_EUI)
        self.assertEqual(one(started, "FIELDGATE_CHIP"), one(failed, "FIELDGATE_CHIP"))
        self.assertEqual(one(started, "FIELDGATE_REGION"), "EU868")
        self.assertEqual(one(started, "FIELDGATE_STARTS"), "1")

    def test_clock_synchronized_when_it_becomes_known(self):
        sync = os.path.join(self.dir, "synchronized")
        self.write_conf(self.sim_conf(free_port(), trust=False))
        pid = self.start(env={"FIELDGATE_CLOCK_SYNC_FILE": sync})
        # The first commits ran before the start line; the clock was unknown then.
        self.journal.wait_for(pid, lambda e: "started as gateway" in e["MESSAGE"][0], "started")
        self.assertEqual([e for e in self.journal.of(pid) if has_id("CLOCK_SYNCHRONIZED")(e)], [])
        open(sync, "w").close()
        e = self.event(pid, "CLOCK_SYNCHRONIZED")
        self.assertEqual(one(e, "FIELDGATE_CLOCK_TRUSTED"), "no")
        self.assertRegex(one(e, "FIELDGATE_CLOCK_WAIT_SEC"), r"^[0-9]+$")
        self.assertIn("synchronized", one(e, "MESSAGE"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
