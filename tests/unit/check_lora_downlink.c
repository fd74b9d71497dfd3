/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Application downlinks through the LoRa source (source/lora.c): a queue
 * double implementing fg_lora_downlink_ops, the saved state and the radio
 * in memory, a test clock (monotonic and wall). Uplinks are built as a
 * device would (fg_lw_build_uplink), and every downlink the radio was given
 * is opened as a device would: parsed, MIC checked with the NwkSKey,
 * FRMPayload decrypted with the AppSKey.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "lora/downlink.h"
#include "source/lora.h"
#include "check-main.h"

#define TMST	  1000000u
#define NWK_S_KEY "9A2F3C4D5E6F708192A3B4C5D6E7F801"
#define APP_S_KEY "1F2E3D4C5B6A79880796A5B4C3D2E1F0"
#define APP_KEY	  "2b7e151628aed2a6abf7158809cf4f3c"
#define DEV_EUI	  UINT64_C(0x70b3d57ed0000042)
#define JOIN_EUI  UINT64_C(0x70b3d57ed0000000)

static const char *const CONFIG_EU =
	"lorawan = { region = \"EU868\"; net_id = 0x000013;\n"
	"  devices = ( { name = \"abp-1\"; dev_eui = \"70B3D57ED0000001\"; dev_addr = "
	"\"26011BDA\";\n"
	"                nwk_s_key = \"" NWK_S_KEY "\";\n"
	"                app_s_key = \"" APP_S_KEY "\"; },\n"
	"              { name = \"abp-2\"; dev_eui = \"70B3D57ED0000002\"; dev_addr = "
	"\"26011BDB\";\n"
	"                nwk_s_key = \"" NWK_S_KEY "\";\n"
	"                app_s_key = \"" APP_S_KEY "\"; },\n"
	"              { name = \"otaa-1\"; dev_eui = \"70B3D57ED0000042\";\n"
	"                join_eui = \"70B3D57ED0000000\"; app_key = \"" APP_KEY "\"; } ); };\n";

static const char *const CONFIG_US =
	"lorawan = { region = \"US915\"; net_id = 0x000013;\n"
	"  devices = ( { name = \"otaa-1\"; dev_eui = \"70B3D57ED0000042\";\n"
	"                join_eui = \"70B3D57ED0000000\"; app_key = \"" APP_KEY "\"; } ); };\n";

/* ------------------------------------------------------------------ the doubles */

static struct {
	char key[64];
	uint8_t value[8192];
	size_t len;
} kv[8];
static size_t n_kv;
static int save_result; /* saves fail with it when negative */
static int next_result; /* the queue's next() fails with it when negative */

static struct fg_lw_txpk sent[64];
static struct fg_lora_origin sent_via[64];
static size_t n_sent;
static int refuse_sends; /* sends refused with -EEXIST */

static uint64_t now_usec = 1000000000;
static uint64_t wall_ms = UINT64_C(1780000000000); /* 2026-05-28, mid-day UTC */
static bool wall_known;

static struct fg_config *cfg;
static struct fg_lora *lora;

static uint64_t test_clock(void *userdata)
{
	(void) userdata;
	return now_usec;
}

static uint64_t test_wall(void *userdata)
{
	(void) userdata;
	return wall_ms;
}

static bool test_known(void *userdata)
{
	(void) userdata;
	return wall_known;
}

static int load(void *userdata, const char *key, void *buf, size_t size, size_t *ret_len)
{
	(void) userdata;
	for (size_t i = 0; i < n_kv; i++)
		if (!strcmp(kv[i].key, key)) {
			ck_assert_uint_le(kv[i].len, size);
			memcpy(buf, kv[i].value, kv[i].len);
			*ret_len = kv[i].len;
			return 0;
		}
	return -ENOENT;
}

static int save(void *userdata, const char *key, const void *buf, size_t len)
{
	size_t i;

	(void) userdata;
	if (save_result < 0)
		return save_result;
	for (i = 0; i < n_kv && strcmp(kv[i].key, key); i++)
		;
	ck_assert_uint_lt(i, 8);
	ck_assert_uint_le(len, sizeof(kv[i].value));
	snprintf(kv[i].key, sizeof(kv[i].key), "%s", key);
	memcpy(kv[i].value, buf, len);
	kv[i].len = len;
	n_kv += i == n_kv;
	return 0;
}

static const uint8_t *saved(const char *key, size_t *len)
{
	for (size_t i = 0; i < n_kv; i++)
		if (!strcmp(kv[i].key, key)) {
			*len = kv[i].len;
			return kv[i].value;
		}
	return NULL;
}

/* The next FCntDown saved for the device with dev_addr (ABP: fcnt_down:, OTAA: session:). */
static uint32_t saved_fcnt_down(uint32_t dev_addr)
{
	const struct fg_lorawan_device *d = fg_lora_device(lora, dev_addr);
	const uint8_t *v;
	uint32_t fcnt;
	char key[96];
	size_t len = 0;

	ck_assert_ptr_nonnull(d);
	snprintf(key, sizeof(key), "%s:%s", d->otaa ? "session" : "fcnt_down", d->name);
	v = saved(key, &len);
	ck_assert_ptr_nonnull(v);
	memcpy(&fcnt, v + (d->otaa ? 37 : 0), 4);
	return fcnt;
}

/* The radio: records, and checks that FCntDown was saved beyond this frame's before it. */
static int send(void *userdata, const struct fg_lw_txpk *tx, const struct fg_lora_origin *via)
{
	struct fg_lw_frame f;

	(void) userdata;
	ck_assert_int_eq(fg_lw_parse(tx->payload, tx->len, &f), FG_LW_OK);
	if (f.mtype == FG_LW_UNCONFIRMED_DOWN || f.mtype == FG_LW_CONFIRMED_DOWN)
		ck_assert_uint_gt(saved_fcnt_down(f.dev_addr) & 0xffff, f.fcnt16);
	if (refuse_sends > 0) {
		refuse_sends--;
		return -EEXIST;
	}
	ck_assert_uint_lt(n_sent, 64);
	sent_via[n_sent] = *via;
	sent[n_sent++] = *tx;
	return 0;
}

static void emit(const struct fg_reading *r, size_t n, void *userdata)
{
	(void) r;
	(void) n;
	(void) userdata;
}

/* The command queue: what the daemon's fg_cmdq does, in memory. */
static struct {
	struct fg_command c;
	bool live;
} q[16];
static size_t n_q;
static struct {
	char id[FG_CMD_ID_MAX + 1];
	bool finish; /* else a sent() */
	enum fg_cmd_outcome o;
	enum fg_cmd_reason r;
	uint32_t fcnt;
	bool awaiting;
} ev[64];
static size_t n_ev;

static int q_next(void *userdata, const char *device, struct fg_command *ret)
{
	int best = -1;

	(void) userdata;
	if (next_result < 0)
		return next_result;
	for (size_t i = 0; i < n_q; i++) {
		if (!q[i].live || strcmp(q[i].c.device_name, device))
			continue;
		if (best < 0 || (q[i].c.awaiting_ack && !q[best].c.awaiting_ack) ||
		    (q[i].c.awaiting_ack == q[best].c.awaiting_ack &&
		     q[i].c.priority > q[best].c.priority))
			best = (int) i;
	}
	if (best < 0)
		return -ENOENT;
	*ret = q[best].c;
	return 0;
}

static int q_pending(void *userdata, const char *device)
{
	int n = 0;

	(void) userdata;
	for (size_t i = 0; i < n_q; i++)
		n += q[i].live && !strcmp(q[i].c.device_name, device);
	return n;
}

static size_t q_find(const char *id)
{
	for (size_t i = 0; i < n_q; i++)
		if (q[i].live && !strcmp(q[i].c.id, id))
			return i;
	ck_abort_msg("no pending command %s", id);
	return 0;
}

static int q_sent(void *userdata, const char *id, uint32_t fcnt, bool awaiting)
{
	size_t i = q_find(id);

	(void) userdata;
	q[i].c.tries++;
	q[i].c.f_cnt_down = fcnt;
	q[i].c.awaiting_ack = awaiting;
	ck_assert_uint_lt(n_ev, 64);
	snprintf(ev[n_ev].id, sizeof(ev[n_ev].id), "%s", id);
	ev[n_ev].finish = false;
	ev[n_ev].fcnt = fcnt;
	ev[n_ev++].awaiting = awaiting;
	return 0;
}

static int q_finish(void *userdata, const char *id, enum fg_cmd_outcome o, enum fg_cmd_reason r,
		    const char *detail)
{
	size_t i = q_find(id);

	(void) userdata;
	(void) detail;
	q[i].live = false;
	ck_assert_uint_lt(n_ev, 64);
	snprintf(ev[n_ev].id, sizeof(ev[n_ev].id), "%s", id);
	ev[n_ev].finish = true;
	ev[n_ev].o = o;
	ev[n_ev++].r = r;
	return 0;
}

static const struct fg_lora_downlink_ops qops = {
	.next = q_next,
	.pending = q_pending,
	.sent = q_sent,
	.finish = q_finish,
};

static void queue(const char *device, const char *id, int f_port, const char *data, bool confirmed)
{
	struct fg_command *c = &q[n_q].c;

	ck_assert_uint_lt(n_q, 16);
	memset(c, 0, sizeof(*c));
	c->kind = FG_CMD_DOWN_PUSH;
	snprintf(c->id, sizeof(c->id), "%s", id);
	snprintf(c->device, sizeof(c->device), "%s", device);
	snprintf(c->device_name, sizeof(c->device_name), "%s", device);
	c->f_port = f_port;
	c->data_len = strlen(data);
	memcpy(c->data, data, c->data_len);
	c->confirmed = confirmed;
	c->priority = FG_CMD_PRIORITY_DEFAULT;
	q[n_q++].live = true;
}

static void assert_event(size_t i, const char *id, bool is_finish, int o_or_fcnt)
{
	ck_assert_uint_lt(i, n_ev);
	ck_assert_str_eq(ev[i].id, id);
	ck_assert_int_eq(ev[i].finish, is_finish);
	if (is_finish)
		ck_assert_int_eq(ev[i].o, o_or_fcnt);
	else
		ck_assert_uint_eq(ev[i].fcnt, (uint32_t) o_or_fcnt);
}

/* ------------------------------------------------------------------ the device's side */

static const struct fg_lora_origin via = { FG_LORA_VIA_GWMP, 0xaa555a0000000001 };
static uint8_t nwk_s_key[16], app_s_key[16], app_key[16];
static uint32_t fcnt_up[3];

static void unhex(const char *hex, uint8_t *out)
{
	for (size_t i = 0; hex[2 * i]; i++)
		ck_assert_int_eq(sscanf(hex + 2 * i, "%2hhx", &out[i]), 1);
}

static struct fg_lw_session abp(uint32_t dev_addr)
{
	struct fg_lw_session s = { .dev_addr = dev_addr };

	memcpy(s.nwk_s_key, nwk_s_key, 16);
	memcpy(s.app_s_key, app_s_key, 16);
	return s;
}

static struct fg_radio_meta radio(uint32_t freq_hz, unsigned sf)
{
	return (struct fg_radio_meta){ .present = true,
				       .rssi = -80,
				       .snr = 7.5,
				       .freq_hz = freq_hz,
				       .sf = (uint8_t) sf,
				       .bw_hz = 125000,
				       .tmst = TMST };
}

/* An uplink of session s (counter *fcnt, then one more) heard at freq/sf, with FCtrl bits. */
static enum fg_lw_reason uplink_at(const struct fg_lw_session *s, uint32_t *fcnt, bool confirmed,
				   uint8_t fctrl, const uint8_t *fopts, size_t fopts_len,
				   uint32_t freq, unsigned sf)
{
	static const uint8_t cayenne[] = { 0x01, 0x67, 0x01, 0x10 };
	struct fg_radio_meta r = radio(freq, sf);
	uint8_t phy[64];
	int n = fg_lw_build_uplink(s, confirmed ? FG_LW_CONFIRMED_UP : FG_LW_UNCONFIRMED_UP, fctrl,
				   (*fcnt)++, fopts, fopts_len, 2, cayenne, sizeof(cayenne), phy,
				   sizeof(phy));

	ck_assert_int_gt(n, 0);
	return fg_lora_handle_from(lora, phy, (size_t) n, &r, &via, emit, NULL);
}

/* abp-1 (i 0) or abp-2 (i 1): an uplink at 868.3 MHz SF9 (DR3). */
static void uplink(int i, bool confirmed, bool ack)
{
	struct fg_lw_session s = abp(0x26011BDA + (uint32_t) i);

	ck_assert_int_eq(
		uplink_at(&s, &fcnt_up[i], confirmed, ack ? 0x20 : 0, NULL, 0, 868300000, 9),
		FG_LW_OK);
}

/* A downlink opened as the device would. */
struct opened {
	struct fg_lw_frame f;
	uint32_t fcnt;
	uint8_t fopts[15];
	uint8_t data[FG_LW_FRM_MAX];
	size_t data_len;
};

static void open_downlink(const struct fg_lw_txpk *tx, const struct fg_lw_session *s,
			  uint32_t fcnt_base, struct opened *o)
{
	uint32_t mic;

	memset(o, 0, sizeof(*o));
	ck_assert_int_eq(fg_lw_parse(tx->payload, tx->len, &o->f), FG_LW_OK);
	ck_assert(o->f.mtype == FG_LW_UNCONFIRMED_DOWN || o->f.mtype == FG_LW_CONFIRMED_DOWN);
	ck_assert_uint_eq(o->f.dev_addr, s->dev_addr);
	o->fcnt = fg_lw_fcnt_expand(o->f.fcnt16, fcnt_base, true);
	ck_assert_int_eq(fg_lw_data_mic(s->nwk_s_key, 1, s->dev_addr, o->fcnt, tx->payload,
					tx->len - 4, &mic),
			 0);
	ck_assert_uint_eq(mic, o->f.mic);
	memcpy(o->fopts, o->f.fopts, o->f.fopts_len);
	if (o->f.has_port) {
		ck_assert_uint_gt(o->f.fport, 0);
		ck_assert_int_eq(fg_lw_crypt(s->app_s_key, 1, s->dev_addr, o->fcnt, o->f.frm,
					     o->f.frm_len, o->data),
				 0);
		o->data_len = o->f.frm_len;
	}
}

static void open_abp(size_t i, int dev, struct opened *o)
{
	struct fg_lw_session s = abp(0x26011BDA + (uint32_t) dev);

	ck_assert_uint_lt(i, n_sent);
	open_downlink(&sent[i], &s, 0, o);
}

static void assert_data(const struct opened *o, int port, const char *data)
{
	ck_assert(o->f.has_port);
	ck_assert_uint_eq(o->f.fport, (unsigned) port);
	ck_assert_uint_eq(o->data_len, strlen(data));
	ck_assert_mem_eq(o->data, data, o->data_len);
}

/* ------------------------------------------------------------------ fixtures */

static void start(void)
{
	const struct fg_lora_state_ops ops = { .load = load, .save = save, .send = send };

	ck_assert_int_eq(fg_lora_new(cfg, &ops, &lora), 0);
	fg_lora_set_clock(lora, test_clock, NULL);
	fg_lora_set_wall_clock(lora, test_wall, test_known, NULL);
	fg_lora_set_downlinks(lora, &qops);
}

static void restart(void)
{
	fg_lora_free(lora);
	start();
}

static void load_config(const char *text)
{
	struct fg_diags diags = { 0 };

	fg_lora_free(lora);
	lora = NULL;
	fg_config_free(cfg);
	ck_assert_int_eq(fg_config_load_string(text, "lora.conf", &cfg, &diags), 0);
	fg_diags_clear(&diags);
	cfg->lorawan.confirmed_retries = 3;
	cfg->lorawan.sub_band = 2;
	start();
}

static void setup(void)
{
	unhex(NWK_S_KEY, nwk_s_key);
	unhex(APP_S_KEY, app_s_key);
	unhex(APP_KEY, app_key);
	n_kv = n_sent = n_q = n_ev = 0;
	memset(fcnt_up, 0, sizeof(fcnt_up));
	refuse_sends = 0;
	save_result = next_result = 0;
	wall_known = false;
	now_usec += UINT64_C(3600) * 1000000; /* every duty-cycle budget whole */
	cfg = NULL;
	lora = NULL;
	load_config(CONFIG_EU);
}

static void teardown(void)
{
	fg_lora_free(lora);
	lora = NULL;
	fg_config_free(cfg);
	cfg = NULL;
}

static struct fg_lora_stats stats(void)
{
	struct fg_lora_stats s;

	fg_lora_get_stats(lora, &s);
	return s;
}

/* ------------------------------------------------------------------ class A */

START_TEST(test_class_a_rx1)
{
	struct opened o;

	queue("abp-1", "c1", 10, "\x01\x02\x03", false);
	/* Nothing goes before an uplink: the device listens only after one. */
	fg_lora_downlink_queued(lora, fg_lora_find_device(lora, "abp-1"));
	ck_assert_uint_eq(fg_lora_tick(lora), UINT64_MAX);
	ck_assert_uint_eq(n_sent, 0);
	uplink(0, false, false);
	ck_assert_uint_eq(n_sent, 1);
	ck_assert(!sent[0].immediate);
	ck_assert_uint_eq(sent[0].count_us, TMST + 1000000u);
	ck_assert_uint_eq(sent[0].freq_hz, 868300000);
	ck_assert_int_eq(sent[0].dr, 3);
	ck_assert_int_eq(sent_via[0].via, FG_LORA_VIA_GWMP);
	ck_assert_uint_eq(sent_via[0].gateway, via.gateway);
	open_abp(0, 0, &o);
	ck_assert_int_eq(o.f.mtype, FG_LW_UNCONFIRMED_DOWN);
	ck_assert(!o.f.ack);
	ck_assert(!o.f.class_b); /* FPending: nothing more */
	ck_assert_uint_eq(o.f.fopts_len, 0);
	ck_assert_uint_eq(o.fcnt, 0);
	assert_data(&o, 10, "\x01\x02\x03");
	ck_assert_uint_eq(n_ev, 2);
	assert_event(0, "c1", false, 0);
	ck_assert(!ev[0].awaiting);
	assert_event(1, "c1", true, FG_CMD_SENT);
	ck_assert_uint_eq(stats().app_downlinks, 1);
	/* The queue is empty: the next unconfirmed uplink gets nothing. */
	uplink(0, false, false);
	ck_assert_uint_eq(n_sent, 1);
	ck_assert_uint_eq(saved_fcnt_down(0x26011BDA), 1);
}
END_TEST

START_TEST(test_fpending_and_rx2)
{
	struct opened o;

	queue("abp-1", "c1", 1, "one", false);
	queue("abp-1", "c2", 2, "two", false);
	uplink(0, false, false);
	ck_assert_uint_eq(n_sent, 1);
	open_abp(0, 0, &o);
	assert_data(&o, 1, "one");
	ck_assert(o.f.class_b); /* FPending: c2 waits */
	/*
	 * At once again: 868.3 MHz's 1% sub-band owes 99 times the first
	 * downlink's airtime, so RX1 is refused and RX2 (869.525 MHz DR0) goes.
	 */
	uplink(0, false, false);
	ck_assert_uint_eq(n_sent, 2);
	ck_assert_uint_eq(sent[1].count_us, TMST + 2000000u);
	ck_assert_uint_eq(sent[1].freq_hz, 869525000);
	ck_assert_int_eq(sent[1].dr, 0);
	open_abp(1, 0, &o);
	assert_data(&o, 2, "two");
	ck_assert(!o.f.class_b);
	ck_assert_uint_eq(o.fcnt, 1);
	ck_assert_uint_ge(stats().duty_limited, 1);
	ck_assert_uint_eq(stats().app_downlinks, 2);
	assert_event(3, "c2", true, FG_CMD_SENT);
}
END_TEST

START_TEST(test_both_windows_refused)
{
	queue("abp-1", "c1", 1, "one", false);
	refuse_sends = 2; /* the radio takes neither RX1 nor RX2 */
	uplink(0, false, false);
	ck_assert_uint_eq(n_sent, 0);
	ck_assert_uint_eq(n_ev, 0); /* still pending */
	ck_assert_uint_eq(stats().downlink_failed, 1);
	uplink(0, false, false);
	ck_assert_uint_eq(n_sent, 1);
	assert_event(1, "c1", true, FG_CMD_SENT);
	/* The refused try spent FCntDown 0: the device sees 1, never a counter again. */
	assert_event(0, "c1", false, 1);
}
END_TEST

/* ------------------------------------------------------------------ confirmed */

START_TEST(test_confirmed_ack)
{
	struct opened o;

	queue("abp-1", "c1", 5, "hello", true);
	queue("abp-1", "c2", 6, "next", false);
	uplink(0, false, false);
	ck_assert_uint_eq(n_sent, 1);
	open_abp(0, 0, &o);
	ck_assert_int_eq(o.f.mtype, FG_LW_CONFIRMED_DOWN);
	ck_assert(o.f.class_b);
	assert_data(&o, 5, "hello");
	ck_assert_uint_eq(n_ev, 1);
	assert_event(0, "c1", false, 0);
	ck_assert(ev[0].awaiting);
	/* The device's next uplink acknowledges it; the same downlink window takes c2. */
	now_usec += UINT64_C(3600) * 1000000;
	uplink(0, false, true);
	assert_event(1, "c1", true, FG_CMD_ACK);
	ck_assert_uint_eq(n_sent, 2);
	open_abp(1, 0, &o);
	assert_data(&o, 6, "next");
	ck_assert(!o.f.ack);
	assert_event(3, "c2", true, FG_CMD_SENT);
	ck_assert_uint_eq(stats().app_acks, 1);
	/* An ACK bit with nothing awaiting acknowledges nothing. */
	uplink(0, false, true);
	ck_assert_uint_eq(n_ev, 4);
	ck_assert_uint_eq(n_sent, 2);
}
END_TEST

START_TEST(test_confirmed_nack)
{
	struct opened o;

	cfg->lorawan.confirmed_retries = 2;
	queue("abp-1", "c1", 5, "hello", true);
	for (uint32_t i = 0; i < 3; i++) {
		now_usec += UINT64_C(3600) * 1000000;
		uplink(0, false, false);
		ck_assert_uint_eq(n_sent, i + 1);
		open_abp(i, 0, &o);
		ck_assert_int_eq(o.f.mtype, FG_LW_CONFIRMED_DOWN);
		ck_assert_uint_eq(o.fcnt, i); /* a resend is a new frame: new FCntDown */
		assert_data(&o, 5, "hello");
		assert_event(i, "c1", false, (int) i);
	}
	ck_assert_uint_eq(stats().app_retries, 2);
	/* Two resends made: the next uplink without an ACK ends it. */
	uplink(0, false, false);
	ck_assert_uint_eq(n_sent, 3);
	assert_event(3, "c1", true, FG_CMD_NACK);
	ck_assert_uint_eq(q[0].c.tries, 3);
}
END_TEST

START_TEST(test_restart_keeps_awaiting)
{
	struct opened o;

	queue("abp-1", "c1", 5, "hello", true);
	queue("abp-1", "c2", 6, "next", false);
	uplink(0, false, false);
	ck_assert_uint_eq(n_sent, 1);
	restart();
	/* A confirmed uplink with the ACK bit: ACK of ours in the downlink, c1 acknowledged. */
	uplink(0, true, true);
	assert_event(1, "c1", true, FG_CMD_ACK);
	ck_assert_uint_eq(n_sent, 2);
	open_abp(1, 0, &o);
	ck_assert(o.f.ack);
	ck_assert_uint_eq(o.fcnt, 1); /* FCntDown went on across the restart */
	assert_data(&o, 6, "next");
}
END_TEST

/* ------------------------------------------------------------------ class C */

START_TEST(test_class_c)
{
	const struct fg_lorawan_device *d = fg_lora_find_device(lora, "abp-2");
	struct opened o;
	uint64_t wait;

	cfg->lorawan.devices[1].class_c = true;
	/* Not heard yet: no radio to send through, it waits. */
	queue("abp-2", "c1", 3, "\xaa", false);
	fg_lora_downlink_queued(lora, d);
	ck_assert_uint_eq(n_sent, 0);
	/* Its uplink: class A's RX1 takes c1. */
	uplink(1, false, false);
	ck_assert_uint_eq(n_sent, 1);
	ck_assert(!sent[0].immediate);
	assert_event(1, "c1", true, FG_CMD_SENT);
	/* Queued during its receive windows: not on top of them; tick's, after RX2. */
	queue("abp-2", "c1b", 3, "\xab", false);
	fg_lora_downlink_queued(lora, d);
	ck_assert_uint_eq(n_sent, 1);
	wait = fg_lora_tick(lora);
	ck_assert_uint_eq(wait, 3000000);
	now_usec += wait;
	ck_assert_uint_eq(fg_lora_tick(lora), UINT64_MAX);
	ck_assert_uint_eq(n_sent, 2);
	ck_assert(sent[1].immediate);
	assert_event(3, "c1b", true, FG_CMD_SENT);
	/* After the RX windows: queued now goes at once, on RX2 parameters, through GWMP. */
	now_usec += UINT64_C(3600) * 1000000;
	ck_assert_uint_eq(fg_lora_tick(lora), UINT64_MAX);
	queue("abp-2", "c2", 4, "\xbb\xcc", false);
	fg_lora_downlink_queued(lora, d);
	ck_assert_uint_eq(n_sent, 3);
	ck_assert(sent[2].immediate);
	ck_assert_uint_eq(sent[2].freq_hz, 869525000);
	ck_assert_int_eq(sent[2].dr, 0);
	ck_assert_int_eq(sent_via[2].via, FG_LORA_VIA_GWMP);
	open_abp(2, 1, &o);
	assert_data(&o, 4, "\xbb\xcc");
	assert_event(5, "c2", true, FG_CMD_SENT);
	/* At once again: 869.525 MHz owes 9 times the last airtime; tick sends when it is paid. */
	queue("abp-2", "c3", 4, "\xdd", false);
	fg_lora_downlink_queued(lora, d);
	ck_assert_uint_eq(n_sent, 3);
	wait = fg_lora_tick(lora);
	ck_assert_uint_gt(wait, 1000000);
	ck_assert_uint_lt(wait, 60000000);
	now_usec += wait - 1;
	ck_assert_uint_le(fg_lora_tick(lora), 1000);
	ck_assert_uint_eq(n_sent, 3);
	now_usec += 1;
	ck_assert_uint_eq(fg_lora_tick(lora), UINT64_MAX);
	ck_assert_uint_eq(n_sent, 4);
	ck_assert(sent[3].immediate);
	assert_event(7, "c3", true, FG_CMD_SENT);
}
END_TEST

START_TEST(test_class_c_confirmed)
{
	const struct fg_lorawan_device *d = fg_lora_find_device(lora, "abp-2");
	uint64_t wait;

	cfg->lorawan.devices[1].class_c = true;
	uplink(1, false, false);
	ck_assert_uint_eq(n_sent, 0);
	now_usec += UINT64_C(3600) * 1000000;
	(void) fg_lora_tick(lora);
	queue("abp-2", "c1", 3, "\x01", true);
	queue("abp-2", "c2", 3, "\x02", false);
	fg_lora_downlink_queued(lora, d);
	ck_assert_uint_eq(n_sent, 1);
	assert_event(0, "c1", false, 0);
	ck_assert(ev[0].awaiting);
	/* c2 waits behind it; no ACK within the timeout: sent again, a try. */
	now_usec += 10000000;
	fg_lora_downlink_queued(lora, d);
	ck_assert_uint_eq(n_sent, 1);
	wait = fg_lora_tick(lora);
	ck_assert_uint_eq(n_sent, 1);
	ck_assert_uint_gt(wait, 15000000);
	ck_assert_uint_le(wait, 20000000);
	now_usec += wait;
	wait = fg_lora_tick(lora);
	ck_assert_uint_eq(n_sent, 2);
	assert_event(1, "c1", false, 1);
	ck_assert_uint_eq(q[0].c.tries, 2);
	ck_assert_uint_le(wait, 30000000);
	/* The device's uplink acknowledges it; c2 goes in its RX1. */
	uplink(1, false, true);
	assert_event(2, "c1", true, FG_CMD_ACK);
	ck_assert_uint_eq(n_sent, 3);
	assert_event(4, "c2", true, FG_CMD_SENT);
}
END_TEST

/* ------------------------------------------------------------------ limits */

START_TEST(test_daily_budget)
{
	cfg->lorawan.devices[0].max_downlinks_per_day = 2;
	queue("abp-1", "c1", 1, "a", true);
	queue("abp-1", "c2", 1, "b", false);
	uplink(0, false, false);
	now_usec += UINT64_C(3600) * 1000000;
	uplink(0, false, false); /* the resend counts too */
	ck_assert_uint_eq(n_sent, 2);
	restart(); /* the count is kept */
	now_usec += UINT64_C(3600) * 1000000;
	uplink(0, false, true);
	assert_event(2, "c1", true, FG_CMD_ACK);
	assert_event(3, "c2", true, FG_CMD_FAILED);
	ck_assert_int_eq(ev[3].r, FG_CMD_R_DAILY_BUDGET);
	ck_assert_uint_eq(n_sent, 2);
	/* The next UTC day, a new budget. */
	wall_ms += UINT64_C(86400000);
	queue("abp-1", "c3", 1, "c", false);
	uplink(0, false, false);
	ck_assert_uint_eq(n_sent, 3);
	assert_event(5, "c3", true, FG_CMD_SENT);
}
END_TEST

START_TEST(test_payload_too_long)
{
	static const char big[] = "0123456789012345678901234567890123456789012345678901"; /* 52 */
	struct fg_lw_session s = abp(0x26011BDA);
	const struct fg_lorawan_device *d = fg_lora_find_device(lora, "abp-1");

	/* Heard at SF12 (DR0): RX1 at DR0 carries a MACPayload of 59, FRMPayload 51. */
	ck_assert_int_eq(uplink_at(&s, &fcnt_up[0], false, 0, NULL, 0, 868100000, 12), FG_LW_OK);
	ck_assert_int_eq(fg_lora_downlink_check(lora, d, 51), 0);
	ck_assert_int_eq(fg_lora_downlink_check(lora, d, 52), -EMSGSIZE);
	queue("abp-1", "big", 1, big, false);
	queue("abp-1", "ok", 1, big + 1, false);
	now_usec += UINT64_C(3600) * 1000000;
	ck_assert_int_eq(uplink_at(&s, &fcnt_up[0], false, 0, NULL, 0, 868100000, 12), FG_LW_OK);
	assert_event(0, "big", true, FG_CMD_FAILED);
	ck_assert_int_eq(ev[0].r, FG_CMD_R_TOO_LONG);
	ck_assert_uint_eq(n_sent, 1);
	assert_event(2, "ok", true, FG_CMD_SENT);
	/* Heard at SF7 (DR5): 250 bytes of MACPayload. */
	ck_assert_int_eq(uplink_at(&s, &fcnt_up[0], false, 0, NULL, 0, 868100000, 7), FG_LW_OK);
	ck_assert_int_eq(fg_lora_downlink_check(lora, d, 52), 0);
	ck_assert_int_eq(fg_lora_downlink_check(lora, fg_lora_find_device(lora, "otaa-1"), 1),
			 -ENOTCONN);
}
END_TEST

/* ------------------------------------------------------------------ MAC answers */

START_TEST(test_link_check_with_ack)
{
	static const uint8_t link_check_req[] = { 0x02 };
	struct fg_lw_session s = abp(0x26011BDA);
	struct opened o;

	queue("abp-1", "c1", 7, "xyz", false);
	ck_assert_int_eq(uplink_at(&s, &fcnt_up[0], true, 0, link_check_req, 1, 868300000, 9),
			 FG_LW_OK);
	ck_assert_uint_eq(n_sent, 1); /* one downlink carries all */
	open_abp(0, 0, &o);
	ck_assert(o.f.ack);
	ck_assert_uint_eq(o.f.fopts_len, 3);
	ck_assert_uint_eq(o.fopts[0], 0x02);
	ck_assert_uint_eq(o.fopts[2], 1); /* GwCnt */
	ck_assert_uint_gt(o.fopts[1], 0); /* margin above SF9's floor at 7.5 dB SNR */
	assert_data(&o, 7, "xyz");
	ck_assert_uint_eq(stats().acks, 1);
	ck_assert_uint_eq(stats().mac_answers, 1);
	/* Only the answer owed: a downlink without FPort. */
	now_usec += UINT64_C(3600) * 1000000;
	ck_assert_int_eq(uplink_at(&s, &fcnt_up[0], false, 0, link_check_req, 1, 868300000, 9),
			 FG_LW_OK);
	ck_assert_uint_eq(n_sent, 2);
	open_abp(1, 0, &o);
	ck_assert(!o.f.has_port);
	ck_assert(!o.f.ack);
	ck_assert_uint_eq(o.f.fopts_len, 3);
}
END_TEST

START_TEST(test_device_time)
{
	static const uint8_t device_time_req[] = { 0x0d };
	struct fg_lw_session s = abp(0x26011BDA);
	struct opened o;
	uint32_t gps;

	wall_known = false;
	ck_assert_int_eq(uplink_at(&s, &fcnt_up[0], false, 0, device_time_req, 1, 868300000, 9),
			 FG_LW_OK);
	ck_assert_uint_eq(n_sent, 0); /* a wrong time is worse than none */
	wall_known = true;
	ck_assert_int_eq(uplink_at(&s, &fcnt_up[0], false, 0, device_time_req, 1, 868300000, 9),
			 FG_LW_OK);
	ck_assert_uint_eq(n_sent, 1);
	open_abp(0, 0, &o);
	ck_assert_uint_eq(o.f.fopts_len, 6);
	ck_assert_uint_eq(o.fopts[0], 0x0d);
	gps = (uint32_t) o.fopts[1] | (uint32_t) o.fopts[2] << 8 | (uint32_t) o.fopts[3] << 16 |
	      (uint32_t) o.fopts[4] << 24;
	ck_assert_uint_eq(gps, (wall_ms - FG_LW_GPS_EPOCH_UNIX_MS) / 1000 + FG_LW_GPS_LEAP_SECONDS);
	ck_assert_uint_eq(stats().mac_answers, 1);
}
END_TEST

/* ------------------------------------------------------------------ US915 join: LinkADRReq */

static void us_join(struct fg_lw_session *s, uint16_t nonce)
{
	struct fg_radio_meta r = radio(904300000, 7);
	struct fg_lw_join_accept ja;
	uint8_t phy[64];
	int n = fg_lw_join_request_build(app_key, JOIN_EUI, DEV_EUI, nonce, phy, sizeof(phy));

	ck_assert_int_eq(n, 23);
	ck_assert_int_eq(fg_lora_handle_from(lora, phy, (size_t) n, &r, &via, emit, NULL),
			 FG_LW_OK);
	ck_assert_uint_ge(n_sent, 1);
	ck_assert_int_eq(fg_lw_join_accept_open(app_key, sent[n_sent - 1].payload,
						sent[n_sent - 1].len, &ja),
			 0);
	memset(s, 0, sizeof(*s));
	s->dev_addr = ja.dev_addr;
	s->dev_eui = DEV_EUI;
	ck_assert_int_eq(fg_lw_join_derive_keys(app_key, ja.app_nonce, ja.net_id, nonce,
						s->nwk_s_key, s->app_s_key),
			 0);
}

static void assert_link_adr_req(const struct opened *o, size_t at)
{
	uint8_t want[15];

	ck_assert_int_eq(fg_lw_region_link_adr_req(FG_LW_US915, 2, want, sizeof(want)), 10);
	ck_assert_uint_ge(o->f.fopts_len, at + 10);
	ck_assert_mem_eq(o->fopts + at, want, 10);
}

START_TEST(test_us915_link_adr)
{
	static const uint8_t ans_ok[] = { 0x03, 0x07, 0x03, 0x07 };
	static const uint8_t ans_no[] = { 0x03, 0x06, 0x03, 0x06 };
	struct fg_lw_session s;
	uint32_t fcnt = 0;
	struct opened o;

	load_config(CONFIG_US);
	us_join(&s, 1);
	ck_assert_uint_eq(n_sent, 1);
	/* The first uplink of the session: a LinkADRReq of sub-band 2, without FPort. */
	ck_assert_int_eq(uplink_at(&s, &fcnt, false, 0, NULL, 0, 904300000, 7), FG_LW_OK);
	ck_assert_uint_eq(n_sent, 2);
	ck_assert_uint_eq(sent[1].freq_hz, 923300000 + 600000 * (10 % 8)); /* channel 10 */
	ck_assert_int_eq(sent[1].dr, 13); /* RX1 of uplink DR3, offset 0 */
	open_downlink(&sent[1], &s, 0, &o);
	ck_assert(!o.f.has_port);
	assert_link_adr_req(&o, 0);
	ck_assert_uint_eq(stats().link_adr_sent, 1);
	/* Refused: sent again, this time with a command and the ACK it is owed. */
	queue("otaa-1", "c1", 9, "go", false);
	ck_assert_int_eq(uplink_at(&s, &fcnt, true, 0, ans_no, sizeof(ans_no), 904300000, 7),
			 FG_LW_OK);
	ck_assert_uint_eq(stats().link_adr_refused, 1);
	ck_assert_uint_eq(n_sent, 3);
	open_downlink(&sent[2], &s, 0, &o);
	ck_assert(o.f.ack);
	assert_link_adr_req(&o, 0);
	assert_data(&o, 9, "go");
	ck_assert_uint_eq(o.fcnt, 1);
	ck_assert_uint_eq(stats().link_adr_sent, 2);
	/* Accepted: counted, and never sent again. */
	ck_assert_int_eq(uplink_at(&s, &fcnt, false, 0, ans_ok, sizeof(ans_ok), 904300000, 7),
			 FG_LW_OK);
	ck_assert_uint_eq(stats().link_adr_ok, 1);
	ck_assert_uint_eq(n_sent, 3);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(uplink_at(&s, &fcnt, false, 0, NULL, 0, 904300000, 7), FG_LW_OK);
	ck_assert_uint_eq(n_sent, 3);
	ck_assert_uint_eq(stats().link_adr_sent, 2);
}
END_TEST

START_TEST(test_us915_link_adr_bounded)
{
	struct fg_lw_session s;
	uint32_t fcnt = 0;

	load_config(CONFIG_US);
	us_join(&s, 1);
	/* A device that never answers: asked again after a few uplinks, a bounded number of times.
	 */
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(uplink_at(&s, &fcnt, false, 0, NULL, 0, 904300000, 7), FG_LW_OK);
	ck_assert_uint_ge(stats().link_adr_sent, 2);
	ck_assert_uint_le(stats().link_adr_sent, 5);
	ck_assert_uint_eq(n_sent, 1 + stats().link_adr_sent);
	/* A new join starts over. */
	us_join(&s, 2);
	fcnt = 0;
	ck_assert_int_eq(uplink_at(&s, &fcnt, false, 0, NULL, 0, 904300000, 7), FG_LW_OK);
	ck_assert_uint_eq(n_sent, 3 + stats().link_adr_sent - 1);
}
END_TEST

/* A rejoin: the awaiting command is resent in the new session, FCntDown from 0. */
START_TEST(test_rejoin_resends)
{
	struct fg_lw_session s;
	uint32_t fcnt = 0;
	struct opened o;

	load_config(CONFIG_US);
	us_join(&s, 1);
	queue("otaa-1", "c1", 9, "go", true);
	ck_assert_int_eq(uplink_at(&s, &fcnt, false, 0, NULL, 0, 904300000, 7), FG_LW_OK);
	ck_assert_uint_eq(n_sent, 2);
	assert_event(0, "c1", false, 0);
	us_join(&s, 2);
	fcnt = 0;
	ck_assert_int_eq(uplink_at(&s, &fcnt, false, 0, NULL, 0, 904300000, 7), FG_LW_OK);
	ck_assert_uint_eq(n_sent, 4);
	open_downlink(&sent[3], &s, 0, &o);
	ck_assert_int_eq(o.f.mtype, FG_LW_CONFIRMED_DOWN);
	ck_assert_uint_eq(o.fcnt, 0);
	assert_data(&o, 9, "go");
	assert_event(1, "c1", false, 0);
}
END_TEST

/* ------------------------------------------------------------------ lookups */

START_TEST(test_find_device)
{
	struct fg_lw_session s;
	const struct fg_lorawan_device *d;
	char addr[16];

	ck_assert_str_eq(fg_lora_find_device(lora, "abp-2")->name, "abp-2");
	ck_assert_str_eq(fg_lora_find_device(lora, "70B3D57ED0000001")->name, "abp-1");
	ck_assert_str_eq(fg_lora_find_device(lora, "70b3d57ed0000002")->name, "abp-2");
	ck_assert_str_eq(fg_lora_find_device(lora, "26011bda")->name, "abp-1");
	ck_assert_str_eq(fg_lora_find_device(lora, "26011BDB")->name, "abp-2");
	ck_assert_ptr_null(fg_lora_find_device(lora, "70B3D57ED000000"));
	ck_assert_ptr_null(fg_lora_find_device(lora, "70B3D57ED00000011"));
	ck_assert_ptr_null(fg_lora_find_device(lora, "26011BDC"));
	ck_assert_ptr_null(fg_lora_find_device(lora, "2601 BDA"));
	ck_assert_ptr_null(fg_lora_find_device(lora, ""));
	ck_assert_ptr_null(fg_lora_find_device(lora, NULL));
	ck_assert_str_eq(fg_lora_find_device(lora, "70B3D57ED0000042")->name, "otaa-1");
	/* An OTAA device is found by DevAddr once it has one. */
	load_config(CONFIG_US);
	us_join(&s, 1);
	snprintf(addr, sizeof(addr), "%08x", s.dev_addr);
	d = fg_lora_find_device(lora, addr);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d->name, "otaa-1");
}
END_TEST

/* FCntDown cannot be saved: nothing is sent (a counter could come again), the command waits. */
START_TEST(test_save_fails)
{
	queue("abp-1", "c1", 1, "a", false);
	save_result = -EIO;
	uplink(0, true, false);
	ck_assert_uint_eq(n_sent, 0);
	ck_assert_uint_eq(n_ev, 0);
	ck_assert_uint_eq(stats().downlink_failed, 1);
	save_result = 0;
	uplink(0, false, false);
	ck_assert_uint_eq(n_sent, 1);
	assert_event(1, "c1", true, FG_CMD_SENT);
}
END_TEST

/* The queue fails: the ACK the device is owed still goes. */
START_TEST(test_queue_fails)
{
	struct opened o;

	queue("abp-1", "c1", 1, "a", false);
	next_result = -EIO;
	uplink(0, true, false);
	ck_assert_uint_eq(n_sent, 1);
	open_abp(0, 0, &o);
	ck_assert(o.f.ack);
	ck_assert(!o.f.has_port);
	ck_assert_uint_eq(n_ev, 0);
}
END_TEST

/* No downlink ops: ACKs of confirmed uplinks as before, nothing else asked. */
START_TEST(test_without_queue)
{
	struct opened o;

	fg_lora_set_downlinks(lora, NULL);
	queue("abp-1", "c1", 1, "a", false);
	uplink(0, true, false);
	ck_assert_uint_eq(n_sent, 1);
	open_abp(0, 0, &o);
	ck_assert(o.f.ack);
	ck_assert(!o.f.has_port);
	ck_assert_uint_eq(n_ev, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lora_downlink");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_class_a_rx1);
	tcase_add_test(tc, test_fpending_and_rx2);
	tcase_add_test(tc, test_both_windows_refused);
	tcase_add_test(tc, test_confirmed_ack);
	tcase_add_test(tc, test_confirmed_nack);
	tcase_add_test(tc, test_restart_keeps_awaiting);
	tcase_add_test(tc, test_class_c);
	tcase_add_test(tc, test_class_c_confirmed);
	tcase_add_test(tc, test_daily_budget);
	tcase_add_test(tc, test_payload_too_long);
	tcase_add_test(tc, test_link_check_with_ack);
	tcase_add_test(tc, test_device_time);
	tcase_add_test(tc, test_us915_link_adr);
	tcase_add_test(tc, test_us915_link_adr_bounded);
	tcase_add_test(tc, test_rejoin_resends);
	tcase_add_test(tc, test_find_device);
	tcase_add_test(tc, test_without_queue);
	tcase_add_test(tc, test_save_fails);
	tcase_add_test(tc, test_queue_fails);
	suite_add_tcase(s, tc);
	return fg_check_main(s);
}
