/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The rule expression language: a hand-written tokenizer, a recursive
 * descent parser (one function per precedence level) that type-checks as it
 * goes and emits postfix code, and a stack machine to run it.
 *
 *   or      := and ('||' and)*
 *   and     := cmp ('&&' cmp)*
 *   cmp     := add (('<' | '<=' | '>' | '>=' | '==' | '!=') add)?    no chaining
 *   add     := mul (('+' | '-') mul)*
 *   mul     := unary (('*' | '/' | '%') unary)*
 *   unary   := ('-' | '!') unary | primary
 *   primary := number | variable | function '(' args ')' | '(' or ')'
 *
 * && and || compile to a conditional jump over their right side, so a
 * variable read only there is not needed when the left side decides. The
 * stack the program needs is counted while emitting it; eval runs it on a
 * fixed array on its own stack and never allocates.
 */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/expr.h"

#define TEXT_MAX  4096 /* bytes of expression text */
#define DEPTH_MAX 64   /* nested parentheses, calls and unary operators */
/*
 * Each nesting level can hold at most four pending values (the left sides of
 * a comparison, a sum and a product, and a function's first argument), so
 * this is never reached by an expression within DEPTH_MAX; compile checks.
 */
#define STACK_MAX  288
#define DIGITS_MAX 10 /* round(x, digits) */

enum op {
	OP_CONST, /* push consts[arg] */
	OP_VAR,	  /* push the variable arg, or fail with -ENODATA */
	OP_NEG,
	OP_NOT,
	OP_ADD,
	OP_SUB,
	OP_MUL,
	OP_DIV,
	OP_MOD,
	OP_LT,
	OP_LE,
	OP_GT,
	OP_GE,
	OP_EQ,
	OP_NE,
	OP_ABS,
	OP_MIN,
	OP_MAX,
	OP_ROUND,    /* round to arg decimal digits */
	OP_AND_JUMP, /* top false: keep it and jump to arg; else pop it */
	OP_OR_JUMP,  /* top true: keep it and jump to arg; else pop it */
};

struct insn {
	uint8_t op;
	uint16_t arg;
};

struct fg_expr {
	struct insn *code;
	double *consts;
	size_t n;
	unsigned vars;
	unsigned stack; /* the most values on the stack at any point */
	char *text;     /* the source, for fingerprints and messages */
};

static const char *const var_names[FG_EXPR_VAR__COUNT] = {
	[FG_EXPR_VALUE] = "value",     [FG_EXPR_RSSI] = "rssi", [FG_EXPR_SNR] = "snr",
	[FG_EXPR_BATTERY] = "battery", [FG_EXPR_AGE] = "age",
};

static const struct {
	const char *name;
	uint8_t min_args, max_args;
	enum op op;
} functions[] = {
	{ "abs", 1, 1, OP_ABS },
	{ "min", 2, 2, OP_MIN },
	{ "max", 2, 2, OP_MAX },
	{ "round", 1, 2, OP_ROUND },
};

#define N_FUNCTIONS (sizeof(functions) / sizeof(functions[0]))

static const double pow10_table[DIGITS_MAX + 1] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5,
						    1e6, 1e7, 1e8, 1e9, 1e10 };

const char *fg_expr_var_to_string(enum fg_expr_var v)
{
	if ((unsigned) v >= FG_EXPR_VAR__COUNT)
		return NULL;
	return var_names[v];
}

/* ---------------------------------------------------------------- tokens */

enum tok {
	T_END,
	T_NUM,
	T_IDENT,
	T_LPAREN,
	T_RPAREN,
	T_COMMA,
	T_PLUS,
	T_MINUS,
	T_STAR,
	T_SLASH,
	T_PERCENT,
	T_NOT,
	T_LT,
	T_LE,
	T_GT,
	T_GE,
	T_EQ,
	T_NE,
	T_AND,
	T_OR,
};

static const char *const tok_text[] = {
	[T_END] = "end",  [T_NUM] = "number", [T_IDENT] = "name", [T_LPAREN] = "(",
	[T_RPAREN] = ")", [T_COMMA] = ",",    [T_PLUS] = "+",	  [T_MINUS] = "-",
	[T_STAR] = "*",	  [T_SLASH] = "/",    [T_PERCENT] = "%",  [T_NOT] = "!",
	[T_LT] = "<",	  [T_LE] = "<=",      [T_GT] = ">",	  [T_GE] = ">=",
	[T_EQ] = "==",	  [T_NE] = "!=",      [T_AND] = "&&",	  [T_OR] = "||",
};

struct token {
	enum tok kind;
	size_t pos, len; /* bytes of text */
	double num;	 /* T_NUM */
};

struct parser {
	const char *s;
	size_t len, pos;
	struct token tok;
	unsigned depth;

	struct insn *code;
	size_t n, cap;
	double *consts;
	size_t nconst, const_cap;
	unsigned vars, sp, stack;

	int r; /* the first error, 0 while there is none */
	size_t column;
	char *err;
	size_t err_size;
};

/* Record the first error: its code, 1-based column and message. Returns the code. */
__attribute__((format(printf, 4, 5))) static int fail(struct parser *p, int r, size_t pos,
						      const char *fmt, ...)
{
	va_list ap;

	if (p->r < 0)
		return p->r;
	p->r = r;
	p->column = pos + 1;
	if (p->err && p->err_size > 0) {
		va_start(ap, fmt);
		(void) vsnprintf(p->err, p->err_size, fmt, ap);
		va_end(ap);
	}
	return r;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* Long names and numbers are shown shortened in messages. */
#define SHOW_MAX 32
#define SHOW(p, t)                                                                                 \
	(int) ((t)->len < SHOW_MAX ? (t)->len : SHOW_MAX), (p)->s + (t)->pos,                      \
		(t)->len > SHOW_MAX ? "..." : ""

/*
 * Convert a decimal number that has already been checked against the grammar
 * digits ['.' digits] [e [+-] digits] (or '.' digits ...). The decimal point
 * is moved into the exponent ("12.5e3" -> "125e2") so strtod never meets a
 * radix character and the current locale cannot change the result.
 */
static int convert_number(struct parser *p, const struct token *t)
{
	char buf[TEXT_MAX + 16];
	const char *c = p->s + t->pos, *end = c + t->len;
	size_t n = 0;
	long shift = 0, e = 0;
	bool neg = false;
	char *stop;
	double v;

	for (; c < end && is_digit(*c); c++)
		buf[n++] = *c;
	if (c < end && *c == '.')
		for (c++; c < end && is_digit(*c); c++) {
			buf[n++] = *c;
			shift--;
		}
	if (c < end && (*c == 'e' || *c == 'E')) {
		c++;
		if (*c == '+' || *c == '-')
			neg = *c++ == '-';
		for (; c < end; c++)
			if (e < 100000) /* beyond any double either way */
				e = e * 10 + (*c - '0');
		shift += neg ? -e : e;
	}
	assert(n > 0 && n <= TEXT_MAX);
	(void) snprintf(buf + n, sizeof(buf) - n, "e%ld", shift);
	errno = 0;
	v = strtod(buf, &stop);
	if (*stop != '\0')
		return fail(p, -EINVAL, t->pos, "bad number '%.*s%s'", SHOW(p, t));
	if (!isfinite(v))
		return fail(p, -EINVAL, t->pos, "number '%.*s%s' is too large", SHOW(p, t));
	/* An underflow (1e-400) is 0 or a subnormal: close enough to its value. */
	p->tok.num = v;
	return 0;
}

/* Check a number token's text against the grammar, then convert it. */
static int scan_number(struct parser *p, struct token *t)
{
	const char *s = p->s + t->pos;
	size_t i = 0, digits = 0;

	if (t->len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return fail(p, -EINVAL, t->pos, "bad number '%.*s%s': only decimal numbers",
			    SHOW(p, t));
	for (; i < t->len && is_digit(s[i]); i++)
		digits++;
	if (i < t->len && s[i] == '.') {
		size_t frac = 0;

		for (i++; i < t->len && is_digit(s[i]); i++)
			frac++;
		if (frac == 0)
			return fail(p, -EINVAL, t->pos,
				    "bad number '%.*s%s': expected digits after '.'", SHOW(p, t));
		digits += frac;
	}
	if (digits > 0 && i < t->len && (s[i] == 'e' || s[i] == 'E')) {
		size_t exp_digits = 0;

		i++;
		if (i < t->len && (s[i] == '+' || s[i] == '-'))
			i++;
		for (; i < t->len && is_digit(s[i]); i++)
			exp_digits++;
		if (exp_digits == 0)
			return fail(p, -EINVAL, t->pos,
				    "bad number '%.*s%s': expected digits in the exponent",
				    SHOW(p, t));
	}
	if (digits == 0 || i != t->len)
		return fail(p, -EINVAL, t->pos, "bad number '%.*s%s'", SHOW(p, t));
	return convert_number(p, t);
}

/* Read the next token into p->tok. */
static int next(struct parser *p)
{
	const char *s = p->s;
	struct token *t = &p->tok;
	size_t i;
	char c;

	while (p->pos < p->len && (s[p->pos] == ' ' || s[p->pos] == '\t'))
		p->pos++;
	i = p->pos;
	*t = (struct token){ .kind = T_END, .pos = i, .len = 0 };
	if (i >= p->len)
		return 0;
	c = s[i];

	if (is_digit(c) || c == '.') {
		/*
		 * Take everything a number could be confused with, so "1.2.3",
		 * "1e" and "0x1f" are one bad number rather than a number and
		 * something unexpected after it.
		 */
		size_t j = i;

		while (j < p->len) {
			char d = s[j];

			if (is_digit(d) || is_alpha(d) || d == '.')
				j++;
			else if ((d == '+' || d == '-') && (s[j - 1] == 'e' || s[j - 1] == 'E') &&
				 j - i >= 2 && is_digit(s[i + (s[i] == '.')]) && s[i + 1] != 'x' &&
				 s[i + 1] != 'X')
				j++;
			else
				break;
		}
		t->kind = T_NUM;
		t->len = j - i;
		p->pos = j;
		return scan_number(p, t);
	}
	if (is_alpha(c)) {
		size_t j = i;

		while (j < p->len && (is_alpha(s[j]) || is_digit(s[j])))
			j++;
		t->kind = T_IDENT;
		t->len = j - i;
		p->pos = j;
		return 0;
	}

	t->len = 1;
	switch (c) {
	case '(':
		t->kind = T_LPAREN;
		break;
	case ')':
		t->kind = T_RPAREN;
		break;
	case ',':
		t->kind = T_COMMA;
		break;
	case '+':
		t->kind = T_PLUS;
		break;
	case '-':
		t->kind = T_MINUS;
		break;
	case '*':
		t->kind = T_STAR;
		break;
	case '/':
		t->kind = T_SLASH;
		break;
	case '%':
		t->kind = T_PERCENT;
		break;
	case '<':
	case '>':
	case '!':
		if (i + 1 < p->len && s[i + 1] == '=') {
			t->kind = c == '<' ? T_LE : c == '>' ? T_GE : T_NE;
			t->len = 2;
		} else {
			t->kind = c == '<' ? T_LT : c == '>' ? T_GT : T_NOT;
		}
		break;
	case '=':
	case '&':
	case '|':
		if (i + 1 < p->len && s[i + 1] == c) {
			t->kind = c == '=' ? T_EQ : c == '&' ? T_AND : T_OR;
			t->len = 2;
			break;
		}
		return fail(p, -EINVAL, i, "unexpected '%c', did you mean '%c%c'?", c, c, c);
	default:
		if (c > ' ' && c <= '~')
			return fail(p, -EINVAL, i, "unexpected character '%c'", c);
		return fail(p, -EINVAL, i, "unexpected byte 0x%02x", (unsigned) (unsigned char) c);
	}
	p->pos = i + t->len;
	return 0;
}

static bool token_is(const struct parser *p, const char *name)
{
	return p->tok.len == strlen(name) && memcmp(p->s + p->tok.pos, name, p->tok.len) == 0;
}

/* The operator meant by "and", "or" or "not", or NULL. */
static const char *word_operator(const struct parser *p)
{
	return token_is(p, "and")   ? "&&"
	       : token_is(p, "or")  ? "||"
	       : token_is(p, "not") ? "!"
				    : NULL;
}

/* Describe the current token for "unexpected ..." messages. */
static int unexpected(struct parser *p, const char *what)
{
	const struct token *t = &p->tok;

	switch (t->kind) {
	case T_END:
		return fail(p, -EINVAL, t->pos, "unexpected end, expected %s", what);
	case T_NUM:
		return fail(p, -EINVAL, t->pos, "unexpected number '%.*s%s', expected %s",
			    SHOW(p, t), what);
	case T_IDENT:
		if (word_operator(p))
			return fail(p, -EINVAL, t->pos, "unexpected '%.*s%s', write '%s'",
				    SHOW(p, t), word_operator(p));
		return fail(p, -EINVAL, t->pos, "unexpected name '%.*s%s', expected %s", SHOW(p, t),
			    what);
	default:
		return fail(p, -EINVAL, t->pos, "unexpected '%s', expected %s", tok_text[t->kind],
			    what);
	}
}

/* ------------------------------------------------------------------ names */

/* Edit distance (with transpositions) of a and b, giving up above 3. */
static unsigned distance(const char *a, size_t la, const char *b)
{
	unsigned d[3][16];
	size_t lb = strlen(b);

	if (la > lb + 2 || lb > la + 2 || la >= 16 || lb >= 16)
		return 3;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (unsigned) j;
	for (size_t i = 1; i <= la; i++) {
		unsigned *cur = d[i % 3], *prev = d[(i - 1) % 3], *prev2 = d[(i + 1) % 3];

		cur[0] = (unsigned) i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned cost = a[i - 1] != b[j - 1];
			unsigned v = prev[j - 1] + cost;

			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
		}
	}
	return d[la % 3][lb];
}

/* The known name nearest to the token within edit distance 2, or NULL. */
static const char *suggest(struct parser *p, bool function)
{
	const char *s = p->s + p->tok.pos, *best = NULL;
	size_t len = p->tok.len;
	unsigned best_d = 3;

	if (function) {
		for (size_t f = 0; f < N_FUNCTIONS; f++) {
			unsigned d = distance(s, len, functions[f].name);

			if (d < best_d) {
				best_d = d;
				best = functions[f].name;
			}
		}
	} else {
		for (int v = 0; v < FG_EXPR_VAR__COUNT; v++) {
			unsigned d = distance(s, len, var_names[v]);

			if (d < best_d) {
				best_d = d;
				best = var_names[v];
			}
		}
	}
	return best;
}

/* ------------------------------------------------------------------- code */

static int emit(struct parser *p, enum op op, unsigned arg)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 32;
		struct insn *code = realloc(p->code, cap * sizeof(*code));

		if (!code)
			return fail(p, -ENOMEM, p->tok.pos, "out of memory");
		p->code = code;
		p->cap = cap;
	}
	assert(arg <= UINT16_MAX);
	p->code[p->n++] = (struct insn){ .op = (uint8_t) op, .arg = (uint16_t) arg };

	/* Track the stack: what each instruction pops and pushes. */
	switch (op) {
	case OP_CONST:
	case OP_VAR:
		p->sp++;
		break;
	case OP_NEG:
	case OP_NOT:
	case OP_ABS:
	case OP_ROUND:
		break;
	default:
		/* Binary operators; the jumps pop their value on the path that goes on. */
		p->sp--;
		break;
	}
	if (p->sp > p->stack)
		p->stack = p->sp;
	if (p->stack > STACK_MAX)
		return fail(p, -E2BIG, p->tok.pos, "expression needs too deep a stack");
	return 0;
}

static int emit_const(struct parser *p, double v)
{
	if (p->nconst == p->const_cap) {
		size_t cap = p->const_cap ? 2 * p->const_cap : 8;
		double *c = realloc(p->consts, cap * sizeof(*c));

		if (!c)
			return fail(p, -ENOMEM, p->tok.pos, "out of memory");
		p->consts = c;
		p->const_cap = cap;
	}
	p->consts[p->nconst] = v;
	return emit(p, OP_CONST, (unsigned) p->nconst++);
}

/* ----------------------------------------------------------------- parser */

static const char *type_name(enum fg_expr_type t)
{
	return t == FG_EXPR_NUMBER ? "a number" : "a condition";
}

static int parse_or(struct parser *p, enum fg_expr_type *ret_type);

static int enter(struct parser *p)
{
	if (++p->depth > DEPTH_MAX)
		return fail(p, -E2BIG, p->tok.pos, "nested deeper than %d", DEPTH_MAX);
	return 0;
}

/* Check that a binary operator at pos got operands of type `want`. */
static int check_operands(struct parser *p, size_t pos, const char *op, enum fg_expr_type want,
			  enum fg_expr_type left, enum fg_expr_type right)
{
	const char *need = want == FG_EXPR_NUMBER ? "numbers" : "conditions";

	if (left != want)
		return fail(p, -EINVAL, pos, "'%s' needs %s, got %s on its left", op, need,
			    type_name(left));
	if (right != want)
		return fail(p, -EINVAL, pos, "'%s' needs %s, got %s on its right", op, need,
			    type_name(right));
	return 0;
}

/* A function call; the name is the current token and '(' follows it. */
static int parse_call(struct parser *p, size_t fn, enum fg_expr_type *ret_type)
{
	const char *name = functions[fn].name;
	size_t name_pos = p->tok.pos, open_pos, args = 0;
	unsigned digits = 0;
	int r;

	r = enter(p);
	if (r == 0)
		r = next(p); /* the '(' */
	if (r < 0)
		return r;
	open_pos = p->tok.pos;
	r = next(p);
	if (r < 0)
		return r;
	if (p->tok.kind != T_RPAREN)
		for (;;) {
			size_t arg_pos = p->tok.pos, before = p->n;
			enum fg_expr_type t;

			args++;
			r = parse_or(p, &t);
			if (r < 0)
				return r;
			if (t != FG_EXPR_NUMBER)
				return fail(p, -EINVAL, arg_pos,
					    "%s() needs numbers, got a condition as argument %zu",
					    name, args);
			if (functions[fn].op == OP_ROUND && args == 2) {
				/* The digits are part of the instruction, so a constant. */
				double d = p->n == before + 1 && p->code[before].op == OP_CONST
						   ? p->consts[p->code[before].arg]
						   : -1;

				if (!(d >= 0 && d <= DIGITS_MAX && d == floor(d)))
					return fail(p, -EINVAL, arg_pos,
						    "round()'s digits must be an integer constant "
						    "0..%d",
						    DIGITS_MAX);
				digits = (unsigned) d;
				p->n--;
				p->nconst--;
				p->sp--;
			}
			if (p->tok.kind != T_COMMA)
				break;
			r = next(p);
			if (r < 0)
				return r;
		}
	if (p->tok.kind != T_RPAREN) {
		char what[64];

		(void) snprintf(what, sizeof(what), "',' or ')' to close '(' at column %zu",
				open_pos + 1);
		return unexpected(p, what);
	}
	if (args < functions[fn].min_args || args > functions[fn].max_args) {
		if (functions[fn].min_args == functions[fn].max_args)
			return fail(p, -EINVAL, name_pos, "%s() takes %u argument%s, got %zu", name,
				    functions[fn].min_args, functions[fn].min_args == 1 ? "" : "s",
				    args);
		return fail(p, -EINVAL, name_pos, "%s() takes %u or %u arguments, got %zu", name,
			    functions[fn].min_args, functions[fn].max_args, args);
	}
	r = emit(p, functions[fn].op, digits);
	if (r < 0)
		return r;
	p->depth--;
	*ret_type = FG_EXPR_NUMBER;
	return next(p);
}

static int parse_name(struct parser *p, enum fg_expr_type *ret_type)
{
	bool call;
	size_t save = p->pos;
	const char *hint;

	/* Peek: a name followed by '(' is a call. */
	while (save < p->len && (p->s[save] == ' ' || p->s[save] == '\t'))
		save++;
	call = save < p->len && p->s[save] == '(';

	for (size_t f = 0; f < N_FUNCTIONS; f++)
		if (token_is(p, functions[f].name)) {
			if (!call)
				return fail(p, -EINVAL, p->tok.pos,
					    "function '%s' needs its arguments: %s(...)",
					    functions[f].name, functions[f].name);
			return parse_call(p, f, ret_type);
		}
	for (int v = 0; v < FG_EXPR_VAR__COUNT; v++)
		if (token_is(p, var_names[v])) {
			int r;

			if (call)
				return fail(p, -EINVAL, p->tok.pos,
					    "'%s' is a variable, not a function", var_names[v]);
			r = emit(p, OP_VAR, (unsigned) v);
			if (r < 0)
				return r;
			p->vars |= 1u << v;
			*ret_type = FG_EXPR_NUMBER;
			return next(p);
		}

	if (token_is(p, "inf") || token_is(p, "infinity") || token_is(p, "nan") ||
	    token_is(p, "NAN") || token_is(p, "INF"))
		return fail(p, -EINVAL, p->tok.pos, "'%.*s%s' is not allowed: only finite numbers",
			    SHOW(p, &p->tok));
	if (word_operator(p))
		return unexpected(p, "");
	hint = suggest(p, call);
	if (hint)
		return fail(p, -EINVAL, p->tok.pos, "unknown %s '%.*s%s', did you mean '%s'?",
			    call ? "function" : "variable", SHOW(p, &p->tok), hint);
	return fail(p, -EINVAL, p->tok.pos, "unknown %s '%.*s%s'", call ? "function" : "variable",
		    SHOW(p, &p->tok));
}

static int parse_unary(struct parser *p, enum fg_expr_type *ret_type)
{
	struct token t = p->tok;
	enum fg_expr_type type;
	int r;

	if (t.kind == T_MINUS || t.kind == T_NOT) {
		size_t before;

		r = enter(p);
		if (r < 0)
			return r;
		r = next(p);
		if (r < 0)
			return r;
		before = p->n;
		r = parse_unary(p, &type);
		if (r < 0)
			return r;
		p->depth--;
		if (t.kind == T_MINUS) {
			if (type != FG_EXPR_NUMBER)
				return fail(p, -EINVAL, t.pos,
					    "'-' needs a number, got a condition");
			/* -4 is the constant -4. */
			if (p->n == before + 1 && p->code[before].op == OP_CONST) {
				p->consts[p->code[before].arg] = -p->consts[p->code[before].arg];
				*ret_type = FG_EXPR_NUMBER;
				return 0;
			}
			r = emit(p, OP_NEG, 0);
		} else {
			if (type != FG_EXPR_CONDITION)
				return fail(p, -EINVAL, t.pos,
					    "'!' needs a condition, got a number");
			r = emit(p, OP_NOT, 0);
		}
		*ret_type = type;
		return r;
	}

	switch (t.kind) {
	case T_NUM:
		r = emit_const(p, t.num);
		if (r < 0)
			return r;
		*ret_type = FG_EXPR_NUMBER;
		return next(p);
	case T_IDENT:
		return parse_name(p, ret_type);
	case T_LPAREN:
		r = enter(p);
		if (r < 0)
			return r;
		r = next(p);
		if (r < 0)
			return r;
		r = parse_or(p, ret_type);
		if (r < 0)
			return r;
		if (p->tok.kind != T_RPAREN) {
			char what[48];

			(void) snprintf(what, sizeof(what), "')' to close '(' at column %zu",
					t.pos + 1);
			return unexpected(p, what);
		}
		p->depth--;
		return next(p);
	default:
		return unexpected(p, "a number, a variable, a function or '('");
	}
}

static int parse_mul(struct parser *p, enum fg_expr_type *ret_type)
{
	enum fg_expr_type left, right;
	int r;

	r = parse_unary(p, &left);
	while (r == 0 &&
	       (p->tok.kind == T_STAR || p->tok.kind == T_SLASH || p->tok.kind == T_PERCENT)) {
		struct token op = p->tok;

		r = next(p);
		if (r == 0)
			r = parse_unary(p, &right);
		if (r == 0)
			r = check_operands(p, op.pos, tok_text[op.kind], FG_EXPR_NUMBER, left,
					   right);
		if (r == 0)
			r = emit(p,
				 op.kind == T_STAR    ? OP_MUL
				 : op.kind == T_SLASH ? OP_DIV
						      : OP_MOD,
				 0);
	}
	*ret_type = left;
	return r;
}

static int parse_add(struct parser *p, enum fg_expr_type *ret_type)
{
	enum fg_expr_type left, right;
	int r;

	r = parse_mul(p, &left);
	while (r == 0 && (p->tok.kind == T_PLUS || p->tok.kind == T_MINUS)) {
		struct token op = p->tok;

		r = next(p);
		if (r == 0)
			r = parse_mul(p, &right);
		if (r == 0)
			r = check_operands(p, op.pos, tok_text[op.kind], FG_EXPR_NUMBER, left,
					   right);
		if (r == 0)
			r = emit(p, op.kind == T_PLUS ? OP_ADD : OP_SUB, 0);
	}
	*ret_type = left;
	return r;
}

static bool is_comparison(enum tok k)
{
	return k >= T_LT && k <= T_NE;
}

static int parse_cmp(struct parser *p, enum fg_expr_type *ret_type)
{
	static const enum op ops[] = {
		[T_LT] = OP_LT, [T_LE] = OP_LE, [T_GT] = OP_GT,
		[T_GE] = OP_GE, [T_EQ] = OP_EQ, [T_NE] = OP_NE,
	};
	enum fg_expr_type left, right;
	struct token op;
	int r;

	r = parse_add(p, &left);
	if (r < 0 || !is_comparison(p->tok.kind)) {
		*ret_type = left;
		return r;
	}
	op = p->tok;
	r = next(p);
	if (r == 0)
		r = parse_add(p, &right);
	if (r == 0)
		r = check_operands(p, op.pos, tok_text[op.kind], FG_EXPR_NUMBER, left, right);
	if (r == 0)
		r = emit(p, ops[op.kind], 0);
	if (r == 0 && is_comparison(p->tok.kind))
		return fail(p, -EINVAL, p->tok.pos,
			    "comparisons do not chain: '%s' after '%s', join two with '&&'",
			    tok_text[p->tok.kind], tok_text[op.kind]);
	*ret_type = FG_EXPR_CONDITION;
	return r;
}

/* One level of && or ||: operands from `operand`, each but the last followed by a jump. */
static int parse_logic(struct parser *p, enum tok kind,
		       int (*operand)(struct parser *, enum fg_expr_type *),
		       enum fg_expr_type *ret_type)
{
	enum fg_expr_type left, right;
	size_t jumps[8];
	size_t njumps = 0;
	int r;

	r = operand(p, &left);
	while (r == 0 && p->tok.kind == kind) {
		struct token op = p->tok;
		size_t jump = p->n;

		if (left != FG_EXPR_CONDITION)
			return check_operands(p, op.pos, tok_text[kind], FG_EXPR_CONDITION, left,
					      FG_EXPR_CONDITION);
		r = emit(p, kind == T_AND ? OP_AND_JUMP : OP_OR_JUMP, 0);
		if (r == 0)
			r = next(p);
		if (r == 0)
			r = operand(p, &right);
		if (r == 0)
			r = check_operands(p, op.pos, tok_text[kind], FG_EXPR_CONDITION, left,
					   right);
		if (r < 0)
			return r;
		/* Patch as we go when the local list is full: jumps to here are still right. */
		if (njumps == sizeof(jumps) / sizeof(jumps[0])) {
			for (size_t i = 0; i < njumps; i++)
				p->code[jumps[i]].arg = (uint16_t) p->n;
			njumps = 0;
		}
		jumps[njumps++] = jump;
	}
	/*
	 * a && b && c: every jump goes to the end, as a false value decides the
	 * whole chain; the intermediate patch above sends some to the middle, to
	 * a point where the same value is on top, which is just as right.
	 */
	for (size_t i = 0; i < njumps; i++)
		p->code[jumps[i]].arg = (uint16_t) p->n;
	*ret_type = left;
	return r;
}

static int parse_and(struct parser *p, enum fg_expr_type *ret_type)
{
	return parse_logic(p, T_AND, parse_cmp, ret_type);
}

static int parse_or(struct parser *p, enum fg_expr_type *ret_type)
{
	return parse_logic(p, T_OR, parse_and, ret_type);
}

static void parser_free(struct parser *p)
{
	free(p->code);
	free(p->consts);
}

int fg_expr_compile(const char *text, enum fg_expr_type want, struct fg_expr **ret,
		    size_t *ret_column, char *err, size_t err_size)
{
	struct parser p = { .s = text, .err = err, .err_size = err_size };
	enum fg_expr_type type;
	struct fg_expr *e;
	int r;

	if (err && err_size > 0)
		err[0] = '\0';
	if (!text || !ret || (want != FG_EXPR_NUMBER && want != FG_EXPR_CONDITION)) {
		p.s = "";
		r = fail(&p, -EINVAL, 0, "no expression");
		goto out;
	}
	p.len = strnlen(text, TEXT_MAX + 1);
	if (p.len > TEXT_MAX) {
		r = fail(&p, -E2BIG, TEXT_MAX, "expression longer than %d bytes", TEXT_MAX);
		goto out;
	}

	r = next(&p);
	if (r == 0)
		r = parse_or(&p, &type);
	if (r == 0 && p.tok.kind != T_END)
		r = unexpected(&p, "an operator or the end");
	if (r == 0 && type != want)
		r = fail(&p, -EINVAL, 0, "expected %s, got %s", type_name(want), type_name(type));
	if (r < 0)
		goto out;

	e = calloc(1, sizeof(*e));
	if (e) {
		e->text = strdup(text);
		if (!e->text) {
			free(e);
			e = NULL;
		}
	}
	if (!e) {
		r = fail(&p, -ENOMEM, 0, "out of memory");
		goto out;
	}
	assert(p.sp == 1 && p.n > 0);
	e->code = p.code;
	e->consts = p.consts;
	e->n = p.n;
	e->vars = p.vars;
	e->stack = p.stack;
	*ret = e;
	return 0;
out:
	parser_free(&p);
	if (ret_column && r != -ENOMEM)
		*ret_column = p.column;
	return r;
}

void fg_expr_free(struct fg_expr *e)
{
	if (!e)
		return;
	free(e->code);
	free(e->consts);
	free(e->text);
	free(e);
}

const char *fg_expr_text(const struct fg_expr *e)
{
	return e->text;
}

/* --------------------------------------------------------------- machine */

/* x rounded half away from zero to `digits` decimal places. */
static double round_digits(double x, unsigned digits)
{
	double scale = pow10_table[digits], y, r;

	if (digits == 0)
		return round(x);
	y = x * scale;
	if (!isfinite(y) || fabs(y) >= 0x1p52)
		return x; /* no fraction left at this scale */
	r = round(y);
	/*
	 * y is x * scale rounded; when it lands exactly on a half, the exact
	 * product (y + the error fma gives) may be just below it: 1.0049999... * 100.
	 */
	if (fabs(y - trunc(y)) == 0.5) {
		double rest = fma(x, scale, -y);

		if ((y > 0 && rest < 0) || (y < 0 && rest > 0))
			r = trunc(y);
	}
	return r / scale;
}

int fg_expr_eval(const struct fg_expr *e, const struct fg_expr_env *env, double *ret)
{
	double st[STACK_MAX];
	size_t sp = 0;

	if (!e || !env || !ret)
		return -EINVAL;
	assert(e->stack <= STACK_MAX);

	for (size_t pc = 0; pc < e->n; pc++) {
		const struct insn *in = &e->code[pc];
		double a, b = 0;

		switch ((enum op) in->op) {
		case OP_CONST:
			st[sp++] = e->consts[in->arg];
			continue;
		case OP_VAR:
			if (!env->have[in->arg])
				return -ENODATA;
			if (!isfinite(env->vars[in->arg]))
				return -EDOM;
			st[sp++] = env->vars[in->arg];
			continue;
		case OP_AND_JUMP:
			if (st[sp - 1] == 0)
				pc = in->arg - 1;
			else
				sp--;
			continue;
		case OP_OR_JUMP:
			if (st[sp - 1] != 0)
				pc = in->arg - 1;
			else
				sp--;
			continue;
		case OP_NEG:
			st[sp - 1] = -st[sp - 1];
			continue;
		case OP_NOT:
			st[sp - 1] = st[sp - 1] == 0;
			continue;
		case OP_ABS:
			st[sp - 1] = fabs(st[sp - 1]);
			continue;
		case OP_ROUND:
			a = round_digits(st[sp - 1], in->arg);
			if (!isfinite(a))
				return -EDOM;
			st[sp - 1] = a;
			continue;
		default:
			break;
		}

		/* Binary: b is on top, a below it. */
		b = st[--sp];
		a = st[sp - 1];
		switch ((enum op) in->op) {
		case OP_ADD:
			a = a + b;
			break;
		case OP_SUB:
			a = a - b;
			break;
		case OP_MUL:
			a = a * b;
			break;
		case OP_DIV:
			a = a / b;
			break;
		case OP_MOD:
			a = fmod(a, b);
			break;
		case OP_LT:
			a = a < b;
			break;
		case OP_LE:
			a = a <= b;
			break;
		case OP_GT:
			a = a > b;
			break;
		case OP_GE:
			a = a >= b;
			break;
		case OP_EQ:
			a = a == b;
			break;
		case OP_NE:
			a = a != b;
			break;
		case OP_MIN:
			a = a < b ? a : b;
			break;
		case OP_MAX:
			a = a > b ? a : b;
			break;
		default:
			assert(!"unknown instruction");
			return -EINVAL;
		}
		if (!isfinite(a))
			return -EDOM;
		st[sp - 1] = a;
	}
	assert(sp == 1);
	*ret = st[0] + 0.0; /* no -0 */
	return 0;
}

unsigned fg_expr_vars(const struct fg_expr *e)
{
	return e ? e->vars : 0;
}

size_t fg_expr_size(const struct fg_expr *e)
{
	return e ? e->n : 0;
}
