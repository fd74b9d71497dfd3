/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fieldgatectl rules test: readings (JSON lines, as `fieldgated --dry-run`
 * prints them) through the configured rules, offline. The daemon's own
 * pipeline runs on a scratch buffer in a temporary directory, so what is
 * printed is what the daemon would publish; the configured buffer is never
 * opened.
 *
 * The engine's clock is the readings' time: each frame is committed with
 * the clock at its time (readings without one keep the previous time, or
 * the real clock until a reading had one). Windows that end before a frame
 * are closed first, at their end, as the daemon's window timer would.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <jansson.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/reading-parse.h"
#include "ctl.h"
#include "rules/pipeline.h"
#include "rules/rules.h"
#include "gpio/gpio.h"
#include "store/store.h"

#define LINE_MAX_BYTES (64 * 1024) /* as fg_reading_from_json */
#define FRAME_MAX      64	   /* readings committed as one frame at most */
#define PEEK_BATCH     256


/* Set by SIGINT, SIGTERM and SIGHUP: stop reading, remove the scratch buffer, exit. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

struct rules_test {
	const char *input; /* the readings file as named in messages */
	struct fg_config *cfg;
	char dir[PATH_MAX]; /* the scratch directory, "" until made */
	struct fg_store *store;
	struct fg_pipeline *p;
	uint64_t now_ms;	   /* the offline clock; 0: the real one */
	bool *raised;		   /* per rule: the GPIO state last printed */
	uint64_t last_seq;	   /* the last message printed */
	uint64_t seqs[PEEK_BATCH]; /* printed by the current peek, to acknowledge */
	size_t n_seqs;
	unsigned long long readings, messages, bad;
	/*
	 * The frame being read: consecutive readings of one source, device and
	 * frame id, kept here (string values copied) until it is complete, so
	 * that windows ending before its time can be closed first.
	 */
	struct fg_reading frame[FRAME_MAX];
	char *texts[FRAME_MAX];
	size_t n_frame;
	uint64_t frame_ms; /* the latest wall time in it, 0 if none */
	bool json;	   /* --json: one JSON object per line */
};

/* --json: one object as one line of output. */
static void print_json_line(json_t *o)
{
	json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
	fputc('\n', stdout);
	json_decref(o);
}

static uint64_t offline_wall_ms(void *userdata)
{
	const struct rules_test *t = userdata;

	return t->now_ms ? t->now_ms : fg_clock_wall_ms();
}

/* The store's transform, end and rolled_back hooks: the daemon's pipeline. */
static int transform(struct fg_store *s, const struct fg_reading *r, size_t n, void *userdata)
{
	struct rules_test *t = userdata;

	/* Only while the pipeline exists: a close that still finds readings staged rolls back. */
	return t->p ? fg_pipeline_frame(t->p, s, r, n) : -ECANCELED;
}

static int transform_end(struct fg_store *s, void *userdata)
{
	struct rules_test *t = userdata;

	return fg_pipeline_end(t->p, s);
}

static void transform_rolled_back(void *userdata)
{
	struct rules_test *t = userdata;

	fg_pipeline_rolled_back(t->p, t->store);
}

/* One message as one line: publish TOPIC [retained] PAYLOAD. */
static int print_message(const struct fg_outbox_msg *m, void *userdata)
{
	struct rules_test *t = userdata;

	if (t->json) {
		/* The payload as JSON when it is (SenML, json, alerts), else as a string. */
		json_t *p = json_loadb(m->payload, m->payload_len, JSON_DECODE_ANY, NULL);

		if (!p)
			p = json_stringn_nocheck(m->payload, m->payload_len);
		print_json_line(json_pack("{s:s,s:s,s:b,s:o}", "type", "publish", "topic", m->topic,
					  "retained", m->retain, "payload", p ? p : json_null()));
	} else {
		printf("publish %s%s ", m->topic, m->retain ? " retained" : "");
		fwrite(m->payload, 1, m->payload_len, stdout);
		putchar('\n');
	}
	t->seqs[t->n_seqs++] = m->seq;
	t->last_seq = m->seq;
	t->messages++;
	return 0;
}

/* Print every message not printed yet and acknowledge it, as the sink would. */
static int drain(struct rules_test *t)
{
	for (;;) {
		int n;

		t->n_seqs = 0;
		n = fg_store_peek(t->store, t->last_seq, PEEK_BATCH, print_message, t);
		if (n < 0)
			return n;
		for (size_t i = 0; i < t->n_seqs; i++) {
			int r = fg_store_ack(t->store, t->seqs[i]);

			if (r < 0)
				return r;
		}
		if (n < PEEK_BATCH)
			return 0;
	}
}

/* "gpiochip0" for every spelling of a chip, "sim" for the simulated one. */
static const char *chip_name(const char *chip, char *buf, unsigned size)
{
	if (strcmp(chip, "sim") && fg_gpio_chip_path(chip, buf, size) == 0 &&
	    !strncmp(buf, "/dev/", 5))
		return buf + 5;
	return chip;
}

/* Print the GPIO lines whose rule's alert state this commit changed. */
static void report_gpio(struct rules_test *t)
{
	const struct fg_rules *rules = fg_pipeline_rules(t->p);

	for (size_t k = 0; k < t->cfg->n_rules; k++) {
		const struct fg_rule_config *rule = &t->cfg->rules[k];
		bool raised = fg_rules_raised(rules, k);
		char buf[PATH_MAX];

		if (!rule->has_gpio || raised == t->raised[k])
			continue;
		t->raised[k] = raised;
		if (t->json) {
			print_json_line(json_pack("{s:s,s:s,s:s,s:i,s:i,s:s}", "type", "gpio",
						  "rule", rule->name, "chip",
						  chip_name(rule->gpio_chip, buf, sizeof(buf)), "line",
						  (int)rule->gpio_line, "value",
						  raised ? rule->gpio_on : rule->gpio_off, "state",
						  raised ? "raised" : "cleared"));
			continue;
		}
		printf("gpio rule '%s' %s line %u -> %d (%s)\n", rule->name,
		       chip_name(rule->gpio_chip, buf, sizeof(buf)), rule->gpio_line,
		       raised ? rule->gpio_on : rule->gpio_off, raised ? "raised" : "cleared");
	}
}

/* One commit of the scratch buffer with the clock at now_ms, and what it published. */
static int commit(struct rules_test *t, uint64_t now_ms)
{
	int r;

	if (now_ms)
		t->now_ms = now_ms;
	fg_store_want_commit(t->store);
	r = fg_store_commit(t->store);
	if (r < 0) {
		fprintf(stderr, "fieldgatectl: rules test: commit failed: %s\n",
			fg_store_last_error(t->store)[0] ? fg_store_last_error(t->store)
							 : strerror(-r));
		return r;
	}
	r = drain(t);
	if (r < 0) {
		fprintf(stderr, "fieldgatectl: rules test: cannot read the scratch buffer: %s\n",
			strerror(-r));
		return r;
	}
	report_gpio(t);
	/* A reader that went away (| head): stop here rather than run the rest for no one. */
	if (ferror(stdout)) {
		fprintf(stderr, "fieldgatectl: rules test: cannot write the output: %s\n",
			strerror(errno));
		return -EPIPE;
	}
	return 0;
}

/* Close the windows that end by `until`, each at its end, as the daemon's window timer does. */
static int close_windows_until(struct rules_test *t, uint64_t until)
{
	/* Each commit closes at least the window that ends first; a bound all the same. */
	for (size_t i = 0; i <= FG_RULES_SERIES_MAX; i++) {
		uint64_t due = fg_pipeline_next_deadline(t->p);
		int r;

		if (!due || due > until)
			return 0;
		r = commit(t, due);
		if (r < 0)
			return r;
	}
	return 0;
}

static void frame_clear(struct rules_test *t)
{
	for (size_t i = 0; i < t->n_frame; i++) {
		free(t->texts[i]);
		t->texts[i] = NULL;
	}
	t->n_frame = 0;
	t->frame_ms = 0;
}

/* Commit the frame read so far at its time (windows that end before it are closed first). */
static int flush_frame(struct rules_test *t)
{
	int r;

	if (!t->n_frame)
		return 0;
	if (t->frame_ms) {
		r = close_windows_until(t, t->frame_ms);
		if (r < 0)
			goto out;
	}
	r = fg_store_append(t->store, t->frame, t->n_frame);
	if (r < 0) {
		fprintf(stderr, "fieldgatectl: rules test: cannot stage a frame: %s\n",
			strerror(-r));
		goto out;
	}
	r = commit(t, t->frame_ms);
out:
	frame_clear(t);
	return r;
}

/* Add one reading to the frame, committing the frame before it when r starts another. */
static int add_reading(struct rules_test *t, const struct fg_reading *r)
{
	const struct fg_reading *first = &t->frame[0];
	struct fg_reading *cur;
	int e;

	if (t->n_frame &&
	    (t->n_frame == FRAME_MAX || r->source != first->source ||
	     strcmp(r->device_id, first->device_id) || r->frame_id != first->frame_id)) {
		e = flush_frame(t);
		if (e < 0)
			return e;
	}
	cur = &t->frame[t->n_frame];
	*cur = *r;
	if (r->kind == FG_VALUE_STRING) {
		t->texts[t->n_frame] = strdup(r->text);
		if (!t->texts[t->n_frame]) {
			fprintf(stderr, "fieldgatectl: rules test: %s\n", strerror(ENOMEM));
			return -ENOMEM;
		}
		cur->text = t->texts[t->n_frame];
	}
	if (r->time_ms > t->frame_ms)
		t->frame_ms = r->time_ms;
	t->n_frame++;
	t->readings++;
	return 0;
}

/*
 * The next line of f into buf (cap bytes; the rest of a longer line is read
 * and dropped, and *ret_len is then cap). Returns 1, or 0 at the end.
 */
static int read_line(FILE *f, char *buf, size_t cap, size_t *ret_len)
{
	size_t n = 0;
	bool any = false;
	int c;

	while ((c = getc(f)) != EOF) {
		any = true;
		if (c == '\n')
			break;
		if (n < cap)
			buf[n++] = (char) c;
	}
	if (n > 0 && n < cap && buf[n - 1] == '\r')
		n--;
	*ret_len = n;
	return any ? 1 : 0;
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

/* Every line of f through the rules; bad lines are reported, counted and skipped. */
static int run_file(struct rules_test *t, FILE *f)
{
	/* One byte over the limit, so that the parser sees (and names) a longer line. */
	size_t cap = LINE_MAX_BYTES + 1, len;
	char *line = malloc(cap), *text = malloc(LINE_MAX_BYTES);
	unsigned long long number = 0;
	int r = 0;

	if (!line || !text) {
		r = -ENOMEM;
		fprintf(stderr, "fieldgatectl: rules test: %s\n", strerror(-r));
		goto out;
	}
	while (!interrupted && read_line(f, line, cap, &len) > 0) {
		struct fg_reading rd;
		char why[256];
		int e;

		number++;
		if (blank(line, len))
			continue;
		e = fg_reading_from_json(line, len, &rd, text, LINE_MAX_BYTES, why, sizeof(why));
		if (e < 0) {
			fprintf(stderr, "%s:%llu: %s\n", t->input, number, why);
			t->bad++;
			continue;
		}
		r = add_reading(t, &rd);
		if (r < 0)
			goto out;
	}
	if (interrupted) {
		r = -EINTR;
		fprintf(stderr, "fieldgatectl: rules test: interrupted by %s\n",
			strsignal(interrupted));
		frame_clear(t);
		goto out;
	}
	if (ferror(f)) {
		r = -EIO;
		frame_clear(t);
		fprintf(stderr, "fieldgatectl: rules test: cannot read '%s': %s\n", t->input,
			strerror(errno));
		goto out;
	}
	r = flush_frame(t);
out:
	free(line);
	free(text);
	return r;
}

/* A sink for counting: what it is given is not published. */
static int discard_frame(const struct fg_reading *r, size_t n, void *userdata)
{
	(void) r;
	(void) n;
	(void) userdata;
	return 0;
}

/*
 * Windows still open at the end: closed in memory (their aggregates thrown
 * away) only to count them, after every other figure has been read.
 */
static unsigned long long count_open_windows(struct rules_test *t)
{
	static const struct fg_rules_sink sink = { .frame = discard_frame };
	struct fg_rules *rules = fg_pipeline_rules(t->p);
	struct fg_rules_stats before, after;

	fg_rules_get_stats(rules, &before);
	for (size_t i = 0; i <= FG_RULES_SERIES_MAX; i++) {
		uint64_t due = fg_rules_next_deadline(rules);

		if (!due)
			break;
		t->now_ms = due;
		if (fg_rules_tick(rules, &sink) < 0)
			break;
	}
	fg_rules_get_stats(rules, &after);
	return after.windows - before.windows;
}

static const char *plural(unsigned long long n, const char *one, const char *more)
{
	return n == 1 ? one : more;
}

/* The closing line: what went in, what came out, what the rules held back. */
static void print_summary(struct rules_test *t)
{
	struct fg_rules_stats rs;
	struct fg_pipeline_stats ps;
	unsigned long long open;

	fg_rules_get_stats(fg_pipeline_rules(t->p), &rs);
	fg_pipeline_get_stats(t->p, &ps);
	open = count_open_windows(t);
	if (t->json) {
		json_t *o = json_object();

		json_object_set_new(o, "type", json_string("summary"));
		json_object_set_new(o, "readings", json_integer((json_int_t)t->readings));
		json_object_set_new(o, "messages", json_integer((json_int_t)t->messages));
		json_object_set_new(o, "alerts", json_integer((json_int_t)ps.alerts));
		json_object_set_new(o, "dropped", json_integer((json_int_t)rs.dropped));
		json_object_set_new(o, "deadband", json_integer((json_int_t)rs.suppressed));
		json_object_set_new(o, "open_windows", json_integer((json_int_t)open));
		json_object_set_new(o, "skipped", json_integer((json_int_t)rs.skipped));
		json_object_set_new(o, "unformattable", json_integer((json_int_t)ps.unformattable));
		json_object_set_new(o, "bad_lines", json_integer((json_int_t)t->bad));
		print_json_line(o);
		return;
	}
	printf("%llu %s, %llu %s (%llu %s), %llu dropped, %llu held back by deadband, "
	       "%llu %s still open",
	       t->readings, plural(t->readings, "reading", "readings"), t->messages,
	       plural(t->messages, "message", "messages"), ps.alerts,
	       plural(ps.alerts, "alert", "alerts"), rs.dropped, rs.suppressed, open,
	       plural(open, "window", "windows"));
	if (rs.skipped)
		printf(", %llu %s skipped (a variable missing or not finite)", rs.skipped,
		       plural(rs.skipped, "action", "actions"));
	if (ps.unformattable)
		printf(", %llu %s not formattable", ps.unformattable,
		       plural(ps.unformattable, "frame", "frames"));
	if (t->bad)
		printf(", %llu bad %s", t->bad, plural(t->bad, "line", "lines"));
	printf("\n");
}

/* A scratch directory under $TMPDIR (default /tmp) for the buffer. */
static int make_scratch(struct rules_test *t)
{
	const char *tmp = secure_getenv("TMPDIR");
	int n;

	if (!tmp || !*tmp)
		tmp = "/tmp";
	n = snprintf(t->dir, sizeof(t->dir), "%s/fieldgatectl-rules-XXXXXX", tmp);
	if (n < 0 || (size_t) n >= sizeof(t->dir)) {
		t->dir[0] = '\0';
		fprintf(stderr, "fieldgatectl: rules test: TMPDIR is too long\n");
		return -ENAMETOOLONG;
	}
	if (!mkdtemp(t->dir)) {
		int e = -errno;

		fprintf(stderr,
			"fieldgatectl: rules test: cannot make a scratch directory in '%s': %s\n",
			tmp, strerror(errno));
		t->dir[0] = '\0';
		return e;
	}
	return 0;
}

/* Remove the scratch directory and what the store left in it (it makes no subdirectories). */
static void remove_scratch(struct rules_test *t)
{
	struct dirent *de;
	DIR *d;

	if (!t->dir[0])
		return;
	d = opendir(t->dir);
	if (d) {
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				(void) unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	if (rmdir(t->dir) < 0)
		fprintf(stderr, "fieldgatectl: rules test: cannot remove '%s': %s\n", t->dir,
			strerror(errno));
	t->dir[0] = '\0';
}

/* The scratch buffer and the pipeline on it. */
static int start(struct rules_test *t)
{
	static const struct fg_store_hooks hooks = { transform_end, transform_rolled_back };
	struct fg_rules_clock clock = { offline_wall_ms, t };
	struct fg_buffer_config bufcfg = t->cfg->buffer;
	char path[PATH_MAX + 16];
	int r;

	r = make_scratch(t);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/buffer.db", t->dir);
	bufcfg.path = path;
	/* Old readings are what a replay is made of: the age bound would evict their messages. */
	bufcfg.max_age_s = 0;
	if (bufcfg.commit_batch < FRAME_MAX)
		bufcfg.commit_batch = FRAME_MAX;
	r = fg_store_open(&bufcfg, transform, t, &t->store, NULL);
	if (r < 0) {
		fprintf(stderr, "fieldgatectl: rules test: cannot open a scratch buffer '%s': %s\n",
			path, strerror(-r));
		return r;
	}
	r = fg_pipeline_new(t->cfg, t->store, &clock, &t->p);
	if (r < 0) {
		fprintf(stderr, "fieldgatectl: rules test: cannot set up the rules: %s\n",
			strerror(-r));
		return r;
	}
	fg_store_set_hooks(t->store, &hooks);
	t->raised = calloc(t->cfg->n_rules ? t->cfg->n_rules : 1, sizeof(*t->raised));
	if (!t->raised) {
		fprintf(stderr, "fieldgatectl: rules test: %s\n", strerror(ENOMEM));
		return -ENOMEM;
	}
	return 0;
}

static void stop(struct rules_test *t)
{
	/* The pipeline goes first; the store's close commits nothing through it (see transform). */
	if (t->store)
		fg_store_set_hooks(t->store, NULL);
	fg_pipeline_free(t->p);
	t->p = NULL;
	fg_store_close(t->store);
	t->store = NULL;
	frame_clear(t);
	remove_scratch(t);
	free(t->raised);
	t->raised = NULL;
}

static int usage_error(void)
{
	fprintf(stderr, "fieldgatectl: usage: rules test [--config FILE] [--json] READINGS.jsonl|-\n");
	return EXIT_USAGE;
}

/* rules test [--config FILE] [--json] READINGS.jsonl|- */
static int cmd_rules_test(int argc, char **argv, const char *config_path)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	struct rules_test t = { 0 };
	struct fg_diags diags = { 0 };
	struct sigaction sa = { 0 };
	FILE *f = NULL;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'j':
			t.json = true;
			break;
		default:
			return usage_error();
		}
	}
	if (argc - optind != 1)
		return usage_error();
	r = fg_config_load(config_path, &t.cfg, &diags);
	fg_diags_print(&diags, stderr);
	fg_diags_clear(&diags);
	if (r < 0) {
		fprintf(stderr, "fieldgatectl: cannot use configuration '%s'\n", config_path);
		return EXIT_REFUSED;
	}
	if (strcmp(argv[optind], "-") == 0) {
		f = stdin;
		t.input = "<stdin>";
	} else {
		t.input = argv[optind];
		f = fopen(t.input, "re");
		if (!f) {
			fprintf(stderr, "fieldgatectl: cannot open '%s': %s\n", t.input,
				strerror(errno));
			fg_config_free(t.cfg);
			return EXIT_REFUSED;
		}
	}
	/* Interrupted (no SA_RESTART: a terminal read returns), the scratch buffer goes too. */
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	(void) sigaction(SIGINT, &sa, NULL);
	(void) sigaction(SIGTERM, &sa, NULL);
	(void) sigaction(SIGHUP, &sa, NULL);
	(void) signal(SIGPIPE, SIG_IGN);
	/* Alerts are printed as messages; the engine's own log says only what goes wrong. */
	fg_log_open(FG_LOG_TARGET_STDERR);
	fg_log_set_level(LOG_WARNING);
	r = start(&t);
	if (r >= 0)
		r = run_file(&t, f);
	if (r >= 0)
		print_summary(&t);
	stop(&t);
	fg_log_close();
	if (f != stdin)
		fclose(f);
	fg_config_free(t.cfg);
	if (r != -EPIPE && (fflush(stdout) != 0 || ferror(stdout))) {
		fprintf(stderr, "fieldgatectl: rules test: cannot write the output: %s\n",
			strerror(errno));
		return EXIT_REFUSED;
	}
	return r < 0 || t.bad ? EXIT_REFUSED : EXIT_SUCCESS;
}

int fg_ctl_rules(int argc, char **argv, const char *config_path)
{
	if (!config_path)
		config_path = FG_CONFIG_DEFAULT_PATH;
	if (argc >= 2 && strcmp(argv[1], "test") == 0)
		return cmd_rules_test(argc - 1, argv + 1, config_path);
	return usage_error();
}
