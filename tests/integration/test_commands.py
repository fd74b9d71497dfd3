#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Commands from the cloud, end to end: a real mosquitto, commands published
with mosquitto_pub, the real fieldgated with its SQLite buffer, the test
packet forwarder (pktfwd.py) as the radio, and the tests' own LoRaWAN end
device (lwdevice.py, checked by test_lwdevice.py) opening every downlink:
MIC over the 32-bit FCntDown, decryption with the AppSKey, FOpts.

Each test reads the outcome messages on fieldgate/itest/event/command and
checks their shape: the keys of an outcome, seq increasing, and every
command ending in exactly one end outcome (after at most one "queued")."""
import base64
import json
import os
import re
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lwdevice as lw  # noqa: E402
from broker import Broker, Subscriber, free_port  # noqa: E402
from fgtest import FIELDGATECTL, FIELDGATED, SRCDIR, Daemon, NotifySocket, run, tempdir  # noqa: E402
from pktfwd import PacketForwarder, rxpk  # noqa: E402

GATEWAY = "AA555A0000000001"
PREFIX = "fieldgate/itest/command/"
EVENTS = "fieldgate/itest/event/command"

APP_KEY = "2B7E151628AED2A6ABF7158809CF4F3C"
DOOR_EUI = "70B3D57ED0000042"  # OTAA, class A
JOIN_EUI = "70B3D57ED0000000"
SOIL = ("26011BDA", "9A2F3C4D5E6F708192A3B4C5D6E7F801", "1F2E3D4C5B6A79880796A5B4C3D2E1F0")
SOIL_EUI = "70B3D57ED0000001"  # ABP, class A, cayenne
VALVE = ("26011BDB", "0A2F3C4D5E6F708192A3B4C5D6E7F802", "0F2E3D4C5B6A79880796A5B4C3D2E1F2")
VALVE_EUI = "70B3D57ED0000002"  # ABP, class C
VALVE2 = ("26011BDD", "1A2F3C4D5E6F708192A3B4C5D6E7F803", "1F2E3D4C5B6A79880796A5B4C3D2E1F3")
VALVE2_EUI = "70B3D57ED0000004"  # ABP, class C, not heard yet
METER = ("26011BDC", "2A2F3C4D5E6F708192A3B4C5D6E7F804", "2F2E3D4C5B6A79880796A5B4C3D2E1F4")
METER_EUI = "70B3D57ED0000003"  # ABP, class A, raw codec, one downlink a day

OUTCOME_KEYS = {"id", "outcome", "reason", "detail", "device", "f_cnt_down", "time_ms", "seq"}
ENDS = {"sent", "ack", "nack", "expired", "failed"}
T0 = 1_000_000_000  # concentrator time (us) of the first uplink of a test
CAYENNE = bytes.fromhex("01670110")  # temperature 27.2 C on channel 1


def config(state, gwmp_port, broker_port, commands="", lorawan="", mqtt="", region="EU868"):
    return f"""
gateway = {{ id = "itest"; state_dir = "{state}"; runtime_dir = "{state}";
  log_level = "info"; trust_system_clock = true; }};
buffer = {{ commit_interval_ms = 50; }};
mqtt = {{ host = "127.0.0.1"; port = {broker_port}; stats_interval = 0; {mqtt} }};
sources = {{ gwmp = {{ enabled = true; listen = "127.0.0.1:{gwmp_port}"; }}; }};
commands = {{
  enabled = true;
  allow_insecure = true;   # the test broker is plain and takes anyone
  gpio = ( {{ name = "valve"; chip = "sim"; line = 17; initial = 0; max_pulse_ms = 5000; }} );
  {commands}
}};
lorawan = {{
  region = "{region}";
  net_id = 0x000013;
  confirmed_retries = 2;
  {lorawan}
  devices = (
    {{ name = "door-1"; dev_eui = "{DOOR_EUI}"; join_eui = "{JOIN_EUI}"; app_key = "{APP_KEY}";
       codec = "cayenne"; }},
    {{ name = "soil-1"; dev_eui = "{SOIL_EUI}"; dev_addr = "{SOIL[0]}"; nwk_s_key = "{SOIL[1]}";
       app_s_key = "{SOIL[2]}"; codec = "cayenne"; }},
    {{ name = "valve-1"; dev_eui = "{VALVE_EUI}"; dev_addr = "{VALVE[0]}"; nwk_s_key = "{VALVE[1]}";
       app_s_key = "{VALVE[2]}"; codec = "cayenne"; class = "C"; }},
    {{ name = "valve-2"; dev_eui = "{VALVE2_EUI}"; dev_addr = "{VALVE2[0]}";
       nwk_s_key = "{VALVE2[1]}"; app_s_key = "{VALVE2[2]}"; codec = "cayenne"; class = "C"; }},
    {{ name = "meter-1"; dev_eui = "{METER_EUI}"; dev_addr = "{METER[0]}"; nwk_s_key = "{METER[1]}";
       app_s_key = "{METER[2]}"; codec = "raw"; max_downlinks_per_day = 1; }}
  );
}};
"""


def abp(session):
    return lw.Device.abp(*session)


class CommandsCase(unittest.TestCase):
    """A broker, an outcome subscriber, a packet forwarder; the daemon on demand."""

    def setUp(self):
        self.tmp = tempdir()
        self.dir = self.tmp.name
        self.conf = os.path.join(self.dir, "fieldgate.conf")
        self.notify = NotifySocket(self.dir)
        self.broker = Broker(self.dir)
        self.broker.start()
        self.sub = Subscriber(self.broker.port, topic=EVENTS, client_id="itest-events")
        self.port = free_port()
        self.daemon = None
        self.fwd = None
        self.tmst = T0
        self.extra = []

    def tearDown(self):
        if self.daemon:
            self.daemon.kill()
        if self.fwd:
            self.fwd.close()
        for p in self.extra:
            p.stop()
        self.sub.stop()
        self.broker.stop()
        self.notify.close()
        self.tmp.cleanup()

    # ---------------------------------------------------------------- the daemon

    def start(self, **kw):
        if not os.path.exists(self.conf) or kw:
            with open(self.conf, "w") as f:
                f.write(config(self.dir, self.port, self.broker.port, **kw))
            os.chmod(self.conf, 0o600)
        if self.daemon:
            self.daemon.kill()  # the one stopped before: its pipes
        self.daemon = Daemon(self.conf, notify=self.notify, dry_run=False)
        self.notify.wait_for("READY=1")
        self.daemon.wait_stderr("listening for a packet forwarder", 10)
        if not self.fwd:
            self.fwd = PacketForwarder("127.0.0.1", self.port, GATEWAY)
        self.assertIsNotNone(self.fwd.pull(), "no PULL_ACK")
        return self.daemon

    def stop(self):
        self.daemon.signal(signal.SIGTERM)
        self.assertEqual(self.daemon.wait_exit(10), 0, self.daemon.stderr())

    def alive(self):
        self.assertIsNone(self.daemon.proc.poll(), self.daemon.stderr())

    def ctl(self, *args):
        return run([FIELDGATECTL, "-c", self.conf, *args])

    # ---------------------------------------------------------------- commands and outcomes

    def publish(self, kind, body, v5=(), qos=1):
        """mosquitto_pub of one command (dict: as JSON; str/bytes as they are)."""
        if isinstance(body, dict):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        r = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.broker.port),
                            "-q", str(qos), "-t", PREFIX + kind, "-s", *v5], input=body,
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)

    def push(self, cid, device, data, f_port=2, kind="down/push", **more):
        self.publish(kind, {"id": cid, "device": device, "f_port": f_port, "data": data.hex(),
                            **more})

    def outcomes(self):
        """Outcome messages in first-arrival order, duplicates (same seq) left out."""
        self.sub.pump()
        seen, out = set(), []
        for topic, payload in self.sub.messages:
            if topic != EVENTS:
                continue
            o = json.loads(payload)
            if o.get("seq") in seen:
                continue
            seen.add(o.get("seq"))
            out.append(o)
        return out

    def of(self, cid):
        return [o for o in self.outcomes() if o.get("id") == cid]

    def wait_outcome(self, cid, outcome, timeout=10.0):
        """The first outcome `outcome` of command cid."""
        def has(_):
            return any(o["outcome"] == outcome for o in self.of(cid))
        ok = self.sub.wait(has, timeout)
        self.assertTrue(ok, f"no {outcome!r} for {cid!r} within {timeout}s; outcomes "
                            f"{self.outcomes()}; stderr: {self.daemon.stderr()[-3000:]}")
        return [o for o in self.of(cid) if o["outcome"] == outcome][0]

    def wait_end(self, cid, timeout=10.0):
        ok = self.sub.wait(lambda _: any(o["outcome"] in ENDS for o in self.of(cid)), timeout)
        self.assertTrue(ok, f"no end for {cid!r}; outcomes {self.outcomes()}; stderr: "
                            f"{self.daemon.stderr()[-3000:]}")
        return [o for o in self.of(cid) if o["outcome"] in ENDS][0]

    def check_outcomes(self):
        """Every outcome well formed, seq increasing, one end per command (after at most
        one queued, which comes first); returns the outcomes."""
        outs = self.outcomes()
        seqs = [o["seq"] for o in outs]
        self.assertEqual(seqs, sorted(seqs), outs)
        self.assertEqual(len(seqs), len(set(seqs)))
        by_id = {}
        for o in outs:
            self.assertLessEqual(set(o), OUTCOME_KEYS, o)
            self.assertIn("outcome", o)
            self.assertIn("id", o)
            self.assertIsInstance(o["seq"], int)
            self.assertIn(o["outcome"], ENDS | {"queued"}, o)
            if o["outcome"] == "failed":
                self.assertIsInstance(o.get("reason"), str, o)
                self.assertTrue(o["reason"])
            else:
                self.assertNotIn("reason", o, o)
            if o["id"] is not None:
                by_id.setdefault(o["id"], []).append(o["outcome"])
        for cid, seq in by_id.items():
            ends = [x for x in seq if x in ENDS]
            self.assertLessEqual(len(ends), 1, f"{cid}: {seq}")
            self.assertLessEqual(seq.count("queued"), 1, f"{cid}: {seq}")
            if "queued" in seq:
                self.assertEqual(seq[0], "queued", f"{cid}: {seq}")
            if ends:
                self.assertEqual(seq[-1], ends[0], f"{cid}: {seq}")
        return outs

    # ---------------------------------------------------------------- the radio side

    def uplink(self, dev, payload=CAYENNE, f_port=2, freq=868.1, datr="SF7BW125", lsnr=9.5,
               gap_s=10, **kw):
        """An uplink of dev heard by the forwarder; its concentrator time (tmst)."""
        self.tmst += gap_s * 1_000_000
        phy = dev.uplink(payload, f_port=f_port, **kw)
        self.assertIsNotNone(self.fwd.push([rxpk(phy, tmst=self.tmst, freq=freq, datr=datr,
                                                 lsnr=lsnr)]), "no PUSH_ACK")
        return self.tmst

    def down(self, timeout=5.0, tx_ack=True):
        """The next PULL_RESP: (txpk, PHYPayload bytes); TX_ACKed (no error)."""
        got = self.fwd.wait_pull_resp(timeout=timeout)
        self.assertIsNotNone(got, f"no PULL_RESP within {timeout}s; stderr: "
                                  f"{self.daemon.stderr()[-3000:]}")
        token, txpk = got
        if tx_ack:
            self.fwd.tx_ack(token)
        return txpk, base64.b64decode(txpk["data"])

    def no_down(self, timeout=2.0):
        got = self.fwd.wait_pull_resp(timeout=timeout)
        self.assertIsNone(got, f"unexpected PULL_RESP {got}")

    def assert_rx1(self, txpk, tmst, freq, datr, delay_s=1):
        self.assertEqual(txpk["tmst"], tmst + delay_s * 1_000_000, txpk)
        self.assertFalse(txpk.get("imme", False), txpk)
        self.assertAlmostEqual(txpk["freq"], freq)
        self.assertEqual(txpk["datr"], datr)
        self.assertTrue(txpk["ipol"])

    def assert_rx2(self, txpk, tmst, delay_s=1):
        self.assertEqual(txpk["tmst"], tmst + (delay_s + 1) * 1_000_000, txpk)
        self.assertAlmostEqual(txpk["freq"], 869.525)
        self.assertEqual(txpk["datr"], "SF12BW125")
        self.assertTrue(txpk["ipol"])

    def join_door(self):
        """door-1 joins (DevNonce 1) on 868.1 MHz; the device, its JoinAccept."""
        dev = lw.Device.otaa(DOOR_EUI, JOIN_EUI, APP_KEY)
        self.tmst += 10_000_000
        self.assertIsNotNone(self.fwd.push([rxpk(dev.join_request(1), tmst=self.tmst,
                                                 freq=868.1, datr="SF7BW125")]))
        txpk, phy = self.down()
        self.assertEqual(txpk["tmst"], self.tmst + 5_000_000)
        return dev, dev.accept(phy)


class ClassA(CommandsCase):
    def test_class_a_downlink_in_rx1_after_the_next_uplink(self):
        self.start()
        dev, ja = self.join_door()
        # The JoinAccept carries the EU868 plan's extra channels (CFList type 0).
        self.assertEqual(ja.cflist, {"type": 0, "freqs_hz": [867100000, 867300000, 867500000,
                                                             867700000, 867900000]})
        # Named by DevEUI (lower case is as good): queued, nothing sent before an uplink.
        self.push("a-1", DOOR_EUI.lower(), b"\x01\x02\x03\x04", f_port=10)
        queued = self.wait_outcome("a-1", "queued")
        self.assertEqual(queued["device"], DOOR_EUI.lower())
        self.no_down(1.5)
        # The uplink on 867.1 MHz (the JoinAccept spent 868.1's sub-band): RX1 there,
        # 1 s later (RxDelay 1 of the JoinAccept), DR5 = SF7BW125 (RX1DROffset 0).
        tmst = self.uplink(dev, freq=867.1)
        txpk, phy = self.down()
        self.assert_rx1(txpk, tmst, 867.1, "SF7BW125", ja.rx_delay)
        d = dev.open_downlink(phy)
        self.assertFalse(d.confirmed)
        self.assertEqual((d.f_port, d.payload), (10, b"\x01\x02\x03\x04"))
        self.assertFalse(d.fpending)
        self.assertFalse(d.ack)
        sent = self.wait_outcome("a-1", "sent")
        self.assertEqual(sent["f_cnt_down"], d.fcnt)
        self.assertIsInstance(sent.get("time_ms", 0), int)
        self.check_outcomes()

    def test_class_a_abp_device_by_devaddr_and_name_with_codec_objects(self):
        self.start()
        # The ABP device, named by DevAddr, heard at SF9 on 868.5 MHz: RX1 at SF9 there.
        soil = abp(SOIL)
        self.push("a-2", SOIL[0], b"\xAA", f_port=1)
        self.wait_outcome("a-2", "queued")
        tmst = self.uplink(soil, freq=868.5, datr="SF9BW125")
        txpk, phy = self.down()
        self.assert_rx1(txpk, tmst, 868.5, "SF9BW125")
        self.assertEqual(soil.open_downlink(phy).payload, b"\xAA")
        self.wait_outcome("a-2", "sent")
        # An object through the device's codec (Cayenne LPP digital output on 3).
        self.publish("down/push", {"id": "a-3", "device": "soil-1", "f_port": 3,
                                   "object": {"digital_output_3": 1}})
        self.wait_outcome("a-3", "queued")
        self.uplink(soil, freq=867.3)
        txpk, phy = self.down()
        self.assertEqual(soil.open_downlink(phy).payload, bytes([3, 0x01, 1]))
        self.wait_outcome("a-3", "sent")
        # data_base64 is taken too.
        self.publish("down/push", {"id": "a-4", "device": "soil-1", "f_port": 4,
                                   "data_base64": base64.b64encode(b"hello").decode()})
        self.wait_outcome("a-4", "queued")
        self.uplink(soil, freq=868.3, gap_s=60)
        txpk, phy = self.down()
        self.assertEqual(soil.open_downlink(phy).payload, b"hello")
        self.wait_outcome("a-4", "sent")
        self.check_outcomes()

    def test_push_appends_and_replace_clears_the_queue_first(self):
        self.start()
        soil = abp(SOIL)
        self.push("p-1", "soil-1", b"\x01")
        self.push("p-2", "soil-1", b"\x02")
        self.wait_outcome("p-2", "queued")
        self.push("r-1", "soil-1", b"\x03", kind="down/replace")
        for cid in ("p-1", "p-2"):
            end = self.wait_end(cid)
            self.assertEqual((end["outcome"], end["reason"]), ("failed", "replaced"))
        self.wait_outcome("r-1", "queued")
        self.uplink(soil)
        txpk, phy = self.down()
        d = soil.open_downlink(phy)
        self.assertEqual(d.payload, b"\x03")
        self.assertFalse(d.fpending)
        self.wait_outcome("r-1", "sent")
        self.uplink(soil, freq=867.1)
        self.no_down()
        self.check_outcomes()

    def test_fpending_while_more_is_queued(self):
        self.start()
        soil = abp(SOIL)
        self.push("f-1", "soil-1", b"\x11")
        self.push("f-2", "soil-1", b"\x22")
        self.wait_outcome("f-2", "queued")
        self.uplink(soil)
        _, phy = self.down()
        d = soil.open_downlink(phy)
        self.assertEqual(d.payload, b"\x11")
        self.assertTrue(d.fpending)
        self.wait_outcome("f-1", "sent")
        self.assertEqual(self.of("f-2")[-1]["outcome"], "queued")
        self.uplink(soil, freq=867.1)
        _, phy = self.down()
        d2 = soil.open_downlink(phy)
        self.assertEqual(d2.payload, b"\x22")
        self.assertFalse(d2.fpending)
        self.assertEqual(d2.fcnt, d.fcnt + 1)
        self.wait_outcome("f-2", "sent")
        self.check_outcomes()

    def test_priority_goes_first(self):
        self.start()
        soil = abp(SOIL)
        self.push("low", "soil-1", b"\x01", priority="LOW")
        self.push("high", "soil-1", b"\x02", priority=6)
        self.wait_outcome("high", "queued")
        self.uplink(soil)
        _, phy = self.down()
        self.assertEqual(soil.open_downlink(phy).payload, b"\x02")
        self.wait_outcome("high", "sent")
        self.check_outcomes()

    def test_confirmed_downlink_acknowledged(self):
        self.start()
        soil = abp(SOIL)
        self.push("c-1", "soil-1", b"\xC1", confirmed=True)
        self.wait_outcome("c-1", "queued")
        self.uplink(soil)
        _, phy = self.down()
        d = soil.open_downlink(phy)
        self.assertTrue(d.confirmed)
        self.assertEqual(d.payload, b"\xC1")
        self.no_down(0.5)
        self.assertEqual(self.of("c-1")[-1]["outcome"], "queued")  # not sent: awaiting its ACK
        self.uplink(soil, freq=867.1, ack=True)
        ack = self.wait_outcome("c-1", "ack")
        self.assertEqual(ack["f_cnt_down"], d.fcnt)
        self.check_outcomes()

    def test_confirmed_downlink_without_ack_is_resent_then_nack(self):
        self.start()  # lorawan.confirmed_retries = 2
        soil = abp(SOIL)
        self.push("n-1", "soil-1", b"\xC2", confirmed=True)
        self.wait_outcome("n-1", "queued")
        counts = []
        # Three sends: RX1 on 868.1, RX1 on 867.1 (another sub-band), then RX2 (867.3
        # shares 867.1's sub-band, spent a moment ago).
        for freq in (868.1, 867.1, 867.3):
            tmst = self.uplink(soil, freq=freq)
            txpk, phy = self.down()
            d = soil.open_downlink(phy)
            self.assertTrue(d.confirmed)
            self.assertEqual(d.payload, b"\xC2")
            counts.append(d.fcnt)
            if freq == 867.3:
                self.assert_rx2(txpk, tmst)
        self.assertEqual(counts, [counts[0], counts[0] + 1, counts[0] + 2])  # a new FCntDown each
        self.assertEqual([o["outcome"] for o in self.of("n-1")], ["queued"])
        self.uplink(soil, freq=868.3, gap_s=60)
        nack = self.wait_outcome("n-1", "nack")
        self.assertEqual(nack["f_cnt_down"], counts[-1])
        self.no_down()
        self.check_outcomes()

    def test_expired_before_it_could_be_sent(self):
        self.start()
        soil = abp(SOIL)
        self.push("e-1", "soil-1", b"\xEE", expires=1)
        self.wait_outcome("e-1", "queued")
        future = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        self.push("e-2", "soil-1", b"\xEF", expires=future)
        self.wait_outcome("e-2", "queued")
        time.sleep(2.0)
        self.uplink(soil)
        _, phy = self.down()
        self.assertEqual(soil.open_downlink(phy).payload, b"\xEF")  # the live one, not e-1
        end = self.wait_end("e-1")
        self.assertEqual(end["outcome"], "expired")
        self.wait_outcome("e-2", "sent")
        self.check_outcomes()

    def test_duty_cycle_moves_the_downlink_to_rx2(self):
        self.start()
        soil = abp(SOIL)
        for cid in ("d-1", "d-2"):
            self.push(cid, "soil-1", cid.encode())
        self.wait_outcome("d-2", "queued")
        tmst = self.uplink(soil, freq=868.1)
        txpk, phy = self.down()
        self.assert_rx1(txpk, tmst, 868.1, "SF7BW125")
        self.assertEqual(soil.open_downlink(phy).payload, b"d-1")
        # 868.3 MHz is in the same 1% sub-band (868.0-868.6), spent for some seconds:
        # RX2, 2 s after the uplink, 869.525 MHz SF12 (the 10% sub-band).
        tmst = self.uplink(soil, freq=868.3, gap_s=1)
        txpk, phy = self.down()
        self.assert_rx2(txpk, tmst)
        self.assertEqual(soil.open_downlink(phy).payload, b"d-2")
        self.wait_outcome("d-2", "sent")
        st = json.loads(self.ctl("status", "--json").stdout)
        self.assertGreaterEqual(st["lora_duty_limited"], 1)
        self.check_outcomes()

    def test_daily_budget(self):
        self.start()  # meter-1: max_downlinks_per_day = 1
        meter = abp(METER)
        self.push("b-1", "meter-1", b"\x01")
        self.wait_outcome("b-1", "queued")
        self.push("b-2", "meter-1", b"\x02")
        self.uplink(meter)
        _, phy = self.down()
        self.assertEqual(meter.open_downlink(phy).payload, b"\x01")
        self.wait_outcome("b-1", "sent")
        # The second would be the day's second downlink: refused when queued or at
        # the next chance to send, never sent.
        self.uplink(meter, freq=867.1)
        end = self.wait_end("b-2")
        self.assertEqual((end["outcome"], end["reason"]), ("failed", "daily-budget"))
        self.no_down()
        self.check_outcomes()

    def test_link_check_and_device_time_answered(self):
        self.start()
        soil = abp(SOIL)
        # MAC commands alone: a downlink without FPort, FOpts holding the answers.
        tmst = self.uplink(soil, fopts=lw.LINK_CHECK_REQ + lw.DEVICE_TIME_REQ, lsnr=9.5)
        heard = time.time()
        txpk, phy = self.down()
        self.assert_rx1(txpk, tmst, 868.1, "SF7BW125")
        d = soil.open_downlink(phy)
        self.assertIsNone(d.f_port)
        lc = d.mac_named("LinkCheckAns")
        self.assertEqual(len(lc), 1, d.mac)
        # SNR 9.5 dB at SF7, whose demodulation floor is -7.5 dB: 17 dB of margin.
        self.assertEqual(lc[0].fields, {"margin": 17, "gw_cnt": 1})
        dt = d.mac_named("DeviceTimeAns")
        self.assertEqual(len(dt), 1, d.mac)
        self.assertLess(abs(dt[0].fields["unix"] - heard), 2.0, dt[0].fields)
        # Piggybacked on an application downlink.
        self.push("m-1", "soil-1", b"\x42")
        self.wait_outcome("m-1", "queued")
        self.uplink(soil, freq=867.1, fopts=lw.LINK_CHECK_REQ, lsnr=-2.5)
        _, phy = self.down()
        d = soil.open_downlink(phy)
        self.assertEqual(d.payload, b"\x42")
        self.assertEqual(d.mac_named("LinkCheckAns")[0].fields, {"margin": 5, "gw_cnt": 1})
        self.wait_outcome("m-1", "sent")
        self.check_outcomes()

    def test_queue_full(self):
        self.start(commands="max_queue_per_device = 2;")
        for cid in ("qf-1", "qf-2", "qf-3"):
            self.push(cid, "soil-1", cid.encode())
        self.wait_outcome("qf-2", "queued")
        end = self.wait_end("qf-3")
        self.assertEqual((end["outcome"], end["reason"]), ("failed", "queue-full"))
        self.assertEqual(json.loads(self.ctl("queue", "--json").stdout)["count"], 2)
        # Another device's queue is its own.
        self.push("qf-4", "meter-1", b"\x04")
        self.wait_outcome("qf-4", "queued")
        self.check_outcomes()

    def test_a_rejoin_keeps_the_queue_and_resends_under_the_new_session(self):
        self.start()
        dev, _ = self.join_door()
        self.push("rj-1", "door-1", b"\x01", confirmed=True)
        self.wait_outcome("rj-1", "queued")
        self.uplink(dev, freq=867.1)
        _, phy = self.down()
        self.assertEqual(dev.open_downlink(phy).payload, b"\x01")
        self.push("rj-2", "door-1", b"\x02")
        self.wait_outcome("rj-2", "queued")
        # The device joins again (new DevNonce) before acknowledging: new keys,
        # FCntDown from 0, and the confirmed one is sent again under them.
        old_keys = (dev.nwk_s_key, dev.app_s_key)
        time.sleep(5)  # the 868.0-868.6 MHz sub-band's duty cycle, spent by the JoinAccept
        self.tmst += 10_000_000
        self.assertIsNotNone(self.fwd.push([rxpk(dev.join_request(2), tmst=self.tmst,
                                                 freq=868.3, datr="SF7BW125")]))
        _, phy = self.down()
        dev.accept(phy)
        self.assertNotEqual((dev.nwk_s_key, dev.app_s_key), old_keys)
        self.uplink(dev, freq=867.5)
        _, phy = self.down()
        d = dev.open_downlink(phy)
        self.assertEqual((d.payload, d.confirmed, d.fcnt), (b"\x01", True, 0))
        self.assertTrue(d.fpending)
        time.sleep(5)  # both 1% sub-bands free again: the next downlink goes in RX1
        self.uplink(dev, freq=868.5, ack=True)
        self.wait_outcome("rj-1", "ack")
        _, phy = self.down()
        self.assertEqual(dev.open_downlink(phy).payload, b"\x02")
        self.wait_outcome("rj-2", "sent")
        self.check_outcomes()


class ClassC(CommandsCase):
    def test_class_c_is_sent_at_once_on_rx2_parameters(self):
        self.start()
        valve = abp(VALVE)
        self.uplink(valve)  # heard once: the forwarder is its way back
        self.no_down(1.0)
        self.push("cc-1", "valve-1", b"\x01\x00")
        txpk, phy = self.down()
        self.assertTrue(txpk["imme"], txpk)
        self.assertAlmostEqual(txpk["freq"], 869.525)
        self.assertEqual(txpk["datr"], "SF12BW125")
        self.assertTrue(txpk["ipol"])
        d = valve.open_downlink(phy)
        self.assertEqual((d.f_port, d.payload), (2, b"\x01\x00"))
        self.assertEqual(self.wait_outcome("cc-1", "sent")["f_cnt_down"], d.fcnt)
        self.check_outcomes()

    def test_class_c_without_a_radio_waits_for_an_uplink(self):
        self.start()
        valve = abp(VALVE2)
        self.push("cc-2", "valve-2", b"\x07")
        self.wait_outcome("cc-2", "queued")
        self.no_down(1.5)
        self.assertEqual([o["outcome"] for o in self.of("cc-2")], ["queued"])
        self.uplink(valve)
        _, phy = self.down(timeout=20)
        self.assertEqual(valve.open_downlink(phy).payload, b"\x07")
        self.wait_outcome("cc-2", "sent")
        self.check_outcomes()


class Durability(CommandsCase):
    def probe(self, cid):
        """A GPIO command: ends at once, so its outcome shows the subscription is there."""
        self.publish("gpio", {"id": cid, "gpio": {"name": "valve", "value": 0}})
        self.assertEqual(self.wait_end(cid)["outcome"], "sent")

    def test_command_sent_while_the_daemon_was_offline(self):
        self.start()
        self.probe("probe-1")
        self.stop()
        # The broker keeps the daemon's persistent session and its QoS 1 messages.
        self.push("off-1", "soil-1", b"\x0F")
        time.sleep(0.5)
        self.assertEqual(self.of("off-1"), [])
        self.start()
        self.wait_outcome("off-1", "queued", timeout=15)
        soil = abp(SOIL)
        self.uplink(soil)
        _, phy = self.down()
        self.assertEqual(soil.open_downlink(phy).payload, b"\x0F")
        self.wait_outcome("off-1", "sent")
        self.check_outcomes()

    def test_kill_9_between_accept_and_send(self):
        self.start()
        soil = abp(SOIL)
        # A downlink first, so FCntDown has moved and must survive the kill too.
        self.push("k-0", "soil-1", b"\x00")
        self.wait_outcome("k-0", "queued")
        self.uplink(soil)
        _, phy = self.down()
        first = soil.open_downlink(phy)
        self.wait_outcome("k-0", "sent")
        self.push("k-1", "soil-1", b"\x4B")
        self.wait_outcome("k-1", "queued")
        self.daemon.proc.kill()
        self.daemon.proc.wait()
        self.start()
        self.uplink(soil, freq=867.1)
        _, phy = self.down()
        d = soil.open_downlink(phy)  # a fresh FCntDown, or the MIC/replay check fails
        self.assertEqual(d.payload, b"\x4B")
        self.assertGreater(d.fcnt, first.fcnt)
        self.wait_outcome("k-1", "sent", timeout=15)
        self.uplink(soil, freq=868.3, gap_s=60)
        self.no_down()
        time.sleep(1.0)
        self.assertEqual(sorted(o["outcome"] for o in self.of("k-1")), ["queued", "sent"])
        self.check_outcomes()

    def test_duplicate_id_is_done_once(self):
        self.start()
        soil = abp(SOIL)
        self.push("dup-1", "soil-1", b"\xD1")
        self.push("dup-1", "soil-1", b"\xD2")
        self.wait_outcome("dup-1", "queued")
        self.uplink(soil)
        _, phy = self.down()
        self.assertEqual(soil.open_downlink(phy).payload, b"\xD1")
        self.wait_outcome("dup-1", "sent")
        # Again after it ended (a sender's retry): remembered, not done again.
        self.push("dup-1", "soil-1", b"\xD3")
        self.publish("gpio", {"id": "dup-1", "gpio": {"name": "valve", "value": 1}})
        time.sleep(1.5)
        self.uplink(soil, freq=867.1)
        self.no_down()
        self.assertEqual([o["outcome"] for o in self.of("dup-1")], ["queued", "sent"])
        q = json.loads(self.ctl("queue", "--json").stdout)
        self.assertEqual(q["count"], 0)
        self.check_outcomes()


class Gpio(CommandsCase):
    def test_gpio_on_the_sim_chip(self):
        self.start()
        self.publish("gpio", {"id": "g-1", "gpio": {"name": "valve", "value": 1}})
        self.assertEqual(self.wait_end("g-1")["outcome"], "sent")
        self.assertEqual([o["outcome"] for o in self.of("g-1")], ["sent"])  # no "queued"
        self.daemon.wait_stderr("sim line 17 set to 1")
        self.assertRegex(self.daemon.stderr(), r"sim line 17\D[^\n]*\b1\b")
        mark = len(self.daemon.stderr())
        self.publish("gpio", {"id": "g-2", "gpio": {"chip": "sim", "line": 17, "pulse_ms": 200}})
        self.assertEqual(self.wait_end("g-2")["outcome"], "sent")
        deadline = time.monotonic() + 0.8
        while time.monotonic() < deadline:
            self.daemon.pump(0.05)
        # The pulse: driven 1, and 200 ms later 0.
        lines = [ln for ln in self.daemon.stderr()[mark:].splitlines() if "sim line 17" in ln]
        self.assertGreaterEqual(len(lines), 2, self.daemon.stderr()[mark:])
        self.assertRegex(lines[0], r"\b1\b")
        self.assertRegex(lines[-1], r"\b0\b")
        self.publish("gpio", {"id": "g-3", "gpio": {"chip": "sim", "line": 18, "value": 1}})
        end = self.wait_end("g-3")
        self.assertEqual((end["outcome"], end["reason"]), ("failed", "gpio-undeclared"))
        self.publish("gpio", {"id": "g-4", "gpio": {"name": "valve", "pulse_ms": 60000}})
        end = self.wait_end("g-4")
        self.assertEqual(end["outcome"], "failed")
        self.assertNotIn("sim line 18", self.daemon.stderr())
        self.alive()
        self.check_outcomes()


class Malformed(CommandsCase):
    def test_each_malformed_command_gets_its_reason_and_the_daemon_keeps_running(self):
        self.start(commands="max_size = 1024;")
        cases = [
            ("down/push", '{"id": "x-json", "device": "soil-1", ', None, "malformed"),
            ("down/push", b"\xff\xfe\x00", None, "malformed"),
            ("down/push", '[1, 2, 3]', None, "malformed"),
            ("down/push", {"device": "soil-1", "f_port": 1, "data": "01"}, None, "bad-id"),
            ("down/push", {"id": "", "device": "soil-1", "f_port": 1, "data": "01"}, None,
             "bad-id"),
            ("down/push", {"id": "x" * 65, "device": "soil-1", "f_port": 1, "data": "01"}, None,
             "bad-id"),
            ("down/push", {"id": "x-port0", "device": "soil-1", "f_port": 0, "data": "01"},
             "x-port0", "bad-f-port"),
            ("down/push", {"id": "x-port224", "device": "soil-1", "f_port": 224, "data": "01"},
             "x-port224", "bad-f-port"),
            ("down/push", {"id": "x-nodev", "device": "nobody", "f_port": 1, "data": "01"},
             "x-nodev", "unknown-device"),
            ("down/push", {"id": "x-hex", "device": "soil-1", "f_port": 1, "data": "zz"},
             "x-hex", "bad-data"),
            ("down/push", {"id": "x-both", "device": "soil-1", "f_port": 1, "data": "01",
                           "object": {"digital_output_3": 1}}, "x-both", "bad-data"),
            ("down/push", {"id": "x-none", "device": "soil-1", "f_port": 1}, "x-none", "bad-data"),
            ("down/push", {"id": "x-key", "device": "soil-1", "f_port": 1, "data": "01",
                           "colour": "red"}, "x-key", "bad-field"),
            ("down/push", {"id": "x-prio", "device": "soil-1", "f_port": 1, "data": "01",
                           "priority": 9}, "x-prio", "bad-field"),
            ("down/push", {"id": "x-unjoined", "device": "door-1", "f_port": 1, "data": "01"},
             "x-unjoined", "not-joined"),
            ("down/push", {"id": "x-raw", "device": "meter-1", "f_port": 1,
                           "object": {"a": 1}}, "x-raw", "cannot-encode"),
            ("down/push", {"id": "x-long", "device": "soil-1", "f_port": 1,
                           "data": "00" * 100}, "x-long", "payload-too-long"),
            ("reboot", {"id": "x-topic", "device": "soil-1"}, None, "unknown-command"),
            ("down/push", {"id": "x-big", "device": "soil-1", "f_port": 1, "data": "01",
                           "pad": " " * 2000}, None, "too-large"),
        ]
        for kind, body, _, _ in cases:
            self.publish(kind, body)
        want = {}
        for _, _, cid, reason in cases:
            want[reason] = want.get(reason, 0) + 1
        self.assertTrue(self.sub.wait(lambda _: len(self.outcomes()) >= len(cases), 15),
                        f"{len(self.outcomes())} of {len(cases)} outcomes: {self.outcomes()}; "
                        f"{self.daemon.stderr()[-3000:]}")
        outs = self.outcomes()
        self.assertTrue(all(o["outcome"] == "failed" for o in outs), outs)
        got = {}
        for o in outs:
            got[o["reason"]] = got.get(o["reason"], 0) + 1
        self.assertEqual(got, want)
        for _, _, cid, reason in cases:
            if cid:
                self.assertEqual([(o["outcome"], o["reason"]) for o in self.of(cid)],
                                 [("failed", reason)], cid)
        # Outside the prefix: never acted on.
        r = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.broker.port), "-q",
                            "1", "-t", "fieldgate/other/command/down/push", "-m",
                            json.dumps({"id": "x-other", "device": "soil-1", "f_port": 1,
                                        "data": "01"})], capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0)
        # Still running, still taking good commands.
        self.alive()
        self.push("ok-1", "soil-1", b"\x01")
        self.wait_outcome("ok-1", "queued")
        self.assertEqual(self.of("x-other"), [])
        self.check_outcomes()


class Mqtt5(CommandsCase):
    def test_response_topic_and_correlation_data(self):
        self.start(mqtt='protocol = "v5";')
        replies = Subscriber(self.broker.port, topic="fieldgate/itest/reply/#",
                             client_id="itest-replies", extra=("-V", "5", "-F", "%t\t%D\t%p"))
        self.extra.append(replies)
        time.sleep(0.3)
        v5 = ("-V", "5", "-D", "publish", "response-topic", "fieldgate/itest/reply/app-7",
              "-D", "publish", "correlation-data", "corr-42")
        self.publish("gpio", {"id": "v5-1", "gpio": {"name": "valve", "value": 1}}, v5=v5)
        self.publish("down/push", {"id": "v5-2", "device": "soil-1", "f_port": 1, "data": "5a"},
                     v5=v5[:6] + ("-D", "publish", "correlation-data", "corr-43"))
        self.wait_outcome("v5-2", "queued")
        soil = abp(SOIL)
        self.uplink(soil)
        self.down()
        self.wait_outcome("v5-2", "sent")

        def parsed():
            out = []
            for topic, rest in replies.messages:
                corr, _, payload = rest.partition("\t")
                out.append((topic, corr, json.loads(payload)))
            return out
        self.assertTrue(replies.wait(lambda _: len(parsed()) >= 3, 10), parsed())
        got = {(p["id"], p["outcome"]): (t, c) for t, c, p in parsed()}
        self.assertEqual(got[("v5-1", "sent")], ("fieldgate/itest/reply/app-7", "corr-42"))
        self.assertEqual(got[("v5-2", "queued")], ("fieldgate/itest/reply/app-7", "corr-43"))
        self.assertEqual(got[("v5-2", "sent")], ("fieldgate/itest/reply/app-7", "corr-43"))
        # The same outcomes on the event topic too. Each copy is a message of its own with
        # its own seq (every message the gateway publishes has a unique one), the next
        # after the event topic's, made in the same transaction.
        ev = {(o["id"], o["outcome"]): o["seq"] for o in self.outcomes()}
        for t, c, p in parsed():
            self.assertEqual(ev[(p["id"], p["outcome"])] + 1, p["seq"])
        self.check_outcomes()


class Queue(CommandsCase):
    COMMAND_KEYS = {"id", "device", "kind", "f_port", "size", "confirmed", "priority", "state",
                    "tries", "accepted_ms"}

    def check_shape(self, q, ids):
        self.assertEqual(set(q), {"commands", "count", "truncated"})
        self.assertEqual(q["count"], len(ids))
        self.assertFalse(q["truncated"])
        self.assertEqual([c["id"] for c in q["commands"]], ids)
        for c in q["commands"]:
            self.assertLessEqual(self.COMMAND_KEYS, set(c), c)
            self.assertLessEqual(set(c), self.COMMAND_KEYS | {"f_cnt_down", "expires_ms"}, c)
            self.assertIn(c["state"], ("queued", "awaiting-ack"))
        return {c["id"]: c for c in q["commands"]}

    def test_fieldgatectl_queue_from_the_daemon_and_from_the_file(self):
        self.start()
        before = int(time.time() * 1000)
        self.push("q-1", "soil-1", b"\x01\x02\x03", f_port=7)
        self.push("q-2", "soil-1", b"\x04", confirmed=True, priority="HIGH", expires=3600)
        self.push("q-3", "valve-2", b"\x05")
        for cid in ("q-1", "q-2", "q-3"):
            self.wait_outcome(cid, "queued")
        r = self.ctl("queue", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        by = self.check_shape(json.loads(r.stdout), ["q-2", "q-1", "q-3"])
        self.assertEqual((by["q-1"]["device"], by["q-1"]["kind"], by["q-1"]["f_port"],
                          by["q-1"]["size"], by["q-1"]["confirmed"], by["q-1"]["priority"],
                          by["q-1"]["state"], by["q-1"]["tries"]),
                         ("soil-1", "down/push", 7, 3, False, 3, "queued", 0))
        self.assertEqual((by["q-2"]["confirmed"], by["q-2"]["priority"]), (True, 5))
        self.assertGreaterEqual(by["q-1"]["accepted_ms"], before - 1000)
        self.assertAlmostEqual(by["q-2"]["expires_ms"], before + 3600_000, delta=10_000)
        self.assertNotIn("expires_ms", by["q-1"])
        r = self.ctl("queue", "soil-1", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.check_shape(json.loads(r.stdout), ["q-2", "q-1"])
        text = self.ctl("queue")
        self.assertEqual(text.returncode, 0, text.stderr)
        for cid in ("q-1", "q-2", "q-3"):
            self.assertIn(cid, text.stdout)
        # Sent and awaiting its ACK: state and tries follow.
        soil = abp(SOIL)
        self.uplink(soil)
        _, phy = self.down()
        self.assertEqual(soil.open_downlink(phy).payload, b"\x04")
        q = json.loads(self.ctl("queue", "soil-1", "--json").stdout)
        by = self.check_shape(q, ["q-2", "q-1"])
        self.assertEqual((by["q-2"]["state"], by["q-2"]["tries"]), ("awaiting-ack", 1))
        self.assertIn("f_cnt_down", by["q-2"])
        # Without a daemon: read from the buffer file, exit 3, the same answer.
        self.stop()
        r = self.ctl("queue", "--json")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.check_shape(json.loads(r.stdout), ["q-2", "q-1", "q-3"])
        r = self.ctl("queue", "door-1", "--json")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.check_shape(json.loads(r.stdout), [])


class Us915(CommandsCase):
    def test_sub_band_cflist_link_adr_req_and_off_plan(self):
        self.start(region="US915", lorawan="sub_band = 2;")
        dev = lw.Device.otaa(DOOR_EUI, JOIN_EUI, APP_KEY)
        # Channel 8 (903.9 MHz), the first of sub-band 2, at DR0 (SF10BW125).
        self.tmst += 10_000_000
        self.assertIsNotNone(self.fwd.push([rxpk(dev.join_request(1), tmst=self.tmst,
                                                 freq=903.9, datr="SF10BW125")]))
        txpk, phy = self.down()
        # RX1: 923.3 MHz + 600 kHz * (channel % 8), DR10 (SF10BW500) for DR0, 5 s later.
        self.assertEqual(txpk["tmst"], self.tmst + 5_000_000)
        self.assertAlmostEqual(txpk["freq"], 923.3)
        self.assertEqual(txpk["datr"], "SF10BW500")
        ja = dev.accept(phy)
        # CFList type 1: the channel mask of sub-band 2, channels 8..15 and 65.
        self.assertIsNotNone(ja.cflist, "the JoinAccept has no CFList")
        self.assertEqual(ja.cflist["type"], 1, ja.cflist)
        self.assertEqual(ja.cflist["channels"], set(range(8, 16)) | {65})
        self.push("us-1", "door-1", b"\x55")
        self.wait_outcome("us-1", "queued")
        # Channel 9 (904.1 MHz) at DR3 (SF7BW125): RX1 923.9 MHz, DR13 (SF7BW500).
        tmst = self.uplink(dev, freq=904.1, datr="SF7BW125")
        txpk, phy = self.down()
        self.assert_rx1(txpk, tmst, 923.9, "SF7BW500")
        d = dev.open_downlink(phy)
        self.assertEqual(d.payload, b"\x55")
        adr = d.mac_named("LinkADRReq")
        self.assertGreaterEqual(len(adr), 2, d.mac)
        # First all 125 kHz channels off and the sub-band's 500 kHz channel (65) on,
        # then the 16-channel block holding channels 8..15.
        self.assertEqual((adr[0].fields["ch_mask_cntl"], adr[0].fields["ch_mask"]), (7, 0x0002))
        self.assertEqual((adr[-1].fields["ch_mask_cntl"], adr[-1].fields["ch_mask"]), (0, 0xFF00))
        self.wait_outcome("us-1", "sent")
        # The device takes it: a LinkADRAns for each LinkADRReq, read and counted.
        self.uplink(dev, freq=904.3, fopts=b"".join(lw.link_adr_ans() for _ in adr))
        # An uplink outside the sub-band (channel 0, 902.3 MHz) is refused as off-plan.
        self.uplink(dev, freq=902.3)

        def status():
            return json.loads(self.ctl("status", "--json").stdout)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and \
                status().get("lora_refused", {}).get("off-plan", 0) < 1:
            time.sleep(0.1)
        st = status()
        self.assertEqual(st["lora_refused"]["off-plan"], 1, st)
        self.assertEqual((st["lorawan"]["link_adr_sent"], st["lorawan"]["link_adr_ok"],
                          st["lorawan"]["link_adr_refused"]), (1, 1, 0), st["lorawan"])
        self.check_outcomes()


class SimRadio(CommandsCase):
    def test_the_simulators_lorawan_device_gets_its_downlink(self):
        """sources.sim's LoRaWAN frames are heard through FG_LORA_VIA_SIM: a downlink
        is 'sent' to the simulator's radio after the next simulated uplink (what
        scripts/demo shows)."""
        text = config(self.dir, self.port, self.broker.port).replace(
            "sources = {", "sources = { sim = { enabled = true; devices = 1; interval_ms = 300;"
            " seed = 3; lorawan = true; };")
        with open(self.conf, "w") as f:
            f.write(text)
        os.chmod(self.conf, 0o600)
        self.start()
        self.push("sim-1", "soil-1", b"\x01\x02")
        self.wait_outcome("sim-1", "queued")
        sent = self.wait_outcome("sim-1", "sent")
        self.assertIsInstance(sent["f_cnt_down"], int)
        self.daemon.wait_stderr("sim radio: downlink for soil-1")
        self.check_outcomes()


class CheckConfig(unittest.TestCase):
    """Commands over a connection without TLS or credentials are refused unless
    commands.allow_insecure says so."""

    def setUp(self):
        self.tmp = tempdir()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def check(self, commands, mqtt="", rules=""):
        path = os.path.join(self.dir, "fieldgate.conf")
        with open(path, "w") as f:
            f.write(f"""
gateway = {{ id = "itest"; state_dir = "{self.dir}"; runtime_dir = "{self.dir}"; }};
mqtt = {{ host = "127.0.0.1"; port = 1883; {mqtt} }};
sources = {{ sim = {{ enabled = true; devices = 1; }}; }};
commands = {{ {commands} }};
{rules}
""")
        os.chmod(path, 0o600)
        d = run([FIELDGATED, "--check-config", "-c", path])
        c = run([FIELDGATECTL, "check-config", path])
        return d, c

    def test_plain_mqtt_without_credentials_is_refused(self):
        for mqtt in ("", 'username = "gw"; password = "secret";'):
            with self.subTest(mqtt=mqtt):
                for r in self.check("enabled = true;", mqtt):
                    self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
                    self.assertIn("commands.enabled", r.stdout + r.stderr)
                    self.assertNotIn("configuration OK", r.stdout)

    def test_allow_insecure_is_accepted_with_a_warning(self):
        for r in self.check("enabled = true; allow_insecure = true;"):
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("configuration OK", r.stdout)
            self.assertRegex(r.stderr, r"commands|insecure")

    def test_disabled_commands_need_nothing(self):
        for r in self.check("enabled = false;"):
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertNotRegex(r.stderr, r"insecure")

    def test_a_line_a_rule_drives_is_refused(self):
        rules = """rules = ( { name = "frost"; match = "sim/*/temperature"; when = "value < 0";
                              gpio = { chip = "sim"; line = 27; }; } );"""
        for r in self.check('enabled = true; allow_insecure = true; gpio = ( { chip = "sim"; '
                            'line = 27; } );', rules=rules):
            self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("commands.gpio", r.stdout + r.stderr)


class ReadmeAcl(unittest.TestCase):
    """The README's mosquitto ACL (Commands section): the gateway publishes its
    readings and outcomes, not commands; the cloud publishes commands, not
    readings. A third user that may read everything watches what arrives."""

    def acl_from_readme(self):
        with open(os.path.join(SRCDIR, "README.md")) as f:
            text = f.read()
        start = text.index("\n## Commands")
        end = text.find("\n## ", start + 1)
        section = text[start:end if end > 0 else None]
        blocks = re.findall(r"```[a-z]*\n(.*?)```", section, re.S)
        acl = [b for b in blocks if "user gateway" in b and "user cloud" in b]
        self.assertEqual(len(acl), 1, "one ACL block with 'user gateway' and 'user cloud'")
        return acl[0]

    def test_readme_acl(self):
        with tempdir() as d:
            acl = os.path.join(d, "acl")
            with open(acl, "w") as f:
                f.write(self.acl_from_readme() + "\nuser watcher\ntopic read #\n")
            broker = Broker(d, passwords={"gateway": "gw-pass", "cloud": "cloud-pass",
                                          "watcher": "w-pass"}, persistence=False)
            with open(broker.conf, "a") as f:
                f.write(f"acl_file {acl}\n")
            broker.start()
            watcher = Subscriber(broker.port, topic="#", client_id="watcher",
                                 extra=("-u", "watcher", "-P", "w-pass"))
            gw_sub = Subscriber(broker.port, topic="fieldgate/gw-01/command/#",
                                client_id="gw-01-sub", extra=("-u", "gateway", "-P", "gw-pass"))
            try:
                time.sleep(0.5)

                def pub(user, pw, topic, msg):
                    r = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port),
                                        "-u", user, "-P", pw, "-q", "1", "-t", topic, "-m", msg],
                                       capture_output=True, text=True, timeout=30)
                    return r.returncode
                ok = [("gateway", "gw-pass", "fieldgate/gw-01/lora/70b3d57ed0000001", "gw-reading"),
                      ("gateway", "gw-pass", "fieldgate/gw-01/sim/sim-0001", "gw-sim"),
                      ("gateway", "gw-pass", "fieldgate/gw-01/status", "online"),
                      ("gateway", "gw-pass", "fieldgate/gw-01/event/command", "gw-outcome"),
                      ("cloud", "cloud-pass", "fieldgate/gw-01/command/down/push", "cloud-cmd"),
                      ("cloud", "cloud-pass", "fieldgate/gw-01/command/gpio", "cloud-gpio")]
                bad = [("gateway", "gw-pass", "fieldgate/gw-01/command/down/push", "gw-cmd"),
                       ("gateway", "gw-pass", "fieldgate/gw-01/command/gpio", "gw-gpio"),
                       ("cloud", "cloud-pass", "fieldgate/gw-01/lora/70b3d57ed0000001",
                        "cloud-reading"),
                       ("cloud", "cloud-pass", "fieldgate/gw-01/event/command", "cloud-outcome"),
                       ("cloud", "cloud-pass", "fieldgate/gw-01/status", "cloud-status")]
                for user, pw, topic, msg in ok + bad:
                    # A denied PUBLISH is acknowledged and dropped (MQTT 3.1.1).
                    self.assertEqual(pub(user, pw, topic, msg), 0, (user, topic))
                # Anonymous clients are not let in at all.
                r = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port),
                                    "-q", "1", "-t", "fieldgate/gw-01/command/gpio", "-m", "anon"],
                                   capture_output=True, timeout=30)
                self.assertNotEqual(r.returncode, 0)
                self.assertTrue(watcher.wait(lambda s: len(s.messages) >= len(ok), 10),
                                watcher.messages)
                time.sleep(1.0)
                watcher.pump()
                self.assertEqual(sorted(p for _, p in watcher.messages), sorted(m[3] for m in ok))
                # The gateway reads its commands (the cloud's only).
                self.assertTrue(gw_sub.wait(lambda s: len(s.messages) >= 2, 10))
                self.assertEqual(sorted(p for _, p in gw_sub.messages), ["cloud-cmd", "cloud-gpio"])
            finally:
                watcher.stop()
                gw_sub.stop()
                broker.stop()

    def test_the_daemon_logs_in_as_the_gateway_under_the_acl(self):
        """The real daemon as user "gateway" (id gw-01): its readings and status arrive."""
        with tempdir() as d:
            acl = os.path.join(d, "acl")
            with open(acl, "w") as f:
                f.write(self.acl_from_readme() + "\nuser watcher\ntopic read #\n")
            broker = Broker(d, passwords={"gateway": "gw-pass", "watcher": "w-pass"},
                            persistence=False)
            with open(broker.conf, "a") as f:
                f.write(f"acl_file {acl}\n")
            broker.start()
            watcher = Subscriber(broker.port, topic="fieldgate/#", client_id="watcher",
                                 extra=("-u", "watcher", "-P", "w-pass"))
            conf = os.path.join(d, "fieldgate.conf")
            with open(conf, "w") as f:
                f.write(f"""
gateway = {{ id = "gw-01"; state_dir = "{d}"; runtime_dir = "{d}"; trust_system_clock = true; }};
mqtt = {{ host = "127.0.0.1"; port = {broker.port}; username = "gateway"; password = "gw-pass";
         stats_interval = 0; }};
buffer = {{ commit_interval_ms = 50; }};
sources = {{ sim = {{ enabled = true; devices = 1; interval_ms = 100; seed = 1; }}; }};
""")
            os.chmod(conf, 0o600)
            notify = NotifySocket(d)
            daemon = Daemon(conf, notify=notify, dry_run=False)
            try:
                notify.wait_for("READY=1")
                self.assertTrue(watcher.wait(lambda s: any(t == "fieldgate/gw-01/sim/sim-0001"
                                                           for t, _ in s.messages) and
                                             any(t == "fieldgate/gw-01/status"
                                                 for t, _ in s.messages), 15),
                                f"{watcher.messages}; {daemon.stderr()}; {broker.log()[-2000:]}")
            finally:
                daemon.kill()
                notify.close()
                watcher.stop()
                broker.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
