#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""OTAA over GWMP, end to end: a test packet forwarder (pktfwd.py) pulls, sends
a JoinRequest (built by tests/tools/mkframe), receives the PULL_RESP with the
JoinAccept, reads it as the device would, then sends uplinks with the new
session that arrive as readings at a real mosquitto subscriber; a confirmed
uplink is acknowledged; the session survives a restart; a reused DevNonce is
refused; TX_ACK errors are counted."""
import base64
import json
import os
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker import Broker, Subscriber, free_port  # noqa: E402
from fgtest import BUILDDIR, FIELDGATECTL, Daemon, NotifySocket, run, tempdir  # noqa: E402
from pktfwd import PacketForwarder, rxpk  # noqa: E402

MKFRAME = os.path.join(BUILDDIR, "tests", "tools", "mkframe")
APP_KEY = "2B7E151628AED2A6ABF7158809CF4F3C"
DEV_EUI = "70B3D57ED0000042"
JOIN_EUI = "70B3D57ED0000000"
GATEWAY = "AA555A0000000001"
TMST = 3512348611


def mkframe(*args):
    out = subprocess.run([MKFRAME, *map(str, args)], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def config(state, gwmp_port, broker_port):
    return f"""
gateway = {{ id = "itest"; state_dir = "{state}"; runtime_dir = "{state}";
  log_level = "info"; trust_system_clock = true; }};
buffer = {{ commit_interval_ms = 50; }};
mqtt = {{ host = "127.0.0.1"; port = {broker_port}; stats_interval = 0; }};
sources = {{ gwmp = {{ enabled = true; listen = "127.0.0.1:{gwmp_port}"; }}; }};
lorawan = {{
  region = "EU868";
  net_id = 0x000013;
  devices = ( {{ name = "door-1"; dev_eui = "{DEV_EUI}"; join_eui = "{JOIN_EUI}";
                 app_key = "{APP_KEY}"; codec = "cayenne"; }} );
}};
"""


class OtaaTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempdir()
        self.dir = self.tmp.name
        self.conf = os.path.join(self.dir, "fieldgate.conf")
        self.notify = NotifySocket(self.dir)
        self.broker = Broker(self.dir)
        self.broker.start()
        self.sub = Subscriber(self.broker.port, topic="fieldgate/itest/lora/#")
        self.port = free_port()
        self.daemon = None
        self.fwd = None

    def tearDown(self):
        if self.daemon:
            self.daemon.kill()
        if self.fwd:
            self.fwd.close()
        self.sub.stop()
        self.broker.stop()
        self.notify.close()
        self.tmp.cleanup()

    def start(self):
        with open(self.conf, "w") as f:
            f.write(config(self.dir, self.port, self.broker.port))
        os.chmod(self.conf, 0o600)
        if self.daemon:
            self.daemon.kill()  # the one a restart stopped: its pipes
        self.daemon = Daemon(self.conf, notify=self.notify, dry_run=False)
        self.notify.wait_for("READY=1")
        self.daemon.wait_stderr("listening for a packet forwarder", 10)
        if not self.fwd:
            self.fwd = PacketForwarder("127.0.0.1", self.port, GATEWAY)
        self.assertIsNotNone(self.fwd.pull(), "no PULL_ACK")

    def status(self):
        return json.loads(run([FIELDGATECTL, "-c", self.conf, "status", "--json"]).stdout)

    def join(self, nonce):
        """A JoinRequest heard at SF7 on 868.1 MHz; the (token, txpk) of the answer or None."""
        phy = bytes.fromhex(mkframe("join", APP_KEY, JOIN_EUI, DEV_EUI, nonce))
        self.assertIsNotNone(self.fwd.push([rxpk(phy, tmst=TMST, freq=868.1,
                                                 datr="SF7BW125")]))
        return self.fwd.wait_pull_resp(timeout=5)

    def uplink(self, session, fcnt, payload, confirmed=False, freq=868.3):
        addr, nwk, app = session
        args = [nwk, app, addr, fcnt, 2, payload] + (["confirmed"] if confirmed else [])
        phy = bytes.fromhex(mkframe(*args))
        self.assertIsNotNone(self.fwd.push([rxpk(phy, tmst=TMST + 10_000_000, freq=freq,
                                                 datr="SF9BW125")]))

    def test_a_device_joins_and_its_readings_arrive(self):
        self.start()
        answer = self.join(0x0101)
        self.assertIsNotNone(answer, self.daemon.stderr())
        token, txpk = answer
        # RX1 of EU868: 5 s after the request, its frequency and data rate, inverted polarity.
        self.assertEqual(txpk["tmst"], TMST + 5_000_000)
        self.assertFalse(txpk["imme"])
        self.assertAlmostEqual(txpk["freq"], 868.1)
        self.assertEqual(txpk["datr"], "SF7BW125")
        self.assertEqual(txpk["codr"], "4/5")
        self.assertTrue(txpk["ipol"])
        # 33 bytes: the JoinAccept carries a CFList, the plan's five other channels
        # 867.1 .. 867.9 MHz (100 Hz units, 24 bits little-endian), CFListType 0.
        self.assertEqual(txpk["size"], 33)
        accept = base64.b64decode(txpk["data"]).hex()
        addr, nwk, app, rx1, rx2, delay = mkframe("accept", APP_KEY, 0x0101, accept).split()
        cflist = bytes.fromhex(mkframe("cflist", APP_KEY, accept))
        self.assertEqual([int.from_bytes(cflist[i:i + 3], "little") * 100
                          for i in range(0, 15, 3)],
                         [867_100_000, 867_300_000, 867_500_000, 867_700_000, 867_900_000])
        self.assertEqual(cflist[15], 0)
        self.assertEqual(int(addr, 16) >> 25, 0x13)  # NetID 0x13, type 0
        self.assertEqual((rx1, rx2, delay), ("0", "0", "1"))
        self.fwd.tx_ack(token)
        session = (addr, nwk, app)
        # Cayenne LPP temperature 27.2 C on channel 1.
        self.uplink(session, 0, "01670110026850")
        self.assertTrue(self.sub.wait(lambda s: len(s.readings()) >= 1, 15), self.daemon.stderr())
        topic, pack = self.sub.readings()[0]
        self.assertEqual(topic, f"fieldgate/itest/lora/{DEV_EUI.lower()}")
        self.assertEqual({r["n"]: r.get("v") for r in pack}["temperature_1"], 27.2)
        # A confirmed uplink is acknowledged. RX1 (868.3 MHz) shares the 868.0-868.6 MHz
        # sub-band with the JoinAccept sent a moment ago, whose 1% duty cycle owes about
        # 7 s of silence: the ACK goes in RX2, 2 s after the uplink, 869.525 MHz SF12.
        self.uplink(session, 1, "016700fa", confirmed=True)
        answer = self.fwd.wait_pull_resp(timeout=5)
        self.assertIsNotNone(answer, self.daemon.stderr())
        self.assertEqual(answer[1]["tmst"], TMST + 10_000_000 + 2_000_000)
        self.assertAlmostEqual(answer[1]["freq"], 869.525)
        self.assertEqual(answer[1]["datr"], "SF12BW125")
        down = base64.b64decode(answer[1]["data"])
        self.assertEqual(down[0] >> 5, 3)  # unconfirmed data down
        self.assertEqual(down[1:5], bytes.fromhex(addr)[::-1])
        self.assertTrue(down[5] & 0x20)  # ACK
        self.fwd.tx_ack(answer[0], "TOO_LATE")
        self.daemon.wait_stderr("door-1: joined as DevAddr " + addr)
        self.daemon.wait_stderr("too-late")
        st = self.status()
        self.assertEqual(st["lora_joins"], 1)
        self.assertEqual(st["lora_acks"], 1)
        self.assertEqual(st["gwmp_pull_resp"], 2)
        self.assertEqual(st["gwmp_tx_errors"]["too-late"], 1)
        self.assertEqual(st["gwmp_tx_errors"]["none"], 1)
        self.assertEqual(st["lora_duty_limited"], 1)

        # A restart: the device keeps its session, and its DevNonce stays used.
        self.daemon.signal(signal.SIGTERM)
        self.assertEqual(self.daemon.wait_exit(5), 0, self.daemon.stderr())
        self.start()
        self.uplink(session, 2, "016700c8")

        def temps():
            # Delivery is at least once: a message acked just before the restart may come
            # again (DESIGN invariant 2); its sequence number tells.
            by_seq = {p[0]["seq"]: p for _, p in self.sub.readings()}
            return [r.get("v") for _, p in sorted(by_seq.items()) for r in p
                    if r["n"] == "temperature_1"]
        self.assertTrue(self.sub.wait(lambda s: len(temps()) >= 3, 15), self.daemon.stderr())
        self.assertEqual(temps(), [27.2, 25.0, 20.0])
        self.assertIsNone(self.join(0x0101))
        self.daemon.wait_stderr("JoinRequest with DevNonce 257, used before")
        self.assertEqual(self.status()["lora_refused"]["devnonce-reused"], 1)

    def test_uplinks_outside_the_channel_plan_are_refused(self):
        self.start()
        token, txpk = self.join(0x0202)
        addr, nwk, app, *_ = mkframe("accept", APP_KEY, 0x0202,
                                     base64.b64decode(txpk["data"]).hex()).split()
        self.fwd.tx_ack(token)
        session = (addr, nwk, app)
        # 869.525 MHz is EU868's RX2, where no device sends: refused, named, counted.
        self.uplink(session, 0, "016700fa", freq=869.525)
        self.daemon.wait_stderr("frame heard on 869.525000 MHz, outside the EU868 channel "
                                "plan: refused (off-plan)")
        # One of the CFList's channels is in the plan; the refused frame spent no counter.
        self.uplink(session, 0, "016700c8", freq=867.9)
        self.assertTrue(self.sub.wait(lambda s: len(s.readings()) >= 1, 15), self.daemon.stderr())
        temps = [r.get("v") for _, p in self.sub.readings() for r in p
                 if r["n"] == "temperature_1"]
        self.assertEqual(temps, [20.0])
        self.assertEqual(self.status()["lora_refused"]["off-plan"], 1)

    def test_fieldgatectl_devices_lists_the_device_and_its_counters(self):
        self.start()
        out = run([FIELDGATECTL, "-c", self.conf, "devices"])
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("door-1", out.stdout)
        self.assertIn("not joined", out.stdout)
        token, txpk = self.join(7)
        addr, nwk, app, *_ = mkframe("accept", APP_KEY, 7,
                                     base64.b64decode(txpk["data"]).hex()).split()
        self.uplink((addr, nwk, app), 41, "016700fa")
        self.assertTrue(self.sub.wait(lambda s: len(s.readings()) >= 1, 15), self.daemon.stderr())
        devices = json.loads(run([FIELDGATECTL, "-c", self.conf, "devices", "--json"]).stdout)
        door = [d for d in devices["devices"] if d["name"] == "door-1"][0]
        self.assertEqual(door["dev_eui"], DEV_EUI.lower())
        self.assertEqual(door["dev_addr"], addr.lower())
        self.assertTrue(door["joined"])
        self.assertEqual(door["fcnt_up"], 41)
        self.assertEqual(door["fcnt_down"], 0)
        self.assertEqual(door["rssi"], -60)


if __name__ == "__main__":
    unittest.main(verbosity=2)
