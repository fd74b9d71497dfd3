/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The BLE source: bluetoothd's D-Bus API with sd-bus on the daemon's loop.
 * Facts from BlueZ's doc/org.bluez.Adapter.rst (SetDiscoveryFilter,
 * StartDiscovery, RemoveDevice), doc/org.bluez.Device.rst (Address,
 * AddressType, RSSI, ManufacturerData a{qv}, ServiceData a{sv} keyed by
 * 128-bit UUID strings), doc/org.bluez.AdvertisementMonitor.rst and
 * doc/org.bluez.AdvertisementMonitorManager.rst (RegisterMonitor,
 * "or_patterns", RSSISamplingPeriod 0 = every packet).
 *
 * Every call to bluetoothd is asynchronous: a reply handler moves the setup
 * on (GetNameOwner -> GetManagedObjects -> RegisterMonitor or
 * SetDiscoveryFilter -> StartDiscovery). Each step keeps its pending call in
 * a slot, so dropping the slot when bluetoothd or the adapter goes away
 * cancels a stale reply. Anything that fails is retried by one 5 s timer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <systemd/sd-bus.h>

#include "core/clock.h"
#include "core/log.h"
#include "source/ble.h"

#define BLUEZ_SERVICE	      "org.bluez"
#define ADAPTER_IFACE	      "org.bluez.Adapter1"
#define DEVICE_IFACE	      "org.bluez.Device1"
#define MONITOR_MANAGER_IFACE "org.bluez.AdvertisementMonitorManager1"
#define MONITOR_IFACE	      "org.bluez.AdvertisementMonitor1"
#define OBJECT_MANAGER_IFACE  "org.freedesktop.DBus.ObjectManager"
#define PROPERTIES_IFACE      "org.freedesktop.DBus.Properties"
#define DBUS_SERVICE	      "org.freedesktop.DBus"
#define DBUS_PATH	      "/org/freedesktop/DBus"

#define APP_ROOT     "/org/fieldgate/ble"
#define MONITOR_PATH APP_ROOT "/monitor0"

#define RETRY_USEC	 (5 * FG_USEC_PER_SEC)
#define FORGET_TICK_USEC (60 * FG_USEC_PER_SEC)
#define DEVICES_MAX	 1024 /* devices cached; the least recently seen is evicted */
#define DATA_LEN_MAX	 255  /* bytes of one service/manufacturer data entry */
#define ADAPTER_PATH_MAX 64

/*
 * What the monitor matches: the AD types and leading bytes (UUID or company
 * id, little endian) of the formats codec/ble.h decodes. BlueZ wants at least
 * one content byte per pattern and the kernel takes at most 255 patterns per
 * monitor, so "everything" (every first byte of 0x16 and 0xFF) does not fit;
 * advertisements in no known format are useless to ble-rx anyway.
 */
static const struct {
	uint8_t ad_type;
	uint8_t content[2];
} monitor_patterns[] = {
	{ 0x16, { 0xd2, 0xfc } }, /* service data 0xFCD2: BTHome */
	{ 0x16, { 0x1a, 0x18 } }, /* service data 0x181A: ATC1441, pvvx */
	{ 0x16, { 0x95, 0xfe } }, /* service data 0xFE95: Xiaomi MiBeacon */
	{ 0x16, { 0xaa, 0xfe } }, /* service data 0xFEAA: Eddystone */
	{ 0xff, { 0x99, 0x04 } }, /* manufacturer 0x0499: Ruuvi */
	{ 0xff, { 0x88, 0xec } }, /* manufacturer 0xEC88: Govee */
	{ 0xff, { 0x4c, 0x00 } }, /* manufacturer 0x004C: Apple (iBeacon) */
};

struct blob {
	uint16_t id;
	uint8_t *p; /* NULL when n is 0 */
	size_t n;
};

/* The last known state of one org.bluez.Device1 under our adapter. */
struct device {
	char *path;
	char address[18];
	bool random;
	bool has_rssi;
	int16_t rssi;
	struct blob svc[FG_BLE_DATA_MAX];
	size_t n_svc;
	struct blob mfr[FG_BLE_DATA_MAX];
	size_t n_mfr;
	uint64_t seen_usec; /* monotonic */
};

/* Device1 properties parsed from one message; pointers into the message. */
struct dev_props {
	const char *address;
	const char *address_type;
	bool has_rssi;
	int16_t rssi;
	bool has_svc, has_mfr;
	struct fg_ble_data svc[FG_BLE_DATA_MAX];
	size_t n_svc;
	struct fg_ble_data mfr[FG_BLE_DATA_MAX];
	size_t n_mfr;
	bool drop_rssi, drop_svc, drop_mfr; /* invalidated */
};

struct adapter_props {
	bool has_powered, powered;
	bool has_discovering, discovering;
};

enum scan_mode { SCAN_NONE, SCAN_ACTIVE, SCAN_PASSIVE };

struct fg_ble {
	struct fg_ble_source_config cfg; /* strings owned */
	char adapter_path[ADAPTER_PATH_MAX];
	uint32_t forget_after_s;
	sd_event *loop;
	fg_ble_adv_fn fn;
	fg_ble_wanted_fn wanted;
	void *userdata;

	sd_bus *bus;
	sd_bus_slot *filter_slot; /* org.freedesktop.DBus.Local.Disconnected */
	sd_bus_slot *owner_match, *added_match, *removed_match, *props_match;
	sd_bus_slot *owner_call, *objects_call, *scan_call;
	sd_bus_slot *manager_slot, *monitor_slot; /* exported monitor objects */
	sd_event_source *retry_timer, *forget_timer;

	char *owner; /* bluetoothd's unique name; NULL while it is away */
	bool seen_bluez;
	bool bus_lost;
	bool powered;
	bool has_monitor_api;
	bool monitor_registered;
	bool monitor_failed;
	bool said_no_bluez, said_no_adapter, said_powered_off, said_no_monitor_api;
	enum scan_mode said_mode;
	uint64_t malformed;

	struct device *devices;
	size_t n_devices, n_alloc;
	struct fg_ble_stats stats;
};

static void start_scan(struct fg_ble *b);
static void load_objects(struct fg_ble *b);
static int bus_open(struct fg_ble *b);

static bool streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static uint64_t now_usec(const struct fg_ble *b)
{
	uint64_t t;

	if (sd_event_now(b->loop, CLOCK_MONOTONIC, &t) < 0)
		t = fg_clock_mono_usec();
	return t;
}

/* Arm the retry timer unless it is armed already. */
static void arm_retry(struct fg_ble *b)
{
	int enabled = SD_EVENT_OFF;

	if (!b->retry_timer)
		return;
	(void) sd_event_source_get_enabled(b->retry_timer, &enabled);
	if (enabled != SD_EVENT_OFF)
		return;
	if (sd_event_source_set_time_relative(b->retry_timer, RETRY_USEC) < 0 ||
	    sd_event_source_set_enabled(b->retry_timer, SD_EVENT_ONESHOT) < 0)
		fg_log_warning("ble", "cannot arm the retry timer; BLE may stall");
}

/* Log an error reply with its name and message; true when m is one. */
static bool reply_failed(sd_bus_message *m, const char *what)
{
	const sd_bus_error *e;

	if (!sd_bus_message_is_method_error(m, NULL))
		return false;
	e = sd_bus_message_get_error(m);
	fg_log_device(LOG_WARNING, "ble", "ble", what, "%s failed: %s: %s", what,
		      e && e->name ? e->name : "?", e && e->message ? e->message : "no message");
	return true;
}

/* Whether m is the error reply `name` (an expected one: logged at debug level only). */
static bool reply_is(sd_bus_message *m, const char *what, const char *name)
{
	const sd_bus_error *e;

	if (sd_bus_message_is_method_error(m, name) <= 0)
		return false;
	e = sd_bus_message_get_error(m);
	fg_log_debug("ble", "%s: %s: %s", what, name, e && e->message ? e->message : "no message");
	return true;
}

/*
 * Count and log (rate-limited, per object) a message of the wrong shape: r < 0,
 * dropped whole; r == 0, properties of the wrong type in it were skipped.
 */
static void malformed(struct fg_ble *b, const char *what, const char *path, int r)
{
	b->malformed++;
	if (r < 0)
		fg_log_device(LOG_WARNING, "ble", "ble", path ? path : what,
			      "malformed %s from bluetoothd for '%s' (%s), skipping it", what,
			      path ? path : "/", strerror(-r));
	else
		fg_log_device(LOG_WARNING, "ble", "ble", path ? path : what,
			      "%s from bluetoothd for '%s' has properties of the wrong type, "
			      "skipping them",
			      what, path ? path : "/");
}

/* Send a call whose reply nobody waits for (shutdown). */
static void call_noreply(struct fg_ble *b, const char *path, const char *iface, const char *member,
			 const char *object)
{
	sd_bus_message *m = NULL;
	int r;

	r = sd_bus_message_new_method_call(b->bus, &m, BLUEZ_SERVICE, path, iface, member);
	if (r >= 0 && object)
		r = sd_bus_message_append(m, "o", object);
	if (r >= 0)
		r = sd_bus_message_set_expect_reply(m, 0);
	if (r >= 0)
		r = sd_bus_send(b->bus, m, NULL);
	if (r < 0)
		fg_log_debug("ble", "cannot send %s.%s: %s", iface, member, strerror(-r));
	sd_bus_message_unref(m);
}

/* --- the device cache --------------------------------------------------- */

static void blobs_clear(struct blob *v, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free(v[i].p);
	*n = 0;
}

static void device_clear(struct device *d)
{
	free(d->path);
	blobs_clear(d->svc, &d->n_svc);
	blobs_clear(d->mfr, &d->n_mfr);
}

static void devices_drop_all(struct fg_ble *b)
{
	for (size_t i = 0; i < b->n_devices; i++)
		device_clear(&b->devices[i]);
	b->n_devices = 0;
}

static void device_drop(struct fg_ble *b, size_t i)
{
	device_clear(&b->devices[i]);
	b->devices[i] = b->devices[--b->n_devices];
}

static struct device *device_find(struct fg_ble *b, const char *path)
{
	for (size_t i = 0; i < b->n_devices; i++)
		if (strcmp(b->devices[i].path, path) == 0)
			return &b->devices[i];
	return NULL;
}

/* A new, empty entry (address unset), evicting the least recently seen when full. */
static struct device *device_add(struct fg_ble *b, const char *path)
{
	struct device *d;
	char *p = strdup(path);

	if (!p)
		return NULL;
	if (b->n_devices == DEVICES_MAX) {
		size_t oldest = 0;

		for (size_t i = 1; i < b->n_devices; i++)
			if (b->devices[i].seen_usec < b->devices[oldest].seen_usec)
				oldest = i;
		device_drop(b, oldest);
	}
	if (b->n_devices == b->n_alloc) {
		size_t n = b->n_alloc ? b->n_alloc * 2 : 16;
		struct device *v;

		if (n > DEVICES_MAX)
			n = DEVICES_MAX;
		v = realloc(b->devices, n * sizeof(*v));
		if (!v) {
			free(p);
			return NULL;
		}
		b->devices = v;
		b->n_alloc = n;
	}
	d = &b->devices[b->n_devices++];
	memset(d, 0, sizeof(*d));
	d->path = p;
	return d;
}

/* "A4:C1:38:00:11:22" in any case (or with '_' as in object paths) to upper case with ':'. */
static bool normalize_address(const char *s, char out[18])
{
	static const char hex[] = "0123456789ABCDEF";

	if (!s || strlen(s) != 17)
		return false;
	for (int i = 0; i < 17; i++) {
		char c = s[i];

		if (i % 3 == 2) {
			if (c != ':' && c != '_')
				return false;
			out[i] = ':';
			continue;
		}
		if (c >= 'a' && c <= 'f')
			c = (char) (c - 'a' + 'A');
		if (!strchr(hex, c) || c == '\0')
			return false;
		out[i] = c;
	}
	out[17] = '\0';
	return true;
}

/* Whether path is a direct child of the adapter's object (a device). */
static bool is_device_path(const struct fg_ble *b, const char *path)
{
	size_t n = strlen(b->adapter_path);

	return path && strncmp(path, b->adapter_path, n) == 0 && path[n] == '/' &&
	       !strchr(path + n + 1, '/') && path[n + 1] != '\0';
}

static int blobs_copy(struct blob *dst, size_t *ret_n, const struct fg_ble_data *src, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		dst[k].id = src[i].id;
		dst[k].n = src[i].n;
		dst[k].p = NULL;
		if (src[i].n > 0) {
			dst[k].p = malloc(src[i].n);
			if (!dst[k].p)
				break;
			memcpy(dst[k].p, src[i].p, src[i].n);
		}
		k++;
	}
	*ret_n = k;
	return k == n ? 0 : -ENOMEM;
}

/* Hand the device's current advertisement to fn. */
static void deliver(struct fg_ble *b, const struct device *d)
{
	static const uint8_t empty[1];
	struct fg_ble_data data[FG_BLE_DATA_MAX];
	struct fg_ble_adv adv = { 0 };
	size_t n = 0;

	for (size_t i = 0; i < d->n_svc && n < FG_BLE_DATA_MAX; i++, n++)
		data[n] = (struct fg_ble_data){ .service = true,
						.id = d->svc[i].id,
						.p = d->svc[i].p ? d->svc[i].p : empty,
						.n = d->svc[i].n };
	for (size_t i = 0; i < d->n_mfr && n < FG_BLE_DATA_MAX; i++, n++)
		data[n] = (struct fg_ble_data){ .service = false,
						.id = d->mfr[i].id,
						.p = d->mfr[i].p ? d->mfr[i].p : empty,
						.n = d->mfr[i].n };
	adv.address = d->address;
	adv.random_address = d->random;
	adv.has_rssi = d->has_rssi;
	adv.rssi = d->rssi;
	adv.data = data;
	adv.n_data = n;
	b->stats.adverts++;
	if (b->fn)
		b->fn(&adv, b->userdata);
}

/*
 * Merge parsed properties into the cache. `added`: from InterfacesAdded, an
 * advertisement in itself; `loaded`: from GetManagedObjects, bluetoothd's old
 * knowledge, cached but not handed over.
 */
static int device_update(struct fg_ble *b, const char *path, const struct dev_props *p, bool added,
			 bool loaded)
{
	struct device *d = device_find(b, path);
	char address[18];
	int r = 0;

	if (p->address && !normalize_address(p->address, address))
		return -EBADMSG;
	if (!d) {
		/* No Address in the message (a change to a device we evicted): take it from the
		 * path. */
		if (!p->address) {
			const char *leaf = strrchr(path, '/') + 1;

			if (strncmp(leaf, "dev_", 4) != 0 || !normalize_address(leaf + 4, address))
				return -EBADMSG;
		}
		d = device_add(b, path);
		if (!d)
			return -ENOMEM;
		d->seen_usec = now_usec(b);
	}
	if (p->address)
		memcpy(d->address, address, sizeof(address));
	else if (!d->address[0])
		memcpy(d->address, address, sizeof(address));
	if (p->address_type)
		d->random = streq(p->address_type, "random");
	if (p->drop_rssi)
		d->has_rssi = false;
	if (p->has_rssi) {
		d->has_rssi = true;
		d->rssi = p->rssi;
	}
	if (p->drop_svc || p->has_svc)
		blobs_clear(d->svc, &d->n_svc);
	if (p->has_svc)
		r = blobs_copy(d->svc, &d->n_svc, p->svc, p->n_svc);
	if (p->drop_mfr || p->has_mfr)
		blobs_clear(d->mfr, &d->n_mfr);
	if (p->has_mfr && r >= 0)
		r = blobs_copy(d->mfr, &d->n_mfr, p->mfr, p->n_mfr);
	if (r < 0)
		return r;
	if (loaded)
		return 0;
	if (added || p->has_rssi || p->has_svc || p->has_mfr) {
		d->seen_usec = now_usec(b);
		deliver(b, d);
	}
	return 0;
}

/* --- parsing ------------------------------------------------------------ */

/*
 * Property values of the wrong type are skipped and counted in *wrong, the
 * rest of the message is used: one odd property does not hide a device's
 * others (python-dbusmock's bluez5 template, for one, sends ServiceData as
 * aa{sv}). Errors from sd-bus itself (a truncated or corrupt message) end the
 * parse: the whole message is dropped.
 */

/* Enter the variant at the read position: 1 if it holds `contents`, else skip it, count, 0. */
static int enter_variant(sd_bus_message *m, const char *contents, unsigned *wrong)
{
	const char *c = NULL;
	char type;
	int r;

	r = sd_bus_message_peek_type(m, &type, &c);
	if (r < 0)
		return r;
	if (r == 0 || type != SD_BUS_TYPE_VARIANT)
		return -EBADMSG;
	if (!streq(c, contents)) {
		(*wrong)++;
		r = sd_bus_message_skip(m, "v");
		return r < 0 ? r : 0;
	}
	r = sd_bus_message_enter_container(m, SD_BUS_TYPE_VARIANT, contents);
	return r < 0 ? r : 1;
}

/* A variant holding one basic value of type t: 1 and *ret, 0 if of another type. */
static int read_variant(sd_bus_message *m, char t, void *ret, unsigned *wrong)
{
	char s[2] = { t, '\0' };
	int r;

	r = enter_variant(m, s, wrong);
	if (r <= 0)
		return r;
	r = sd_bus_message_read_basic(m, t, ret);
	if (r <= 0)
		return r < 0 ? r : -EBADMSG;
	r = sd_bus_message_exit_container(m);
	return r < 0 ? r : 1;
}

/* A variant holding ay: 1 and the bytes, 0 if of another type. */
static int read_bytes_variant(sd_bus_message *m, const void **ret_p, size_t *ret_n, unsigned *wrong)
{
	int r;

	r = enter_variant(m, "ay", wrong);
	if (r <= 0)
		return r;
	r = sd_bus_message_read_array(m, 'y', ret_p, ret_n);
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(m);
	return r < 0 ? r : 1;
}

/* The 16-bit UUID of a Bluetooth base UUID string 0000XXXX-0000-1000-8000-00805f9b34fb. */
static bool uuid16(const char *s, uint16_t *ret)
{
	unsigned v = 0;

	if (strlen(s) != 36 || strncmp(s, "0000", 4) != 0 ||
	    strcasecmp(s + 8, "-0000-1000-8000-00805f9b34fb") != 0)
		return false;
	for (int i = 4; i < 8; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned) (c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned) (c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned) (c - 'A' + 10);
		else
			return false;
	}
	*ret = (uint16_t) v;
	return true;
}

/*
 * ManufacturerData (a variant holding a{qv}) or ServiceData (a{sv}), each v
 * an ay: into p->mfr or p->svc. ServiceData keys other than 16-bit UUIDs in
 * the Bluetooth base form are left out, as are entries past FG_BLE_DATA_MAX.
 */
static int read_data(sd_bus_message *m, bool service, struct dev_props *p, unsigned *wrong)
{
	struct fg_ble_data *v = service ? p->svc : p->mfr;
	size_t *n_v = service ? &p->n_svc : &p->n_mfr;
	int r;

	r = enter_variant(m, service ? "a{sv}" : "a{qv}", wrong);
	if (r <= 0)
		return r;
	r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, service ? "{sv}" : "{qv}");
	if (r <= 0)
		return r < 0 ? r : -EBADMSG;
	*n_v = 0;
	while ((r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY,
						   service ? "sv" : "qv")) > 0) {
		const void *bytes = NULL;
		const char *uuid = NULL;
		uint16_t id = 0;
		size_t n = 0;
		bool ok;

		if (service)
			r = sd_bus_message_read_basic(m, 's', &uuid);
		else
			r = sd_bus_message_read_basic(m, 'q', &id);
		if (r >= 0)
			r = read_bytes_variant(m, &bytes, &n, wrong);
		ok = r > 0;
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
		if (ok && service && !uuid16(uuid, &id))
			ok = false;
		if (ok && *n_v < FG_BLE_DATA_MAX && n <= DATA_LEN_MAX)
			v[(*n_v)++] = (struct fg_ble_data){
				.service = service, .id = id, .p = bytes, .n = n
			};
	}
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(m);
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(m);
	if (r < 0)
		return r;
	if (service)
		p->has_svc = true;
	else
		p->has_mfr = true;
	return 1;
}

/* Device1 properties (a{sv}) at the read position. */
static int read_device_props(sd_bus_message *m, struct dev_props *p, unsigned *wrong)
{
	int r;

	r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{sv}");
	if (r <= 0)
		return r < 0 ? r : -EBADMSG;
	while ((r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "sv")) > 0) {
		const char *key;

		r = sd_bus_message_read_basic(m, 's', &key);
		if (r < 0)
			return r;
		if (streq(key, "Address"))
			r = read_variant(m, 's', &p->address, wrong);
		else if (streq(key, "AddressType"))
			r = read_variant(m, 's', &p->address_type, wrong);
		else if (streq(key, "RSSI")) {
			r = read_variant(m, 'n', &p->rssi, wrong);
			p->has_rssi = r > 0;
		} else if (streq(key, "ManufacturerData"))
			r = read_data(m, false, p, wrong);
		else if (streq(key, "ServiceData"))
			r = read_data(m, true, p, wrong);
		else
			r = sd_bus_message_skip(m, "v");
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

/* Adapter1 properties (a{sv}) at the read position. */
static int read_adapter_props(sd_bus_message *m, struct adapter_props *p, unsigned *wrong)
{
	int r;

	r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{sv}");
	if (r <= 0)
		return r < 0 ? r : -EBADMSG;
	while ((r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "sv")) > 0) {
		const char *key;
		int v = 0;

		r = sd_bus_message_read_basic(m, 's', &key);
		if (r < 0)
			return r;
		if (streq(key, "Powered")) {
			r = read_variant(m, 'b', &v, wrong);
			p->has_powered = r > 0;
			p->powered = v;
		} else if (streq(key, "Discovering")) {
			r = read_variant(m, 'b', &v, wrong);
			p->has_discovering = r > 0;
			p->discovering = v;
		} else
			r = sd_bus_message_skip(m, "v");
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

/* Invalidated property names (as) of a PropertiesChanged for a device. */
static int read_invalidated(sd_bus_message *m, struct dev_props *p)
{
	const char *name;
	int r;

	r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "s");
	if (r <= 0)
		return r < 0 ? r : -EBADMSG;
	while ((r = sd_bus_message_read_basic(m, 's', &name)) > 0) {
		if (streq(name, "RSSI"))
			p->drop_rssi = true;
		else if (streq(name, "ServiceData"))
			p->drop_svc = true;
		else if (streq(name, "ManufacturerData"))
			p->drop_mfr = true;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

/* --- the adapter ---------------------------------------------------------- */

static void log_mode(struct fg_ble *b, enum scan_mode mode)
{
	if (b->said_mode == mode)
		return;
	b->said_mode = mode;
	fg_log_info("ble", "%s on '%s'",
		    mode == SCAN_PASSIVE ? "scanning passively (AdvertisementMonitor)"
					 : "scanning actively (discovery)",
		    b->cfg.adapter);
}

static void set_not_scanning(struct fg_ble *b)
{
	b->stats.scanning = false;
	b->stats.passive = false;
	b->scan_call = sd_bus_slot_unref(b->scan_call);
}

/* Forget all about the adapter (it went away, or bluetoothd did). */
static void adapter_reset(struct fg_ble *b)
{
	set_not_scanning(b);
	b->stats.adapter_present = false;
	b->powered = false;
	b->has_monitor_api = false;
	b->monitor_registered = false;
	b->monitor_failed = false;
	b->said_powered_off = false;
	b->said_no_monitor_api = false;
	b->said_mode = SCAN_NONE;
	devices_drop_all(b);
}

/* Scan when the adapter is there and powered. */
static void adapter_check(struct fg_ble *b)
{
	if (!b->stats.adapter_present)
		return;
	if (!b->powered) {
		set_not_scanning(b);
		if (!b->said_powered_off)
			fg_log_warning("ble",
				       "adapter '%s' is powered off; BLE scans again when it "
				       "is powered on",
				       b->cfg.adapter);
		b->said_powered_off = true;
		return;
	}
	if (b->said_powered_off)
		fg_log_info("ble", "adapter '%s' is powered on", b->cfg.adapter);
	b->said_powered_off = false;
	start_scan(b);
}

static void adapter_found(struct fg_ble *b, const struct adapter_props *ap, bool monitor_api)
{
	if (b->said_no_adapter)
		fg_log_info("ble", "adapter '%s' is here", b->cfg.adapter);
	b->said_no_adapter = false;
	b->stats.adapter_present = true;
	b->has_monitor_api = monitor_api;
	/* Without a Powered property, assume on: StartDiscovery will tell. */
	b->powered = ap->has_powered ? ap->powered : true;
	adapter_check(b);
}

static void adapter_gone(struct fg_ble *b)
{
	fg_log_warning("ble", "adapter '%s' is gone; BLE waits for it to come back",
		       b->cfg.adapter);
	adapter_reset(b);
	b->said_no_adapter = true;
	arm_retry(b);
}

static void adapter_changed(struct fg_ble *b, const struct adapter_props *ap)
{
	if (!b->stats.adapter_present)
		return;
	if (ap->has_powered && ap->powered != b->powered) {
		b->powered = ap->powered;
		if (!b->powered)
			set_not_scanning(b);
		adapter_check(b);
	}
	/* Our discovery session ended under us (bluetoothd reset the controller): start it again.
	 */
	if (ap->has_discovering && !ap->discovering && b->stats.scanning && !b->stats.passive) {
		fg_log_debug("ble", "adapter '%s' stopped discovering; starting again in 5s",
			     b->cfg.adapter);
		set_not_scanning(b);
		arm_retry(b);
	}
}

/* --- scanning ------------------------------------------------------------- */

static int on_start_discovery(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_ble *b = userdata;

	(void) ret_error;
	b->scan_call = sd_bus_slot_unref(b->scan_call);
	/* InProgress: our session is running already. */
	if (!reply_is(m, "StartDiscovery", "org.bluez.Error.InProgress") &&
	    reply_failed(m, "StartDiscovery")) {
		fg_log_warning("ble", "cannot scan on '%s'; trying again in 5s", b->cfg.adapter);
		arm_retry(b);
		return 0;
	}
	b->stats.scanning = true;
	b->stats.passive = false;
	log_mode(b, SCAN_ACTIVE);
	return 0;
}

static int on_set_filter(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_ble *b = userdata;
	int r;

	(void) ret_error;
	b->scan_call = sd_bus_slot_unref(b->scan_call);
	/* Without the filter we still scan, only less well: go on. */
	if (reply_failed(m, "SetDiscoveryFilter"))
		fg_log_warning("ble", "scanning on '%s' without a discovery filter",
			       b->cfg.adapter);
	r = sd_bus_call_method_async(b->bus, &b->scan_call, BLUEZ_SERVICE, b->adapter_path,
				     ADAPTER_IFACE, "StartDiscovery", on_start_discovery, b, "");
	if (r < 0) {
		fg_log_level_errno(LOG_WARNING, r, "ble", "cannot call StartDiscovery: %m");
		arm_retry(b);
	}
	return 0;
}

static void start_discovery(struct fg_ble *b)
{
	int r;

	r = sd_bus_call_method_async(b->bus, &b->scan_call, BLUEZ_SERVICE, b->adapter_path,
				     ADAPTER_IFACE, "SetDiscoveryFilter", on_set_filter, b, "a{sv}",
				     2, "Transport", "s", "le", "DuplicateData", "b", 1);
	if (r < 0) {
		fg_log_level_errno(LOG_WARNING, r, "ble", "cannot call SetDiscoveryFilter: %m");
		arm_retry(b);
	}
}

static int on_register_monitor(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_ble *b = userdata;

	(void) ret_error;
	b->scan_call = sd_bus_slot_unref(b->scan_call);
	/* AlreadyExists: registered before a power cycle, still in place. */
	if (!reply_is(m, "RegisterMonitor", "org.bluez.Error.AlreadyExists") &&
	    reply_failed(m, "RegisterMonitor")) {
		fg_log_warning("ble",
			       "no advertisement monitor on '%s'; scanning actively "
			       "(discovery) instead",
			       b->cfg.adapter);
		b->monitor_failed = true;
		start_discovery(b);
		return 0;
	}
	b->monitor_registered = true;
	b->stats.scanning = true;
	b->stats.passive = true;
	log_mode(b, SCAN_PASSIVE);
	return 0;
}

static int monitor_prop_type(sd_bus *bus, const char *path, const char *interface,
			     const char *property, sd_bus_message *reply, void *userdata,
			     sd_bus_error *ret_error)
{
	(void) bus, (void) path, (void) interface, (void) property, (void) userdata;
	(void) ret_error;
	return sd_bus_message_append(reply, "s", "or_patterns");
}

static int monitor_prop_sampling(sd_bus *bus, const char *path, const char *interface,
				 const char *property, sd_bus_message *reply, void *userdata,
				 sd_bus_error *ret_error)
{
	(void) bus, (void) path, (void) interface, (void) property, (void) userdata;
	(void) ret_error;
	return sd_bus_message_append(reply, "q", (uint16_t) 0); /* every packet */
}

static int monitor_prop_patterns(sd_bus *bus, const char *path, const char *interface,
				 const char *property, sd_bus_message *reply, void *userdata,
				 sd_bus_error *ret_error)
{
	int r;

	(void) bus, (void) path, (void) interface, (void) property, (void) userdata;
	(void) ret_error;
	r = sd_bus_message_open_container(reply, SD_BUS_TYPE_ARRAY, "(yyay)");
	for (size_t i = 0; r >= 0 && i < sizeof(monitor_patterns) / sizeof(monitor_patterns[0]);
	     i++) {
		r = sd_bus_message_open_container(reply, SD_BUS_TYPE_STRUCT, "yyay");
		if (r >= 0)
			r = sd_bus_message_append(reply, "yy", (uint8_t) 0,
						  monitor_patterns[i].ad_type);
		if (r >= 0)
			r = sd_bus_message_append_array(reply, 'y', monitor_patterns[i].content,
							sizeof(monitor_patterns[i].content));
		if (r >= 0)
			r = sd_bus_message_close_container(reply);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	return r;
}

static int monitor_release(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_ble *b = userdata;

	(void) ret_error;
	if (b->monitor_registered) {
		fg_log_warning("ble",
			       "bluetoothd released the advertisement monitor on '%s'; "
			       "scanning actively (discovery) instead",
			       b->cfg.adapter);
		b->monitor_registered = false;
		b->monitor_failed = true;
		set_not_scanning(b);
		if (b->stats.adapter_present && b->powered)
			start_scan(b);
	}
	return sd_bus_reply_method_return(m, "");
}

static int monitor_activate(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	(void) userdata, (void) ret_error;
	fg_log_debug("ble", "advertisement monitor activated");
	return sd_bus_reply_method_return(m, "");
}

/* DeviceFound/DeviceLost: the data itself arrives as PropertiesChanged on the device. */
static int monitor_device(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_ble *b = userdata;
	const char *path;
	struct device *d;

	(void) ret_error;
	if (sd_bus_message_read(m, "o", &path) > 0 && (d = device_find(b, path)))
		d->seen_usec = now_usec(b);
	return sd_bus_reply_method_return(m, "");
}

static const sd_bus_vtable monitor_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Type", "s", monitor_prop_type, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("RSSISamplingPeriod", "q", monitor_prop_sampling, 0,
			SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Patterns", "a(yyay)", monitor_prop_patterns, 0,
			SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_METHOD("Release", "", "", monitor_release, 0),
	SD_BUS_METHOD("Activate", "", "", monitor_activate, 0),
	SD_BUS_METHOD("DeviceFound", "o", "", monitor_device, 0),
	SD_BUS_METHOD("DeviceLost", "o", "", monitor_device, 0),
	SD_BUS_VTABLE_END,
};

static int register_monitor(struct fg_ble *b)
{
	int r = 0;

	if (!b->manager_slot)
		r = sd_bus_add_object_manager(b->bus, &b->manager_slot, APP_ROOT);
	if (r >= 0 && !b->monitor_slot)
		r = sd_bus_add_object_vtable(b->bus, &b->monitor_slot, MONITOR_PATH, MONITOR_IFACE,
					     monitor_vtable, b);
	if (r >= 0)
		r = sd_bus_call_method_async(b->bus, &b->scan_call, BLUEZ_SERVICE, b->adapter_path,
					     MONITOR_MANAGER_IFACE, "RegisterMonitor",
					     on_register_monitor, b, "o", APP_ROOT);
	if (r < 0)
		return fg_log_level_errno(LOG_WARNING, r, "ble",
					  "cannot set up an advertisement monitor: %m");
	return 0;
}

/* Start scanning in the configured mode, unless scanning or on the way to it. */
static void start_scan(struct fg_ble *b)
{
	if (b->stats.scanning || b->scan_call || !b->bus)
		return;
	if (b->monitor_registered) {
		b->stats.scanning = true;
		b->stats.passive = true;
		log_mode(b, SCAN_PASSIVE);
		return;
	}
	if (b->cfg.mode != FG_BLE_MODE_ACTIVE && !b->monitor_failed) {
		if (b->has_monitor_api) {
			if (register_monitor(b) == 0)
				return;
			b->monitor_failed = true;
		} else if (b->cfg.mode == FG_BLE_MODE_PASSIVE && !b->said_no_monitor_api) {
			fg_log_warning("ble",
				       "adapter '%s' offers no AdvertisementMonitor API "
				       "(bluetoothd -E?); scanning actively (discovery) instead",
				       b->cfg.adapter);
			b->said_no_monitor_api = true;
		}
	}
	start_discovery(b);
}

/* --- objects and signals ------------------------------------------------ */

/*
 * The interfaces dict a{sa{sv}} of one object at the read position, applied:
 * a negative errno when the message is broken, else how many values were of
 * the wrong type (skipped).
 */
static int read_interfaces(struct fg_ble *b, sd_bus_message *m, const char *path, bool loaded)
{
	struct adapter_props ap = { 0 };
	struct dev_props dp = { 0 };
	bool is_adapter = streq(path, b->adapter_path), is_device = is_device_path(b, path);
	bool adapter = false, monitor_api = false, device = false;
	unsigned wrong = 0;
	int r;

	r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{sa{sv}}");
	if (r <= 0)
		return r < 0 ? r : -EBADMSG;
	while ((r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "sa{sv}")) > 0) {
		const char *iface;

		r = sd_bus_message_read_basic(m, 's', &iface);
		if (r < 0)
			return r;
		if (is_adapter && streq(iface, ADAPTER_IFACE)) {
			adapter = true;
			r = read_adapter_props(m, &ap, &wrong);
		} else if (is_device && streq(iface, DEVICE_IFACE)) {
			device = true;
			r = read_device_props(m, &dp, &wrong);
		} else {
			monitor_api |= is_adapter && streq(iface, MONITOR_MANAGER_IFACE);
			r = sd_bus_message_skip(m, "a{sv}");
		}
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(m);
	if (r < 0)
		return r;
	if (adapter)
		adapter_found(b, &ap, monitor_api);
	else if (is_adapter && monitor_api && b->stats.adapter_present)
		b->has_monitor_api = true;
	/* A device without a usable address is skipped like a wrong value. */
	if (device && device_update(b, path, &dp, !loaded, loaded) < 0)
		wrong++;
	return (int) (wrong < 1000 ? wrong : 1000);
}

static int on_objects(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_ble *b = userdata;
	int r;

	(void) ret_error;
	b->objects_call = sd_bus_slot_unref(b->objects_call);
	if (reply_failed(m, "GetManagedObjects")) {
		arm_retry(b);
		return 0;
	}
	/* Merged into what signals told meanwhile (bluez_gone() emptied it all before). */
	r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{oa{sa{sv}}}");
	while (r > 0 &&
	       (r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "oa{sa{sv}}")) > 0) {
		const char *path;

		r = sd_bus_message_read_basic(m, 'o', &path);
		if (r >= 0)
			r = read_interfaces(b, m, path, true);
		if (r > 0)
			malformed(b, "GetManagedObjects reply", path, 0);
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
		if (r >= 0)
			r = 1;
	}
	if (r < 0) {
		malformed(b, "GetManagedObjects reply", NULL, r);
		arm_retry(b);
		return 0;
	}
	if (!b->stats.adapter_present) {
		if (!b->said_no_adapter)
			fg_log_warning("ble", "no adapter '%s'; BLE waits for it", b->cfg.adapter);
		b->said_no_adapter = true;
		arm_retry(b);
	}
	return 0;
}

static void load_objects(struct fg_ble *b)
{
	int r;

	b->objects_call = sd_bus_slot_unref(b->objects_call);
	r = sd_bus_call_method_async(b->bus, &b->objects_call, BLUEZ_SERVICE, "/",
				     OBJECT_MANAGER_IFACE, "GetManagedObjects", on_objects, b, "");
	if (r < 0) {
		fg_log_level_errno(LOG_WARNING, r, "ble", "cannot call GetManagedObjects: %m");
		arm_retry(b);
	}
}

static int on_interfaces_added(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_ble *b = userdata;
	const char *path;
	int r;

	(void) ret_error;
	if (!b->owner)
		return 0;
	r = sd_bus_message_read_basic(m, 'o', &path);
	if (r <= 0) {
		malformed(b, "InterfacesAdded", NULL, r < 0 ? r : -EBADMSG);
		return 0;
	}
	if (!streq(path, b->adapter_path) && !is_device_path(b, path))
		return 0;
	r = read_interfaces(b, m, path, false);
	if (r != 0)
		malformed(b, "InterfacesAdded", path, r < 0 ? r : 0);
	return 0;
}

static int on_interfaces_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_ble *b = userdata;
	const char *path, *iface;
	bool adapter = false, device = false;
	int r;

	(void) ret_error;
	if (!b->owner)
		return 0;
	r = sd_bus_message_read_basic(m, 'o', &path);
	if (r > 0)
		r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "s");
	while (r > 0 && (r = sd_bus_message_read_basic(m, 's', &iface)) > 0) {
		adapter |= streq(iface, ADAPTER_IFACE);
		device |= streq(iface, DEVICE_IFACE);
	}
	if (r < 0) {
		malformed(b, "InterfacesRemoved", NULL, r);
		return 0;
	}
	if (adapter && streq(path, b->adapter_path) && b->stats.adapter_present)
		adapter_gone(b);
	else if (device && is_device_path(b, path)) {
		struct device *d = device_find(b, path);

		if (d)
			device_drop(b, (size_t) (d - b->devices));
	}
	return 0;
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_ble *b = userdata;
	const char *path = sd_bus_message_get_path(m), *iface;
	unsigned wrong = 0;
	int r;

	(void) ret_error;
	if (!b->owner || !path)
		return 0;
	r = sd_bus_message_read_basic(m, 's', &iface);
	if (r <= 0) {
		malformed(b, "PropertiesChanged", path, r < 0 ? r : -EBADMSG);
		return 0;
	}
	if (streq(path, b->adapter_path) && streq(iface, ADAPTER_IFACE)) {
		struct adapter_props ap = { 0 };

		r = read_adapter_props(m, &ap, &wrong);
		if (r >= 0)
			adapter_changed(b, &ap);
	} else if (is_device_path(b, path) && streq(iface, DEVICE_IFACE)) {
		struct dev_props dp = { 0 };

		r = read_device_props(m, &dp, &wrong);
		if (r >= 0)
			r = read_invalidated(m, &dp);
		if (r >= 0)
			r = device_update(b, path, &dp, false, false);
	}
	if (r < 0 || wrong > 0)
		malformed(b, "PropertiesChanged", path, r < 0 ? r : 0);
	return 0;
}

/* --- bluetoothd coming and going ------------------------------------------- */

static void bluez_gone(struct fg_ble *b)
{
	free(b->owner);
	b->owner = NULL;
	b->objects_call = sd_bus_slot_unref(b->objects_call);
	adapter_reset(b);
	b->said_no_adapter = false;
}

static void bluez_appeared(struct fg_ble *b, const char *owner)
{
	if (streq(owner, b->owner))
		return;
	if (b->owner)
		bluez_gone(b);
	b->owner = strdup(owner);
	if (!b->owner) {
		fg_log_error("ble", "out of memory; BLE waits for bluetoothd to restart");
		return;
	}
	if (b->seen_bluez) {
		b->stats.bluez_restarts++;
		fg_log_info("ble", "bluetoothd is back; setting BLE up again");
	} else if (b->said_no_bluez)
		fg_log_info("ble", "bluetoothd is here");
	b->seen_bluez = true;
	b->said_no_bluez = false;
	load_objects(b);
}

static int on_name_owner(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_ble *b = userdata;
	const char *owner;
	int r;

	(void) ret_error;
	b->owner_call = sd_bus_slot_unref(b->owner_call);
	if (reply_is(m, "GetNameOwner", "org.freedesktop.DBus.Error.NameHasNoOwner")) {
		if (!b->said_no_bluez && !b->owner)
			fg_log_warning("ble", "bluetoothd is not running; BLE waits for it");
		b->said_no_bluez = true;
		return 0;
	}
	if (reply_failed(m, "GetNameOwner"))
		return 0;
	r = sd_bus_message_read_basic(m, 's', &owner);
	if (r <= 0) {
		malformed(b, "GetNameOwner reply", NULL, r < 0 ? r : -EBADMSG);
		return 0;
	}
	bluez_appeared(b, owner);
	return 0;
}

static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_ble *b = userdata;
	const char *name, *old_owner, *new_owner;
	int r;

	(void) ret_error;
	r = sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner);
	if (r <= 0) {
		malformed(b, "NameOwnerChanged", NULL, r < 0 ? r : -EBADMSG);
		return 0;
	}
	if (!streq(name, BLUEZ_SERVICE))
		return 0;
	if (new_owner[0] != '\0') {
		bluez_appeared(b, new_owner);
		return 0;
	}
	if (b->owner) {
		fg_log_warning("ble", "bluetoothd left the bus; BLE waits for it to come back");
		bluez_gone(b);
	}
	return 0;
}

static int on_match_installed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	(void) userdata, (void) ret_error;
	if (reply_failed(m, "AddMatch"))
		fg_log_warning("ble", "some bluetoothd signals will be missed");
	return 0;
}

/* The connection to the bus broke: everything starts again on a new one in 5 s. */
static int on_bus_message(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_ble *b = userdata;

	(void) ret_error;
	if (!sd_bus_message_is_signal(m, "org.freedesktop.DBus.Local", "Disconnected"))
		return 0;
	fg_log_warning("ble", "lost the connection to D-Bus; reconnecting in 5s");
	if (b->owner)
		bluez_gone(b);
	b->bus_lost = true;
	arm_retry(b);
	return 0;
}

/* --- timers --------------------------------------------------------------- */

static void bus_close(struct fg_ble *b)
{
	b->filter_slot = sd_bus_slot_unref(b->filter_slot);
	b->owner_match = sd_bus_slot_unref(b->owner_match);
	b->added_match = sd_bus_slot_unref(b->added_match);
	b->removed_match = sd_bus_slot_unref(b->removed_match);
	b->props_match = sd_bus_slot_unref(b->props_match);
	b->owner_call = sd_bus_slot_unref(b->owner_call);
	b->objects_call = sd_bus_slot_unref(b->objects_call);
	b->scan_call = sd_bus_slot_unref(b->scan_call);
	b->monitor_slot = sd_bus_slot_unref(b->monitor_slot);
	b->manager_slot = sd_bus_slot_unref(b->manager_slot);
	if (b->bus) {
		(void) sd_bus_detach_event(b->bus);
		b->bus = sd_bus_flush_close_unref(b->bus);
	}
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct fg_ble *b = userdata;

	(void) s, (void) usec;
	if (b->bus_lost) {
		bus_close(b);
		if (bus_open(b) < 0) {
			arm_retry(b);
			return 0;
		}
		b->bus_lost = false;
		fg_log_info("ble", "connected to D-Bus again");
		return 0;
	}
	if (!b->owner)
		return 0; /* NameOwnerChanged will say when it is back */
	if (!b->stats.adapter_present) {
		if (!b->objects_call)
			load_objects(b);
		return 0;
	}
	if (!b->stats.scanning && b->powered)
		start_scan(b);
	return 0;
}

static int on_removed_device(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct fg_ble *b = userdata;

	(void) ret_error;
	/* DoesNotExist: bluetoothd dropped it itself meanwhile. */
	if (reply_is(m, "RemoveDevice", "org.bluez.Error.DoesNotExist"))
		return 0;
	if (!reply_failed(m, "RemoveDevice"))
		b->stats.devices_removed++;
	return 0;
}

/* Remove from bluetoothd the devices nobody wants that have not been seen for forget_after_s. */
static int on_forget(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct fg_ble *b = userdata;
	uint64_t now = now_usec(b), limit = (uint64_t) b->forget_after_s * FG_USEC_PER_SEC;

	(void) usec;
	if (sd_event_source_set_time_relative(s, FORGET_TICK_USEC) < 0 ||
	    sd_event_source_set_enabled(s, SD_EVENT_ONESHOT) < 0)
		fg_log_warning("ble",
			       "cannot arm the forget timer; unused devices stay in bluetoothd");
	if (!b->owner || !b->stats.adapter_present)
		return 0;
	for (size_t i = b->n_devices; i-- > 0;) {
		struct device *d = &b->devices[i];
		int r;

		if (now - d->seen_usec < limit)
			continue;
		if (b->wanted && b->wanted(d->address, b->userdata)) {
			/* Keep it in bluetoothd; only the cache entry goes. */
			device_drop(b, i);
			continue;
		}
		r = sd_bus_call_method_async(b->bus, NULL, BLUEZ_SERVICE, b->adapter_path,
					     ADAPTER_IFACE, "RemoveDevice", on_removed_device, b,
					     "o", d->path);
		if (r < 0)
			fg_log_level_errno(LOG_WARNING, r, "ble", "cannot call RemoveDevice: %m");
		else
			fg_log_debug("ble", "removing unused device %s from bluetoothd",
				     d->address);
		device_drop(b, i);
	}
	return 0;
}

/* --- setup ---------------------------------------------------------------- */

static int bus_open(struct fg_ble *b)
{
	char match[256 + ADAPTER_PATH_MAX];
	sd_bus *bus = NULL;
	int r;

	if (b->cfg.bus) {
		r = sd_bus_new(&bus);
		if (r >= 0)
			r = sd_bus_set_address(bus, b->cfg.bus);
		if (r >= 0)
			r = sd_bus_set_bus_client(bus, 1);
		if (r >= 0)
			r = sd_bus_start(bus);
	} else
		r = sd_bus_open_system(&bus);
	if (r < 0) {
		sd_bus_unref(bus);
		/* Retrying after a lost connection: said once already. */
		return fg_log_level_errno(b->bus_lost ? LOG_DEBUG : LOG_ERR, r, "ble",
					  "cannot connect to D-Bus at '%s': %m",
					  b->cfg.bus ? b->cfg.bus : "the system bus");
	}
	b->bus = bus;
	r = sd_bus_attach_event(bus, b->loop, SD_EVENT_PRIORITY_NORMAL);
	if (r < 0)
		goto fail;
	r = sd_bus_add_filter(bus, &b->filter_slot, on_bus_message, b);
	if (r < 0)
		goto fail;
	/* Matches go out before GetNameOwner: nothing bluetoothd says after its answer is lost. */
	r = sd_bus_add_match_async(bus, &b->owner_match,
				   "type='signal',sender='" DBUS_SERVICE "',path='" DBUS_PATH
				   "',interface='" DBUS_SERVICE "',member='NameOwnerChanged',"
				   "arg0='" BLUEZ_SERVICE "'",
				   on_name_owner_changed, on_match_installed, b);
	if (r < 0)
		goto fail;
	r = sd_bus_match_signal_async(bus, &b->added_match, BLUEZ_SERVICE, "/",
				      OBJECT_MANAGER_IFACE, "InterfacesAdded", on_interfaces_added,
				      on_match_installed, b);
	if (r < 0)
		goto fail;
	r = sd_bus_match_signal_async(bus, &b->removed_match, BLUEZ_SERVICE, "/",
				      OBJECT_MANAGER_IFACE, "InterfacesRemoved",
				      on_interfaces_removed, on_match_installed, b);
	if (r < 0)
		goto fail;
	snprintf(match, sizeof(match),
		 "type='signal',sender='" BLUEZ_SERVICE "',interface='" PROPERTIES_IFACE
		 "',member='PropertiesChanged',path_namespace='%s'",
		 b->adapter_path);
	r = sd_bus_add_match_async(bus, &b->props_match, match, on_properties_changed,
				   on_match_installed, b);
	if (r < 0)
		goto fail;
	r = sd_bus_call_method_async(bus, &b->owner_call, DBUS_SERVICE, DBUS_PATH, DBUS_SERVICE,
				     "GetNameOwner", on_name_owner, b, "s", BLUEZ_SERVICE);
	if (r < 0)
		goto fail;
	return 0;
fail:
	fg_log_errno(r, "ble", "cannot set up D-Bus for BLE: %m");
	bus_close(b);
	return r;
}

int fg_ble_new(const struct fg_ble_source_config *cfg, uint32_t forget_after_s, sd_event *loop,
	       fg_ble_adv_fn fn, fg_ble_wanted_fn wanted, void *userdata, struct fg_ble **ret)
{
	const char *adapter = cfg->adapter && cfg->adapter[0] ? cfg->adapter : "hci0";
	struct fg_ble *b;
	int r;

	if (strchr(adapter, '/') || strlen("/org/bluez/") + strlen(adapter) >= ADAPTER_PATH_MAX)
		return fg_log_errno(-EINVAL, "ble", "bad adapter name '%s'", adapter);
	b = calloc(1, sizeof(*b));
	if (!b)
		return fg_log_errno(-ENOMEM, "ble", "cannot set up BLE: %m");
	b->cfg = *cfg;
	b->cfg.adapter = strdup(adapter);
	b->cfg.bus = cfg->bus ? strdup(cfg->bus) : NULL;
	if (!b->cfg.adapter || (cfg->bus && !b->cfg.bus)) {
		r = fg_log_errno(-ENOMEM, "ble", "cannot set up BLE: %m");
		goto fail;
	}
	snprintf(b->adapter_path, sizeof(b->adapter_path), "/org/bluez/%s", adapter);
	b->forget_after_s = forget_after_s;
	b->loop = sd_event_ref(loop);
	b->fn = fn;
	b->wanted = wanted;
	b->userdata = userdata;

	r = sd_event_add_time_relative(loop, &b->retry_timer, CLOCK_MONOTONIC, RETRY_USEC,
				       FG_USEC_PER_SEC / 2, on_retry, b);
	if (r >= 0)
		r = sd_event_source_set_enabled(b->retry_timer, SD_EVENT_OFF);
	if (r >= 0)
		r = sd_event_add_time_relative(loop, &b->forget_timer, CLOCK_MONOTONIC,
					       FORGET_TICK_USEC, 5 * FG_USEC_PER_SEC, on_forget, b);
	if (r < 0) {
		fg_log_errno(r, "ble", "cannot set up BLE timers: %m");
		goto fail;
	}
	r = bus_open(b);
	if (r < 0)
		goto fail;
	*ret = b;
	return 0;
fail:
	fg_ble_free(b);
	return r;
}

void fg_ble_free(struct fg_ble *b)
{
	if (!b)
		return;
	/* Stop politely, without waiting for answers; bluetoothd also cleans up after us. */
	if (b->bus && b->owner && b->stats.adapter_present) {
		if (b->monitor_registered)
			call_noreply(b, b->adapter_path, MONITOR_MANAGER_IFACE, "UnregisterMonitor",
				     APP_ROOT);
		else if (b->stats.scanning)
			call_noreply(b, b->adapter_path, ADAPTER_IFACE, "StopDiscovery", NULL);
	}
	bus_close(b);
	b->retry_timer = sd_event_source_disable_unref(b->retry_timer);
	b->forget_timer = sd_event_source_disable_unref(b->forget_timer);
	devices_drop_all(b);
	free(b->devices);
	free(b->owner);
	free(b->cfg.adapter);
	free(b->cfg.bus);
	sd_event_unref(b->loop);
	free(b);
}

void fg_ble_get_stats(const struct fg_ble *b, struct fg_ble_stats *ret)
{
	if (!b) {
		memset(ret, 0, sizeof(*ret));
		return;
	}
	*ret = b->stats;
}
