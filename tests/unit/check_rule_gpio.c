/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The rules' GPIO lines, against a recording fake of the gpio ops, and the
 * configuration checks that keep two rules off one line.
 */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/log.h"
#include "rules/rule-gpio.h"
#include "check-main.h"
#include "json-valid.h"

/* ---------------------------------------------------------------- the fake ops */

/* A line handed out by the fake: what it was requested as, and whether it is still held. */
struct fg_gpio_line {
	char chip[32];
	unsigned offset;
	int value;
	bool released;
};

enum call_kind { CALL_REQUEST, CALL_SET, CALL_RELEASE };

struct call {
	enum call_kind kind;
	struct fg_gpio_line *line; /* NULL for a failed request */
	char chip[32];
	unsigned offset;
	int value; /* initial value of a request, value of a set */
	char consumer[16];
};

static struct fg_gpio_line pool[16];
static size_t n_pool;
static struct call calls[64];
static size_t n_calls;
static int request_error, set_error; /* what the next request / set returns, once */

static struct call *record(enum call_kind kind, struct fg_gpio_line *line)
{
	ck_assert_uint_lt(n_calls, sizeof(calls) / sizeof(calls[0]));
	calls[n_calls] = (struct call){ .kind = kind, .line = line };
	if (line) {
		snprintf(calls[n_calls].chip, sizeof(calls[n_calls].chip), "%s", line->chip);
		calls[n_calls].offset = line->offset;
	}
	return &calls[n_calls++];
}

static int fake_request(const char *chip, unsigned offset, int initial_value, const char *consumer,
			struct fg_gpio_line **ret_line)
{
	struct fg_gpio_line *l = &pool[n_pool];
	struct call *c;
	int r = request_error;

	request_error = 0;
	ck_assert_uint_lt(n_pool, sizeof(pool) / sizeof(pool[0]));
	c = record(CALL_REQUEST, NULL);
	snprintf(c->chip, sizeof(c->chip), "%s", chip);
	snprintf(c->consumer, sizeof(c->consumer), "%s", consumer);
	c->offset = offset;
	c->value = initial_value;
	if (r < 0)
		return r;
	n_pool++;
	snprintf(l->chip, sizeof(l->chip), "%s", chip);
	l->offset = offset;
	l->value = initial_value;
	c->line = l;
	*ret_line = l;
	return 0;
}

static int fake_set(struct fg_gpio_line *line, int value)
{
	int r = set_error;

	set_error = 0;
	ck_assert(!line->released);
	record(CALL_SET, line)->value = value;
	if (r < 0)
		return r;
	line->value = value;
	return 0;
}

static void fake_release(struct fg_gpio_line *line)
{
	ck_assert_ptr_nonnull(line);
	ck_assert(!line->released);
	record(CALL_RELEASE, line);
	line->released = true;
}

static const struct fg_gpio_ops fake_ops = {
	.line_request = fake_request,
	.line_set = fake_set,
	.line_release = fake_release,
};

/* ---------------------------------------------------------------- fixtures */

static struct fg_config *cfg, *cfg2;
static struct fg_rule_gpio *g;
static char *log_text;
static size_t log_size;
static FILE *log_stream;

static void setup(void)
{
	/* Also with CK_FORK=no, where one process runs every test. */
	memset(pool, 0, sizeof(pool));
	memset(calls, 0, sizeof(calls));
	n_pool = n_calls = 0;
	request_error = set_error = 0;
	log_stream = open_memstream(&log_text, &log_size);
	ck_assert_ptr_nonnull(log_stream);
	fg_log_set_stream(log_stream);
}

static void teardown(void)
{
	fg_rule_gpio_free(g);
	g = NULL;
	fg_config_free(cfg2);
	fg_config_free(cfg);
	cfg = cfg2 = NULL;
	fg_log_set_stream(NULL);
	fclose(log_stream);
	free(log_text);
	log_text = NULL;
}

static const char *log_read(void)
{
	fflush(log_stream);
	return log_text ? log_text : "";
}

/* "rules = (" and the rules of the NULL-terminated list, one a line (rule i on line i + 2). */
static void rules_text(char *buf, size_t size, const char *first, va_list ap)
{
	size_t n = (size_t) snprintf(buf, size, "rules = (\n%s", first);

	for (const char *r; n < size && (r = va_arg(ap, const char *));)
		n += (size_t) snprintf(buf + n, size - n, ",\n%s", r);
	if (n < size)
		n += (size_t) snprintf(buf + n, size - n, "\n);\n");
	ck_assert_uint_lt(n, size);
}

static struct fg_config *load_va(const char *first, va_list ap)
{
	struct fg_diags diags = { 0 };
	struct fg_config *c = NULL;
	char text[2048];

	rules_text(text, sizeof(text), first, ap);
	if (fg_config_load_string(text, "rules.conf", &c, &diags) < 0)
		fg_diags_print(&diags, stderr);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(diags.n, 0);
	fg_diags_clear(&diags);
	return c;
}

/* Load a configuration of these rules (NULL-terminated), which must be good. */
static struct fg_config *load(const char *first, ...)
{
	struct fg_config *c;
	va_list ap;

	va_start(ap, first);
	c = load_va(first, ap);
	va_end(ap);
	return c;
}

/* A rule named name driving line of chip; levels: its "on" and "off" members, or "". */
#define GPIO_RULE(name, chip, line, levels)                                                        \
	"{ name = \"" name "\"; match = \"*/temperature\"; when = \"value < 0\";"                  \
	" gpio = { chip = \"" chip "\"; line = " #line "; " levels " }; }"

#define PLAIN_RULE "{ name = \"plain\"; match = \"*\"; unit = \"count\"; }"

/* cfg from these rules (NULL-terminated), and g on the fake ops. */
static void start(const char *first, ...)
{
	va_list ap;

	va_start(ap, first);
	cfg = load_va(first, ap);
	va_end(ap);
	ck_assert_int_eq(fg_rule_gpio_new(cfg, &fake_ops, NULL, &g), 0);
}

static struct fg_rule_gpio_stats stats(void)
{
	struct fg_rule_gpio_stats st;

	fg_rule_gpio_get_stats(g, &st);
	return st;
}

/* ---------------------------------------------------------------- driving lines */

START_TEST(rule_gpio_requests_the_line_at_the_first_set_at_that_level)
{
	start(GPIO_RULE("frost", "gpiochip0", 27, ""), NULL);
	ck_assert_uint_eq(n_calls, 0);
	ck_assert_int_eq(fg_rule_gpio_level(g, 0), -1);

	ck_assert_int_eq(fg_rule_gpio_set(g, 0, true), 1);
	ck_assert_uint_eq(n_calls, 1);
	ck_assert_int_eq(calls[0].kind, CALL_REQUEST);
	ck_assert_str_eq(calls[0].chip, "gpiochip0");
	ck_assert_uint_eq(calls[0].offset, 27);
	ck_assert_int_eq(calls[0].value, 1);
	ck_assert_str_eq(calls[0].consumer, "fieldgate");
	ck_assert_int_eq(fg_rule_gpio_level(g, 0), 1);
	ck_assert_uint_eq(stats().changes, 1);
}
END_TEST

START_TEST(rule_gpio_first_clear_requests_the_line_at_off)
{
	start(GPIO_RULE("frost", "gpiochip0", 27, ""), NULL);
	ck_assert_int_eq(fg_rule_gpio_set(g, 0, false), 1);
	ck_assert_uint_eq(n_calls, 1);
	ck_assert_int_eq(calls[0].kind, CALL_REQUEST);
	ck_assert_int_eq(calls[0].value, 0);
	ck_assert_int_eq(fg_rule_gpio_level(g, 0), 0);
}
END_TEST

START_TEST(rule_gpio_drives_the_line_only_on_change)
{
	start(GPIO_RULE("frost", "gpiochip0", 27, ""), NULL);
	ck_assert_int_eq(fg_rule_gpio_set(g, 0, true), 1);
	ck_assert_int_eq(fg_rule_gpio_set(g, 0, true), 0);
	ck_assert_uint_eq(n_calls, 1);

	ck_assert_int_eq(fg_rule_gpio_set(g, 0, false), 1);
	ck_assert_uint_eq(n_calls, 2);
	ck_assert_int_eq(calls[1].kind, CALL_SET);
	ck_assert_ptr_eq(calls[1].line, calls[0].line);
	ck_assert_int_eq(calls[1].value, 0);
	ck_assert_int_eq(fg_rule_gpio_set(g, 0, false), 0);
	ck_assert_uint_eq(n_calls, 2);
	ck_assert_uint_eq(stats().changes, 2);
	ck_assert_uint_eq(stats().failures, 0);
}
END_TEST

START_TEST(rule_gpio_honours_inverted_on_and_off_levels)
{
	start(GPIO_RULE("frost", "gpiochip0", 27, "on = 0; off = 1;"), NULL);
	ck_assert_int_eq(fg_rule_gpio_set(g, 0, true), 1);
	ck_assert_int_eq(calls[0].kind, CALL_REQUEST);
	ck_assert_int_eq(calls[0].value, 0);
	ck_assert_int_eq(fg_rule_gpio_level(g, 0), 0);
	ck_assert_int_eq(fg_rule_gpio_set(g, 0, false), 1);
	ck_assert_int_eq(calls[1].kind, CALL_SET);
	ck_assert_int_eq(calls[1].value, 1);
	ck_assert_int_eq(fg_rule_gpio_level(g, 0), 1);
}
END_TEST

START_TEST(rule_gpio_counts_logs_and_retries_a_failed_request)
{
	start(GPIO_RULE("frost", "gpiochip0", 27, ""), NULL);
	request_error = -EBUSY;
	ck_assert_int_eq(fg_rule_gpio_set(g, 0, true), -EBUSY);
	ck_assert_int_eq(fg_rule_gpio_level(g, 0), -1);
	ck_assert_uint_eq(stats().failures, 1);
	ck_assert_uint_eq(stats().changes, 0);
	ck_assert_str_eq(log_read(),
			 "warning rules: rule 'frost': gpio: cannot request line 27 of "
			 "gpiochip0: Device or resource busy; is the line used by another "
			 "program? see gpioinfo; trying again at the next change\n");

	/* The same level again: the line was never driven, so it is tried again. */
	ck_assert_int_eq(fg_rule_gpio_set(g, 0, true), 1);
	ck_assert_uint_eq(n_calls, 2);
	ck_assert_int_eq(calls[1].kind, CALL_REQUEST);
	ck_assert_ptr_nonnull(calls[1].line);
	ck_assert_int_eq(calls[1].value, 1);
	ck_assert_int_eq(fg_rule_gpio_level(g, 0), 1);
	ck_assert_uint_eq(stats().failures, 1);
}
END_TEST

START_TEST(rule_gpio_permission_failure_names_the_device_and_group)
{
	start(GPIO_RULE("frost", "0", 27, ""), NULL);
	request_error = -EACCES;
	ck_assert_int_eq(fg_rule_gpio_set(g, 0, true), -EACCES);
	ck_assert_str_eq(log_read(),
			 "warning rules: rule 'frost': gpio: cannot request line 27 of "
			 "0: Permission denied; check the permissions of /dev/gpiochip0: "
			 "is the service user in the gpio group?; trying again at the "
			 "next change\n");
}
END_TEST

START_TEST(rule_gpio_failed_set_is_retried_on_the_held_line)
{
	start(GPIO_RULE("frost", "gpiochip0", 27, ""), NULL);
	ck_assert_int_eq(fg_rule_gpio_set(g, 0, true), 1);
	set_error = -EIO;
	ck_assert_int_eq(fg_rule_gpio_set(g, 0, false), -EIO);
	ck_assert_int_eq(fg_rule_gpio_level(g, 0), -1);
	ck_assert_ptr_nonnull(strstr(log_read(), "cannot set line 27 of gpiochip0: Input/output "
						 "error; see gpioinfo and the kernel log;"));
	ck_assert_int_eq(fg_rule_gpio_set(g, 0, false), 1);
	ck_assert_uint_eq(n_calls, 3);
	ck_assert_int_eq(calls[2].kind, CALL_SET);
	ck_assert_ptr_eq(calls[2].line, calls[0].line);
	ck_assert_int_eq(calls[2].value, 0);
	ck_assert_uint_eq(stats().failures, 1);
	ck_assert_uint_eq(stats().changes, 2);
}
END_TEST

START_TEST(rule_gpio_rule_without_gpio_is_a_noop)
{
	start(PLAIN_RULE, GPIO_RULE("frost", "sim", 3, ""), NULL);
	ck_assert_int_eq(fg_rule_gpio_set(g, 0, true), 0);
	ck_assert_int_eq(fg_rule_gpio_set(g, 0, false), 0);
	ck_assert_int_eq(fg_rule_gpio_level(g, 0), -1);
	ck_assert_uint_eq(n_calls, 0);
	ck_assert_uint_eq(stats().changes, 0);
	ck_assert_str_eq(log_read(), "");
}
END_TEST

START_TEST(rule_gpio_sim_chip_logs_each_change_and_never_calls_ops)
{
	start(GPIO_RULE("frost", "sim", 27, ""), NULL);
	ck_assert_int_eq(fg_rule_gpio_set(g, 0, true), 1);
	ck_assert_int_eq(fg_rule_gpio_set(g, 0, true), 0);
	ck_assert_int_eq(fg_rule_gpio_level(g, 0), 1);
	ck_assert_int_eq(fg_rule_gpio_set(g, 0, false), 1);
	ck_assert_int_eq(fg_rule_gpio_level(g, 0), 0);
	fg_rule_gpio_free(g);
	g = NULL;
	/*
	 * The simulated chip (gpio/gpio-sim.h) says what it is driven to, the
	 * rule why; freed, the line is left off and released.
	 */
	ck_assert_str_eq(log_read(),
			 "info gpio: sim line 27 requested as output, set to 1 (fieldgate)\n"
			 "info rules: rule 'frost': gpio sim line 27 set to 1 (raised)\n"
			 "info gpio: sim line 27 set to 0 (fieldgate)\n"
			 "info rules: rule 'frost': gpio sim line 27 set to 0 (cleared)\n"
			 "info gpio: sim line 27 set to 0 (fieldgate)\n"
			 "info gpio: sim line 27 released (fieldgate)\n");
	ck_assert_uint_eq(n_calls, 0);
}
END_TEST

/* ---------------------------------------------------------------- lifetime */

START_TEST(rule_gpio_free_releases_every_requested_line)
{
	start(GPIO_RULE("a", "gpiochip0", 1, ""), GPIO_RULE("b", "gpiochip0", 2, ""),
	      GPIO_RULE("c", "gpiochip1", 1, ""), GPIO_RULE("never", "gpiochip0", 3, ""), NULL);
	for (size_t i = 0; i < 3; i++)
		ck_assert_int_eq(fg_rule_gpio_set(g, i, true), 1);
	fg_rule_gpio_free(g);
	g = NULL;
	/* Each line is left at its off level, then released. */
	ck_assert_uint_eq(n_calls, 9);
	for (size_t i = 0; i < 3; i++) {
		ck_assert_int_eq(calls[3 + 2 * i].kind, CALL_SET);
		ck_assert_int_eq(calls[3 + 2 * i].value, 0);
		ck_assert_int_eq(calls[4 + 2 * i].kind, CALL_RELEASE);
		ck_assert(pool[i].released);
	}
	fg_rule_gpio_free(NULL);
}
END_TEST

START_TEST(rule_gpio_reload_keeps_lines_and_releases_dropped_ones)
{
	struct fg_rule_gpio *old;

	start(GPIO_RULE("a", "gpiochip0", 27, ""), GPIO_RULE("b", "gpiochip0", 22, ""),
	      GPIO_RULE("s", "sim", 5, ""), NULL);
	ck_assert_int_eq(fg_rule_gpio_set(g, 0, true), 1);
	ck_assert_int_eq(fg_rule_gpio_set(g, 1, true), 1);
	ck_assert_int_eq(fg_rule_gpio_set(g, 2, true), 1);
	ck_assert_uint_eq(n_calls, 2);
	old = g;
	g = NULL;

	/* Line 27 spelled another way and moved to another index; 22 dropped; 4 new. */
	cfg2 = load(GPIO_RULE("new", "gpiochip0", 4, ""), GPIO_RULE("a2", "/dev/gpiochip0", 27, ""),
		    GPIO_RULE("s", "sim", 5, ""), NULL);
	ck_assert_int_eq(fg_rule_gpio_new(cfg2, &fake_ops, old, &g), 0);
	/* The dropped line is left at its off level, then released. */
	ck_assert_uint_eq(n_calls, 4);
	ck_assert_int_eq(calls[2].kind, CALL_SET);
	ck_assert_int_eq(calls[2].value, 0);
	ck_assert_int_eq(calls[3].kind, CALL_RELEASE);
	ck_assert_uint_eq(calls[3].offset, 22);
	ck_assert(!pool[0].released);

	/* Kept lines keep their level: nothing to drive, nothing logged again. */
	ck_assert_int_eq(fg_rule_gpio_level(g, 1), 1);
	ck_assert_int_eq(fg_rule_gpio_set(g, 1, true), 0);
	ck_assert_int_eq(fg_rule_gpio_level(g, 2), 1);
	ck_assert_int_eq(fg_rule_gpio_set(g, 2, true), 0);
	ck_assert_int_eq(fg_rule_gpio_set(g, 1, false), 1);
	ck_assert_int_eq(calls[4].kind, CALL_SET);
	ck_assert_ptr_eq(calls[4].line, &pool[0]);
	ck_assert_int_eq(fg_rule_gpio_level(g, 0), -1);

	fg_rule_gpio_free(g);
	g = NULL;
	ck_assert_int_eq(calls[n_calls - 1].kind, CALL_RELEASE);
	ck_assert_ptr_eq(calls[n_calls - 1].line, &pool[0]);
}
END_TEST

/* ---------------------------------------------------------------- status */

START_TEST(rule_gpio_status_json_lists_each_gpio_rule)
{
	char buf[512];
	int n;

	start(GPIO_RULE("frost", "gpiochip0", 27, ""), PLAIN_RULE,
	      GPIO_RULE("pump \\\"2\\\"", "sim", 4, ""), GPIO_RULE("fan", "/dev/gpiochip1", 6, ""),
	      NULL);
	ck_assert_int_eq(fg_rule_gpio_set(g, 0, true), 1);
	request_error = -EBUSY;
	ck_assert_int_eq(fg_rule_gpio_set(g, 3, true), -EBUSY);
	n = fg_rule_gpio_status_json(g, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq((size_t) n, strlen(buf));
	ck_assert(json_valid(buf, (size_t) n));
	ck_assert_str_eq(buf, "[{\"rule\":\"frost\",\"chip\":\"gpiochip0\",\"line\":27,\"level\":1,"
			      "\"failures\":0},"
			      "{\"rule\":\"pump \\\"2\\\"\",\"chip\":\"sim\",\"line\":4,"
			      "\"level\":null,\"failures\":0},"
			      "{\"rule\":\"fan\",\"chip\":\"/dev/gpiochip1\",\"line\":6,"
			      "\"level\":null,\"failures\":1}]");
	ck_assert_int_eq(fg_rule_gpio_status_json(g, buf, (size_t) n), -ENOBUFS);
	ck_assert_int_eq(fg_rule_gpio_status_json(g, buf, 0), -ENOBUFS);
}
END_TEST

START_TEST(rule_gpio_status_json_is_an_empty_array_without_gpio_rules)
{
	char buf[8];

	start(PLAIN_RULE, NULL);
	ck_assert_int_eq(fg_rule_gpio_status_json(g, buf, sizeof(buf)), 2);
	ck_assert_str_eq(buf, "[]");
	ck_assert(json_valid(buf, 2));
}
END_TEST

/* ---------------------------------------------------------------- configuration */

/* The only error of a configuration of these rules (NULL-terminated), as the daemon prints it. */
static void assert_config_error(const char *expected, const char *first, ...)
{
	struct fg_diags diags = { 0 };
	struct fg_config *c = NULL;
	char text[2048];
	va_list ap;
	char *s;

	va_start(ap, first);
	rules_text(text, sizeof(text), first, ap);
	va_end(ap);
	ck_assert_int_eq(fg_config_load_string(text, "rules.conf", &c, &diags), -EINVAL);
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(diags.n, 1);
	ck_assert_int_eq(diags.v[0].severity, FG_DIAG_ERROR);
	s = fg_diag_format(&diags.v[0]);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, expected);
	free(s);
	fg_diags_clear(&diags);
}

START_TEST(config_rejects_two_rules_on_one_line)
{
	assert_config_error("rules.conf:3: rules: rule 'b': gpio: line 27 of gpiochip0 is already "
			    "driven by rule 'a'",
			    GPIO_RULE("a", "gpiochip0", 27, ""),
			    GPIO_RULE("b", "gpiochip0", 27, ""), NULL);
}
END_TEST

START_TEST(config_rejects_one_line_under_two_chip_spellings)
{
	assert_config_error("rules.conf:4: rules: rule 'b': gpio: line 27 of gpiochip0 is already "
			    "driven by rule 'a'",
			    GPIO_RULE("a", "/dev/gpiochip0", 27, ""), PLAIN_RULE,
			    GPIO_RULE("b", "0", 27, ""), NULL);
	assert_config_error("rules.conf:3: rules: rule 'b': gpio: line 1 of gpiochip3 is already "
			    "driven by rule 'a'",
			    GPIO_RULE("a", "gpiochip3", 1, ""),
			    GPIO_RULE("b", "/dev/gpiochip3", 1, ""), NULL);
}
END_TEST

START_TEST(config_rejects_two_rules_on_one_sim_line)
{
	assert_config_error("rules.conf:3: rules: rule 'b': gpio: line 27 of sim is already driven "
			    "by rule 'a'",
			    GPIO_RULE("a", "sim", 27, ""), GPIO_RULE("b", "sim", 27, ""), NULL);
}
END_TEST

START_TEST(config_accepts_one_line_number_on_different_chips)
{
	cfg = load(GPIO_RULE("a", "gpiochip0", 27, ""), GPIO_RULE("b", "gpiochip1", 27, ""),
		   GPIO_RULE("c", "sim", 27, ""), GPIO_RULE("d", "0", 26, ""), NULL);
	ck_assert_uint_eq(cfg->n_rules, 4);
	ck_assert_str_eq(cfg->rules[2].gpio_chip, "sim");
	ck_assert_str_eq(cfg->rules[3].gpio_chip, "0");
	ck_assert_uint_eq(cfg->rules[3].gpio_line, 26);
}
END_TEST

START_TEST(config_rejects_a_chip_that_is_no_gpio_chip)
{
	static const char *const bad[] = { "spi0",	"/dev/sda", "gpiochip", "../gpiochip0",
					   "simulated", "1024",	    NULL };

	for (size_t i = 0; bad[i]; i++) {
		char rule[256], expected[256];

		snprintf(rule, sizeof(rule),
			 "{ name = \"a\"; match = \"*\"; when = \"value < 0\";"
			 " gpio = { chip = \"%s\"; line = 1; }; }",
			 bad[i]);
		snprintf(expected, sizeof(expected),
			 "rules.conf:2: rules: rule 'a': gpio: 'chip': expected gpiochipN, "
			 "/dev/gpiochipN, N (0..1023) or \"sim\", got '%s'",
			 bad[i]);
		assert_config_error(expected, rule, NULL);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rule_gpio");
	TCase *drive = tcase_create("drive");
	TCase *life = tcase_create("lifetime");
	TCase *status = tcase_create("status");
	TCase *config = tcase_create("config");

	tcase_add_checked_fixture(drive, setup, teardown);
	tcase_add_test(drive, rule_gpio_requests_the_line_at_the_first_set_at_that_level);
	tcase_add_test(drive, rule_gpio_first_clear_requests_the_line_at_off);
	tcase_add_test(drive, rule_gpio_drives_the_line_only_on_change);
	tcase_add_test(drive, rule_gpio_honours_inverted_on_and_off_levels);
	tcase_add_test(drive, rule_gpio_counts_logs_and_retries_a_failed_request);
	tcase_add_test(drive, rule_gpio_permission_failure_names_the_device_and_group);
	tcase_add_test(drive, rule_gpio_failed_set_is_retried_on_the_held_line);
	tcase_add_test(drive, rule_gpio_rule_without_gpio_is_a_noop);
	tcase_add_test(drive, rule_gpio_sim_chip_logs_each_change_and_never_calls_ops);
	suite_add_tcase(s, drive);

	tcase_add_checked_fixture(life, setup, teardown);
	tcase_add_test(life, rule_gpio_free_releases_every_requested_line);
	tcase_add_test(life, rule_gpio_reload_keeps_lines_and_releases_dropped_ones);
	suite_add_tcase(s, life);

	tcase_add_checked_fixture(status, setup, teardown);
	tcase_add_test(status, rule_gpio_status_json_lists_each_gpio_rule);
	tcase_add_test(status, rule_gpio_status_json_is_an_empty_array_without_gpio_rules);
	suite_add_tcase(s, status);

	tcase_add_checked_fixture(config, setup, teardown);
	tcase_add_test(config, config_rejects_two_rules_on_one_line);
	tcase_add_test(config, config_rejects_one_line_under_two_chip_spellings);
	tcase_add_test(config, config_rejects_two_rules_on_one_sim_line);
	tcase_add_test(config, config_accepts_one_line_number_on_different_chips);
	tcase_add_test(config, config_rejects_a_chip_that_is_no_gpio_chip);
	suite_add_tcase(s, config);
	return fg_check_main(s);
}
