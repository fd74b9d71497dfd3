#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""fieldgatectl for scripts: every command with --json against a running
daemon and against none, one shape from either, and the exit codes (0
answered, 1 error, 2 usage, 3 no daemon answered); devices of every source
(simulated, LoRaWAN, BLE through a fake BlueZ); decode lorawan on joins."""
import json
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker import Broker, Subscriber  # noqa: E402
from fakebluez import FakeBluez, PrivateBus, available  # noqa: E402
from fgtest import FIELDGATECTL, SRCDIR, DaemonTestCase, mqtt_block, run, tempdir  # noqa: E402

DEVICE_KEYS = ["source", "name", "id", "configured", "last_seen_ms", "readings", "refused",
               "rssi", "snr", "dev_eui", "activation", "joined", "dev_addr", "fcnt_up",
               "fcnt_down", "address", "format"]
RUNTIME = ["last_seen_ms", "readings", "refused", "rssi", "snr"]

# Arjan van Bentem's TTN join (quoted in lora-packet issue #10; also in
# tests/unit/check_downlink.c): AppKey, JoinRequest (AppEUI 70B3D57ED00000DC,
# DevEUI 00AFEE7CF5ED6F1E, DevNonce CC85, MIC 587FE913), JoinAccept with a CFList.
APP_KEY = "B6B53F4A168A7A88BDF7EA135CE9CFCA"
JOIN_REQUEST = "00DC0000D07ED5B3701E6FEDF57CEEAF0085CC587FE913"
JOIN_ACCEPT = "204DD85AE608B87FC4889970B7D2042C9E72959B0057AED6094B16003DF12DE145"
BAD_REQUEST = JOIN_REQUEST[:-2] + "14"
BAD_ACCEPT = JOIN_ACCEPT[:-2] + "46"

LORAWAN = f"""
lorawan = {{ devices = (
  {{ name = "soil"; dev_eui = "70B3D57ED0000042"; dev_addr = "26011BDA";
     nwk_s_key = "9A2F3C4D5E6F708192A3B4C5D6E7F801";
     app_s_key = "1F2E3D4C5B6A79880796A5B4C3D2E1F0"; codec = "cayenne"; }},
  {{ name = "other"; dev_eui = "0004A30B001C0530"; app_key = "000102030405060708090A0B0C0D0E0F"; }},
  {{ name = "node"; dev_eui = "00AFEE7CF5ED6F1E"; join_eui = "70B3D57ED00000DC";
     app_key = "{APP_KEY}"; }} ); }};
"""


def ctl(*args):
    return run([FIELDGATECTL, *args])


def load(r):
    """The one JSON document a --json command printed."""
    return json.loads(r.stdout)


class CtlJsonTest(DaemonTestCase):
    def setUp(self):
        super().setUp()
        self.broker = Broker(self.dir)
        self.broker.start()
        self.write_conf(f"""
gateway = {{ id = "itest"; state_dir = "{self.dir}"; runtime_dir = "{self.dir}";
  trust_system_clock = true; }};
{mqtt_block(self.broker.port)}
sources = {{ sim = {{ enabled = true; devices = 2; interval_ms = 100; seed = 1; lorawan = true;
                      ble = true; }}; }};
ble = {{ min_interval = "0s"; devices = (
  {{ name = "porch"; address = "A4:C1:38:00:11:22"; codec = "bthome"; }} ); }};
{LORAWAN}
""")

    def devices(self, expect=0):
        r = ctl("-c", self.conf, "devices", "--json")
        self.assertEqual(r.returncode, expect, r.stdout + r.stderr)
        doc = load(r)
        self.assertEqual(list(doc), ["devices", "truncated"])
        self.assertFalse(doc["truncated"])
        for d in doc["devices"]:
            self.assertEqual(list(d), DEVICE_KEYS, d)
        return {d["name"]: d for d in doc["devices"]}

    def wait_devices(self, predicate, timeout=15):
        deadline = time.monotonic() + timeout
        devs = self.devices()
        while not predicate(devs) and time.monotonic() < deadline:
            time.sleep(0.1)
            devs = self.devices()
        self.assertTrue(predicate(devs), devs)
        return devs

    def test_devices_of_every_source_with_and_without_the_daemon(self):
        # No daemon: the configuration's devices, runtime fields null, exit 3.
        off = self.devices(expect=3)
        self.assertEqual(list(off), ["soil", "other", "node", "porch", "sim-0001", "sim-0002"])
        for d in off.values():
            self.assertEqual([d[k] for k in RUNTIME], [None] * len(RUNTIME), d)
        self.assertEqual(off["soil"]["joined"], True)
        self.assertEqual(off["soil"]["dev_addr"], "26011bda")
        self.assertIsNone(off["node"]["joined"])
        self.assertEqual(off["porch"]["address"], "A4:C1:38:00:11:22")
        r = ctl("-c", self.conf, "devices")
        self.assertEqual(r.returncode, 3)
        self.assertIn("not answering on", r.stderr)
        self.assertRegex(r.stdout, r"\nsim +sim-0001 +sim-0001 ")

        self.start_daemon()
        on = self.wait_devices(lambda ds: all(ds[n]["readings"] for n in
                                              ("soil", "porch", "sim-0001", "sim-0002")))
        self.assertEqual(list(on), list(off))
        soil, porch, sim = on["soil"], on["porch"], on["sim-0001"]
        self.assertEqual((soil["source"], soil["id"], soil["activation"]),
                         ("lora", "70b3d57ed0000042", "abp"))
        self.assertIsInstance(soil["rssi"], int)
        self.assertIsInstance(soil["snr"], float)
        self.assertIsInstance(soil["fcnt_up"], int)
        self.assertEqual(soil["refused"], 0)
        self.assertEqual(on["node"]["joined"], False)
        self.assertEqual(on["node"]["readings"], 0)
        self.assertIsNone(on["node"]["last_seen_ms"])
        self.assertEqual((porch["source"], porch["id"], porch["format"]),
                         ("ble", "a4c138001122", "bthome"))
        self.assertIsInstance(porch["rssi"], int)
        self.assertEqual(sim["source"], "sim")
        self.assertEqual(sim["readings"] % 3, 0)
        self.assertGreater(sim["last_seen_ms"], 1.5e12)
        r = ctl("-c", self.conf, "devices")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"\nlora +soil +70b3d57ed0000042 +abp 26011bda fcnt \d+/0 ")
        self.assertRegex(r.stdout, r"\nble +porch +a4c138001122 +A4:C1:38:00:11:22 bthome ")

        # Stopped: the buffer kept the frame counter.
        self.daemon.signal(signal.SIGTERM)
        self.assertEqual(self.daemon.wait_exit(10), 0, self.daemon.stderr())
        self.daemon = None
        after = self.devices(expect=3)
        self.assertGreaterEqual(after["soil"]["fcnt_up"], soil["fcnt_up"])
        self.assertIsNone(after["soil"]["readings"])

    def test_buffer_json_is_the_same_from_the_daemon_and_the_file(self):
        # No broker subscriber is needed: stop the broker so that messages wait.
        self.broker.stop()
        self.broker = None
        self.start_daemon()
        deadline = time.monotonic() + 15
        doc = {"topics": []}
        while len(doc["topics"]) < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
            r = ctl("-c", self.conf, "buffer", "--json")
            self.assertEqual(r.returncode, 0, r.stderr)
            doc = load(r)
        self.assertEqual(list(doc), ["topics", "truncated"])
        self.assertGreaterEqual(len(doc["topics"]), 4, doc)
        for t in doc["topics"]:
            self.assertEqual(list(t), ["topic", "messages", "first_seq", "last_seq"])
        self.daemon.signal(signal.SIGTERM)
        self.assertEqual(self.daemon.wait_exit(10), 0, self.daemon.stderr())
        self.daemon = None
        r = ctl("-c", self.conf, "buffer", "--json")
        self.assertEqual(r.returncode, 3, r.stderr)
        file_doc = load(r)
        self.assertEqual(list(file_doc), ["topics", "truncated"])
        self.assertEqual([list(t) for t in file_doc["topics"]],
                         [list(t) for t in file_doc["topics"][:1]] * len(file_doc["topics"]))
        by_topic = {t["topic"]: t["messages"] for t in file_doc["topics"]}
        for t in doc["topics"]:
            self.assertGreaterEqual(by_topic[t["topic"]], t["messages"])
        # The table from the file, and the same exit code.
        r = ctl("-c", self.conf, "buffer")
        self.assertEqual(r.returncode, 3)
        self.assertEqual(r.stdout.split("\n")[0].split(), ["messages", "first", "seq", "last",
                                                           "seq", "topic"])

    def test_status_and_metrics_json_from_the_daemon_and_the_file(self):
        # Running: exit 0, the health record from status --json and metrics --json alike.
        started = time.monotonic()
        self.start_daemon()
        deadline = started + 15
        rec = {}
        while rec.get("published", 0) == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
            r = ctl("-c", self.conf, "status", "--json")
            self.assertEqual(r.returncode, 0, r.stderr)
            rec = load(r)
        self.assertGreater(rec["readings_in"], 0, rec)
        self.assertGreater(rec["published"], 0, rec)
        # The first and latest PUBACK on CLOCK_MONOTONIC (time.monotonic()'s clock), in order,
        # within the daemon's lifetime.
        self.assertLessEqual(int(started * 1000), rec["first_ack_mono_ms"])
        self.assertLessEqual(rec["first_ack_mono_ms"], rec["last_ack_mono_ms"])
        self.assertLessEqual(rec["last_ack_mono_ms"], time.monotonic() * 1000)
        self.assertEqual((rec["schema"], rec["running"], rec["gateway"]), (1, True, "itest"))
        r = ctl("-c", self.conf, "metrics", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(list(load(r)), list(rec))
        r = ctl("-c", self.conf, "metrics")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("\nfieldgate_up 1\n", "\n" + r.stdout)
        self.daemon.signal(signal.SIGTERM)
        self.assertEqual(self.daemon.wait_exit(10), 0, self.daemon.stderr())
        self.daemon = None
        # Stopped: exit 3, the same members from the buffer file, running false.
        for cmd in ("status", "metrics"):
            r = ctl("-c", self.conf, cmd, "--json")
            self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
            off = load(r)
            self.assertFalse(off["running"])
            self.assertEqual(sorted(set(off) - {"next_seq"}), sorted(rec), cmd)
            self.assertEqual((off["first_ack_mono_ms"], off["last_ack_mono_ms"]), (None, None))
        r = ctl("-c", self.conf, "metrics")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("\nfieldgate_up 0\n", "\n" + r.stdout)
        r = ctl("-c", self.conf, "metrics", "--prometheus")
        self.assertEqual(r.returncode, 2)

    def test_offline_commands_never_say_not_running(self):
        # Whether a daemon runs or not, check-config, decode and rules test answer 0 or 1.
        readings = os.path.join(self.dir, "readings.jsonl")
        with open(readings, "w") as f:
            f.write('{"source":"sim","device":"sim-0001","quantity":"temperature",'
                    '"value":21.5,"unit":"Cel","time_ms":1700000000000}\n')
        for running in (False, True):
            if running:
                self.start_daemon()
            r = ctl("check-config", "--json", self.conf)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertEqual(load(r), {"file": self.conf, "ok": True, "findings": []})
            r = ctl("decode", "lorawan", "--json", "--config", self.conf, JOIN_REQUEST)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertTrue(load(r)["mic_ok"])
            r = ctl("decode", "ble", "--json", "--service-data", "fcd2:4002c40903bf13")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertEqual(load(r)["format"], "bthome")
            r = ctl("rules", "test", "--json", "--config", self.conf, readings)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            lines = [json.loads(line) for line in r.stdout.splitlines()]
            self.assertEqual(lines[-1]["type"], "summary")
            self.assertEqual(lines[-1]["readings"], 1)
            pubs = [x for x in lines if x["type"] == "publish"]
            self.assertEqual(pubs[0]["topic"], "fieldgate/itest/sim/sim-0001")
            self.assertIsInstance(pubs[0]["payload"], list)  # SenML, as JSON, not a string

    def test_check_config_json_findings(self):
        bad = os.path.join(self.dir, "bad.conf")
        with open(bad, "w") as f:
            f.write("gateway = {\n  id = \"gw1\";\n  log_levl = \"debug\";\n};\n")
        r = ctl("check-config", "--json", bad)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "")
        self.assertEqual(load(r), {"file": bad, "ok": False, "findings": [
            {"file": bad, "line": 3, "setting": "gateway.log_levl", "severity": "error",
             "message": "unknown setting, did you mean 'gateway.log_level'?"}]})

    def test_usage_errors_are_2(self):
        for args in (["devices", "--bogus"], ["buffer", "extra"], ["check-config", "--x"],
                     ["decode", "lorawan", "--json"], ["rules", "test", "--json"]):
            self.assertEqual(ctl("-c", self.conf, *args).returncode, 2, args)


class DecodeJoinTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempdir()
        self.conf = os.path.join(self.tmp.name, "fieldgate.conf")
        with open(self.conf, "w") as f:
            f.write(f'gateway = {{ state_dir = "{self.tmp.name}"; }};\n' + LORAWAN)
        os.chmod(self.conf, 0o600)

    def tearDown(self):
        self.tmp.cleanup()

    def decode(self, *args):
        return ctl("decode", "lorawan", *args)

    def test_join_request_fields_and_mic_with_the_configured_key(self):
        r = self.decode("--config", self.conf, JOIN_REQUEST)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout, "frame: 23 bytes\nmtype: join-request (0)\nmajor: 0\n"
                                   "join_eui: 70b3d57ed00000dc\ndev_eui: 00afee7cf5ed6f1e\n"
                                   "dev_nonce: 52357 (0xcc85)\ndevice: node (codec raw)\n"
                                   "mic: 587fe913 ok\n")
        r = self.decode("--json", "--config", self.conf, JOIN_REQUEST)
        self.assertEqual(r.returncode, 0)
        self.assertEqual(load(r), {
            "length": 23, "refused": None, "mtype": "join-request", "major": 0,
            "join_eui": "70b3d57ed00000dc", "dev_eui": "00afee7cf5ed6f1e", "dev_nonce": 0xcc85,
            "device": {"name": "node", "dev_eui": "00afee7cf5ed6f1e", "codec": "raw"},
            "mic": "587fe913", "mic_ok": True})

    def test_join_request_bad_mic_exits_1(self):
        r = self.decode("--config", self.conf, BAD_REQUEST)
        self.assertEqual(r.returncode, 1)
        self.assertIn("mic: 587fe914 BAD", r.stdout)
        r = self.decode("--json", "--app-key", "00" * 16, JOIN_REQUEST)
        self.assertEqual(r.returncode, 1)
        self.assertFalse(load(r)["mic_ok"])
        # No key at all: not checked, and not a success either.
        r = self.decode("--json", "--config", os.path.join(SRCDIR, "conf", "fieldgate.conf"),
                        JOIN_REQUEST)
        self.assertEqual(r.returncode, 1)
        self.assertIsNone(load(r)["mic_ok"])

    def test_join_accept_opened_by_each_otaa_key_in_turn(self):
        r = self.decode("--config", self.conf, JOIN_ACCEPT)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("device: node (dev_eui 00afee7cf5ed6f1e, codec raw)\n", r.stdout)
        for line in ("join_nonce: 15009338 (0xe5063a)", "net_id: 000013", "dev_addr: 26012e43",
                     "dl_settings: rx1_dr_offset 0, rx2_dr 3", "rx_delay: 1 (1 s)",
                     "cflist: 184f84e85684b85e84886684586e8400", "mic: 55121de0 ok"):
            self.assertIn(line + "\n", r.stdout)
        r = self.decode("--json", "--app-key", APP_KEY, JOIN_ACCEPT)
        self.assertEqual(r.returncode, 0)
        self.assertEqual(load(r), {
            "length": 33, "refused": None, "mtype": "join-accept", "major": 0, "device": None,
            "join_nonce": 0xe5063a, "net_id": "000013", "dev_addr": "26012e43",
            "rx1_dr_offset": 0, "rx2_dr": 3, "rx_delay": 1,
            "cflist": "184f84e85684b85e84886684586e8400", "mic": "55121de0", "mic_ok": True})

    def test_join_accept_bad_mic_or_wrong_device_exits_1(self):
        r = self.decode("--config", self.conf, BAD_ACCEPT)
        self.assertEqual(r.returncode, 1)
        self.assertIn("mic: BAD", r.stdout)
        self.assertNotIn("join_nonce", r.stdout)
        # --dev-eui picks the device: another's key does not open it.
        r = self.decode("--json", "--config", self.conf, "--dev-eui", "0004A30B001C0530",
                        JOIN_ACCEPT)
        self.assertEqual(r.returncode, 1)
        doc = load(r)
        self.assertFalse(doc["mic_ok"])
        self.assertIsNone(doc["join_nonce"])
        r = self.decode("--config", self.conf, "--dev-eui", "00AFEE7CF5ED6F1E", JOIN_ACCEPT)
        self.assertEqual(r.returncode, 0, r.stdout)


@unittest.skipIf(available(), available())
class DevicesBleTest(DaemonTestCase):
    """BLE devices as BlueZ (python3-dbusmock) reports them: configured and strangers."""

    def setUp(self):
        super().setUp()
        self.bus = PrivateBus(self.dir)
        self.bluez = FakeBluez(self.bus, self.dir)
        self.broker = Broker(self.dir)
        self.broker.start()
        self.sub = Subscriber(self.broker.port, topic="fieldgate/itest/ble/#")

    def tearDown(self):
        super().tearDown()
        self.bluez.stop()
        self.bus.stop()

    def test_configured_and_heard_ble_devices(self):
        porch_mac, stranger_mac = "A4:C1:38:00:11:22", "11:22:33:44:55:66"
        self.bluez.start()
        self.bluez.add_adapter()
        porch = self.bluez.add_device(porch_mac, "ATC_001122")
        stranger = self.bluez.add_device(stranger_mac, "bthome")
        self.write_conf(f"""
gateway = {{ id = "itest"; state_dir = "{self.dir}"; runtime_dir = "{self.dir}";
  trust_system_clock = true; }};
{mqtt_block(self.broker.port)}
sources = {{ ble = {{ enabled = true; adapter = "hci0"; mode = "active"; bus = "{self.bus.address}"; }};
            sim = {{ enabled = true; devices = 1; interval_ms = 100; seed = 1; }}; }};
ble = {{ unknown = "decode"; min_interval = 0;
  devices = ( {{ name = "porch"; address = "{porch_mac}"; codec = "atc1441"; }} ); }};
""")
        self.start_daemon()
        self.daemon.wait_stderr("scanning actively (discovery) on 'hci0'", 10)
        atc = bytes.fromhex("a4c138001122" "00d7" "2d" "57" "0b86" "01")
        self.bluez.advertise(porch, service_data={0x181A: atc}, rssi=-61)
        self.bluez.advertise(stranger, service_data={0xFCD2: bytes.fromhex("4002c40903bf13")},
                             rssi=-70)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            r = ctl("-c", self.conf, "devices", "--json")
            self.assertEqual(r.returncode, 0, r.stderr)
            devs = {d["name"]: d for d in load(r)["devices"]}
            if devs["porch"]["readings"] and stranger_mac in devs:
                break
            time.sleep(0.1)
        self.assertEqual(list(devs), ["porch", stranger_mac, "sim-0001"])
        porch_d, stranger_d = devs["porch"], devs[stranger_mac]
        self.assertEqual((porch_d["configured"], porch_d["rssi"], porch_d["format"]),
                         (True, -61, "atc1441"))
        self.assertEqual(porch_d["readings"], 4)  # temperature, humidity, battery, voltage
        self.assertEqual((stranger_d["configured"], stranger_d["id"], stranger_d["rssi"],
                          stranger_d["format"], stranger_d["readings"]),
                         (False, "112233445566", -70, "bthome", 2))
        for d in devs.values():
            self.assertEqual(list(d), DEVICE_KEYS)


if __name__ == "__main__":
    unittest.main(verbosity=2)
