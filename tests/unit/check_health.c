/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "sink/health.h"
#include "check-main.h"

static char buf[32768];

/* A record with some of everything set. */
static int full_record(char *out, size_t size)
{
	struct fg_health_parts p = {
		.gateway = "gw-01",
		.clock_synchronized = true,
		.time_ms = 1700000000000ULL,
		.uptime_s = 42,
		.readings_in = 100,
		.published = 90,
		.dropped_store = 2,
		.dropped_unformattable = 1,
		.readings_per_s = 1.5,
		.have_mqtt = true,
		.mqtt = { .state = FG_MQTT_CONNECTED, .connects = 3 },
		.have_gwmp = true,
		.have_sim = true,
		.sim_emitted = 7,
	};

	p.store.evicted = 5;
	p.store.evicted_disk = 5;
	p.store.outbox_rows = 10;
	p.gwmp.refused[1] = 4;
	strcpy(p.mqtt.last_error, "said \"no\"\\\n");
	return fg_health_json(&p, out, size);
}

/* The record is JSON with the keys others read, the sums matching their parts. */
START_TEST(health_record_is_json_with_its_keys)
{
	int n = full_record(buf, sizeof(buf));
	json_t *rec, *src;

	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(strlen(buf), (size_t) n);
	ck_assert_int_eq(buf[n - 1], '\n');
	rec = json_loads(buf, 0, NULL);
	ck_assert_ptr_nonnull(rec);
	ck_assert_int_eq(json_integer_value(json_object_get(rec, "schema")), FG_HEALTH_SCHEMA);
	ck_assert(json_is_true(json_object_get(rec, "clock_synchronized")));
	ck_assert_int_eq(json_integer_value(json_object_get(rec, "reconnects")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(rec, "dropped")), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(rec, "evicted")), 5);
	ck_assert_int_eq(
		json_integer_value(json_object_get(json_object_get(rec, "evictions"), "disk")), 5);
	ck_assert_str_eq(json_string_value(json_object_get(rec, "broker")), "connected");
	src = json_object_get(rec, "sources");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(src, "gwmp"), "state")),
			 "listening");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(src, "ble"), "state")),
			 "off");
	ck_assert_int_eq(
		json_integer_value(json_object_get(json_object_get(src, "sim"), "received")), 7);
	json_decref(rec);
}
END_TEST

/* Too small a buffer is -ENOBUFS (or, at the very end, a shorter broker_error), never a cut record.
 */
START_TEST(health_record_refuses_a_small_buffer)
{
	static char small[sizeof(buf)];
	int n = full_record(buf, sizeof(buf));

	for (size_t size = 0; size <= (size_t) n + 1; size += size + 64 < (size_t) n ? 97 : 1) {
		int k = full_record(small, size);
		json_t *rec;

		if (k == -ENOBUFS)
			continue;
		ck_assert_int_gt(k, 0);
		ck_assert_uint_lt((size_t) k, size);
		rec = json_loads(small, 0, NULL);
		ck_assert_msg(rec != NULL, "a cut record at size %zu", size);
		json_decref(rec);
	}
	ck_assert_int_eq(full_record(small, (size_t) n / 2), -ENOBUFS);
	ck_assert_int_eq(full_record(small, (size_t) n + 16), n);
}
END_TEST

/* Without a synchronized clock the record has no time. */
START_TEST(health_record_has_no_time_without_the_clock)
{
	struct fg_health_parts p = { .gateway = "gw" };
	json_t *rec;

	ck_assert_int_gt(fg_health_json(&p, buf, sizeof(buf)), 0);
	rec = json_loads(buf, 0, NULL);
	ck_assert(json_is_null(json_object_get(rec, "time_ms")));
	ck_assert(json_is_false(json_object_get(rec, "clock_synchronized")));
	ck_assert_str_eq(json_string_value(json_object_get(rec, "broker")), "idle");
	json_decref(rec);
}
END_TEST

/* From the buffer file: the daemon's keys, its counters null, running false. */
START_TEST(health_file_record_has_the_same_keys)
{
	struct fg_store_summary sum = { .outbox_rows = 8, .readings_rows = 1, .db_bytes = 4096 };
	char *file = fg_health_file_json("gw", &sum, 1234, true, false);
	json_t *a, *b, *v;
	const char *key;

	ck_assert_ptr_nonnull(file);
	ck_assert_int_gt(full_record(buf, sizeof(buf)), 0);
	a = json_loads(buf, 0, NULL);
	b = json_loads(file, 0, NULL);
	ck_assert_ptr_nonnull(b);
	json_object_foreach(a, key, v)
		ck_assert_msg(json_object_get(b, key) != NULL, "%s missing from the file's", key);
	ck_assert(json_is_false(json_object_get(b, "running")));
	ck_assert_int_eq(json_integer_value(json_object_get(b, "buffer_depth")), 9);
	ck_assert_int_eq(json_integer_value(json_object_get(b, "disk_free")), 1234);
	ck_assert(json_is_null(json_object_get(b, "readings_in")));
	ck_assert(json_is_null(json_object_get(b, "broker")));
	ck_assert(json_is_null(json_object_get(
		json_object_get(json_object_get(b, "sources"), "gwmp"), "received")));
	json_decref(a);
	json_decref(b);
	free(file);
}
END_TEST

/* The metrics: HELP and TYPE, _total counters, labels, fieldgate_up. */
START_TEST(health_metrics_from_the_record)
{
	char *text = NULL;

	ck_assert_int_gt(full_record(buf, sizeof(buf)), 0);
	ck_assert_int_eq(fg_health_metrics(buf, &text), 0);
	ck_assert_ptr_nonnull(strstr(text, "# TYPE fieldgate_up gauge\nfieldgate_up 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "# TYPE fieldgate_readings_total counter\n"
					   "fieldgate_readings_total 100\n"));
	ck_assert_ptr_nonnull(strstr(text, "fieldgate_readings_per_second 1.5\n"));
	ck_assert_ptr_nonnull(strstr(text, "fieldgate_broker_reconnects_total 2\n"));
	ck_assert_ptr_nonnull(strstr(text, "fieldgate_evicted_total{cause=\"disk\"} 5\n"));
	ck_assert_ptr_nonnull(strstr(text, "fieldgate_dropped_total{cause=\"store\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(text, "fieldgate_source_refused_total{source=\"gwmp\","
					   "reason=\"too-short\"} 4\n"));
	ck_assert_ptr_nonnull(
		strstr(text, "fieldgate_source_state{source=\"ble\",state=\"off\"} 1\n"));
	ck_assert_ptr_nonnull(
		strstr(text, "fieldgate_info{version=\"" PACKAGE_VERSION "\",gateway=\"gw-01\","));
	free(text);
}
END_TEST

/* Null values are left out, label values escaped, anything but a record refused. */
START_TEST(health_metrics_escape_and_omit)
{
	char *text = NULL;

	ck_assert_int_eq(fg_health_metrics("{\"running\":false,\"gateway\":\"a\\\"b\\\\c\\nd\","
					   "\"readings_in\":null,\"buffer_depth\":3}",
					   &text),
			 0);
	ck_assert_ptr_nonnull(strstr(text, "fieldgate_up 0\n"));
	ck_assert_ptr_nonnull(strstr(text, "gateway=\"a\\\"b\\\\c\\nd\""));
	ck_assert_ptr_null(strstr(text, "fieldgate_readings_total"));
	ck_assert_ptr_nonnull(strstr(text, "fieldgate_buffer_messages 3\n"));
	free(text);
	ck_assert_int_eq(fg_health_metrics("[1]", &text), -EINVAL);
	ck_assert_int_eq(fg_health_metrics("not json", &text), -EINVAL);
}
END_TEST

/* The textfile is replaced whole, leaving no temporary behind; a missing directory is an error. */
START_TEST(health_write_file_replaces_atomically)
{
	char dir[] = "/tmp/check_health-XXXXXX", path[64], tmp[80], got[64] = "";
	struct stat before, after;
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f.prom", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	ck_assert_int_eq(fg_health_write_file(path, "one 1\n"), 0);
	ck_assert_int_eq(stat(path, &before), 0);
	ck_assert_int_eq(fg_health_write_file(path, "two 2\n"), 0);
	ck_assert_int_eq(stat(path, &after), 0);
	ck_assert_uint_ne(before.st_ino, after.st_ino);
	ck_assert_int_eq(after.st_mode & 0777, 0644);
	ck_assert_int_eq(access(tmp, F_OK), -1);
	fd = open(path, O_RDONLY);
	ck_assert_int_eq(read(fd, got, sizeof(got) - 1), 6);
	close(fd);
	ck_assert_str_eq(got, "two 2\n");
	unlink(path);
	rmdir(dir);
	ck_assert_int_eq(fg_health_write_file("/nonexistent-dir/f.prom", "x\n"), -ENOENT);
}
END_TEST

static Suite *health_suite(void)
{
	Suite *s = suite_create("health");
	TCase *rec = tcase_create("record");
	TCase *met = tcase_create("metrics");

	tcase_add_test(rec, health_record_is_json_with_its_keys);
	tcase_add_test(rec, health_record_refuses_a_small_buffer);
	tcase_add_test(rec, health_record_has_no_time_without_the_clock);
	tcase_add_test(rec, health_file_record_has_the_same_keys);
	tcase_add_test(met, health_metrics_from_the_record);
	tcase_add_test(met, health_metrics_escape_and_omit);
	tcase_add_test(met, health_write_file_replaces_atomically);
	suite_add_tcase(s, rec);
	suite_add_tcase(s, met);
	return s;
}

int main(void)
{
	return fg_check_main(health_suite());
}
