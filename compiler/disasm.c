/*
 * disasm.c - prints a verified program the way SQLite's EXPLAIN does:
 * header facts, then one line per instruction (offset, opcode, operand,
 * and what the operand means: strings, sets, rule names resolved), then
 * the rule table. Reads only through libep's verified program; never
 * prints unverified bytes.
 */
#include "disasm.h"

#include <inttypes.h>

#include "calendar.h"
#include "index.h"
#include "opcodes.h"

static const char *const day_abbrev[7] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

static const unsigned char *set_entry(const struct ep_program *prog, uint32_t set, uint32_t *count,
                                      const unsigned char **items)
{
	const unsigned char *e = prog->set_index + 12 * set;
	*count = ep_read_u32(e + 8);
	*items = prog->set_items + 4 * ep_read_u32(e + 4);
	return e;
}

static void print_quoted(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void print_set(FILE *out, const struct ep_program *prog, uint32_t set)
{
	uint32_t n;
	const unsigned char *items;
	const unsigned char *e = set_entry(prog, set, &n, &items);

	fputc('[', out);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t v = ep_read_u32(items + 4 * i);
		if (i)
			fputs(", ", out);
		switch (e[0]) {
		case EP_SET_STRINGS:
		case EP_SET_LIST:
			print_quoted(out, ep_string(prog, v));
			break;
		case EP_SET_TIMES:
			fprintf(out, "%02u:%02u..%02u:%02u", (v & 0xFFFF) / 60, (v & 0xFFFF) % 60,
			        (v >> 16) / 60, (v >> 16) % 60);
			break;
		case EP_SET_DATES: {
			struct civil_date a = ep_civil_from_days((int32_t)v);
			struct civil_date b = ep_civil_from_days((int32_t)ep_read_u32(items + 4 * ++i));
			fprintf(out, "%04" PRId32 "-%02u-%02u..%04" PRId32 "-%02u-%02u", a.year, a.month,
			        a.day, b.year, b.month, b.day);
			break;
		}
		}
	}
	fputc(']', out);
}

static void print_days(FILE *out, uint32_t mask)
{
	const char *sep = "";
	fputc('[', out);
	for (unsigned d = 0; d < 7; d++) {
		if (mask & (1u << d)) {
			fprintf(out, "%s%s", sep, day_abbrev[d]);
			sep = ", ";
		}
	}
	fputc(']', out);
}

static const char *subject_of(enum ep_opcode op)
{
	switch (op) {
	case EP_OP_USER_EQ: case EP_OP_USER_IN: case EP_OP_USER_MATCH: return "user";
	case EP_OP_GROUP_EQ: case EP_OP_GROUP_IN: case EP_OP_GROUP_MATCH: return "group";
	case EP_OP_HOST_EQ: case EP_OP_HOST_IN: case EP_OP_HOST_MATCH: return "host";
	case EP_OP_SESSION_IN: return "session";
	case EP_OP_TIME_IN: return "time";
	case EP_OP_DAY_IN: return "day";
	case EP_OP_DATE_IN: return "date";
	default: return "";
	}
}

static void print_rule_name(FILE *out, const struct ep_program *prog, uint32_t rule)
{
	if (rule == prog->nrules - 1) {
		fputs("otherwise", out);
		return;
	}
	fprintf(out, "rule #%" PRIu32 " ", rule);
	print_quoted(out, ep_string(prog, ep_read_u32(prog->rules + EP_RULE_SIZE * rule)));
}

/* The comment column: what the operand means. */
/* INDEX: the segment's extent and how many keys of each kind it has. */
static void print_index(FILE *out, const struct ep_program *prog, uint32_t set)
{
	static const char *const subjects[EP_INDEX_SUBJECTS] = {
		"users", "groups", "hosts", "sessions", "user prefixes", "group prefixes", "host prefixes",
	};
	struct ep_index ix;
	ep_index_read(prog, set, false, &ix);
	fprintf(out, "%" PRIu32 " blocks up to %04" PRIx32 "; always %" PRIu32, ix.nblocks, ix.end,
	        ix.always.n);
	for (int s = 0; s < EP_INDEX_SUBJECTS; s++)
		if (ix.subject[s].nkeys)
			fprintf(out, ", %" PRIu32 " %s", ix.subject[s].nkeys, subjects[s]);
}

static void print_meaning(FILE *out, const struct ep_program *prog, enum ep_opcode op,
                          enum ep_operand kind, uint32_t a, uint32_t next)
{
	switch (kind) {
	case EP_OPERAND_NONE:
		return;
	case EP_OPERAND_STRING:
		fprintf(out, "%s %s ", subject_of(op),
		        op == EP_OP_USER_MATCH || op == EP_OP_GROUP_MATCH || op == EP_OP_HOST_MATCH
		            ? "matches" : "==");
		print_quoted(out, ep_string(prog, a));
		return;
	case EP_OPERAND_STRSET: case EP_OPERAND_TIMESET: case EP_OPERAND_DATESET:
		fprintf(out, "%s in ", subject_of(op));
		print_set(out, prog, a);
		return;
	case EP_OPERAND_SESSIONS:
		fprintf(out, "session in [%s%s%s]", a & 1 ? "console" : "", a == 3 ? ", " : "",
		        a & 2 ? "remote" : "");
		return;
	case EP_OPERAND_DAYS:
		fputs("day in ", out);
		print_days(out, a);
		return;
	case EP_OPERAND_JUMP:
		fprintf(out, "if false: go to %04" PRIx32, next + a);
		return;
	case EP_OPERAND_RULE:
		print_rule_name(out, prog, a);
		return;
	case EP_OPERAND_INDEX:
		print_index(out, prog, a);
		return;
	}
}

/* One instruction, decoded from a verified program. */
struct insn {
	enum ep_opcode op;
	const struct ep_opcode_info *info;
	unsigned size;             /* operand bytes */
	uint32_t a;                /* operand, 0 when there is none */
	uint32_t next;             /* offset of the next instruction */
};

static struct insn decode(const struct ep_program *prog, uint32_t pc)
{
	struct insn in;
	in.op = (enum ep_opcode)prog->code[pc];
	in.info = &ep_opcode_table[in.op];
	in.size = ep_operand_size(in.info->operand);
	in.a = in.size == 4 ? ep_read_u32(prog->code + pc + 1) : in.size ? prog->code[pc + 1] : 0;
	in.next = pc + 1 + in.size;
	return in;
}

void disasm_describe(FILE *out, const struct ep_program *prog, uint32_t pc)
{
	if (pc >= prog->code_size)
		return;
	struct insn in = decode(prog, pc);
	print_meaning(out, prog, in.op, in.info->operand, in.a, in.next);
}

static void print_code(FILE *out, const struct ep_program *prog)
{
	fputs("addr  opcode          operand     meaning\n", out);
	for (uint32_t pc = 0; pc < prog->code_size;) {
		struct insn in = decode(prog, pc);
		if (in.size) {
			fprintf(out, "%04" PRIx32 "  %-15s %-11" PRIu32 " ", pc, in.info->name, in.a);
			print_meaning(out, prog, in.op, in.info->operand, in.a, in.next);
		} else {
			fprintf(out, "%04" PRIx32 "  %s", pc, in.info->name);
		}
		fputc('\n', out);
		pc = in.next;
	}
}

static void print_duration(FILE *out, const char *label, uint32_t s)
{
	if (s % 3600 == 0)
		fprintf(out, " %s %" PRIu32 "h", label, s / 3600);
	else if (s % 60 == 0)
		fprintf(out, " %s %" PRIu32 "m", label, s / 60);
	else
		fprintf(out, " %s %" PRIu32 "s", label, s);
}

static void print_allow_settings(FILE *out, const struct ep_program *prog, const unsigned char *r)
{
	static const char *const periods[] = { "none", "day", "week", "month" };
	static const char *const reasons[] = { "none", "optional", "required" };
	uint32_t limit = ep_read_u32(r + 20), choices = ep_read_u32(r + 36);

	print_duration(out, "duration", ep_read_u32(r + 12));
	print_duration(out, "max", ep_read_u32(r + 16));
	if (r[24])
		fprintf(out, " limit %" PRIu32 " per %s", limit, periods[r[24]]);
	else
		fputs(" limit none", out);
	fprintf(out, " authenticate %s", r[9] == 3 ? "biometric|password" : r[9] == 1 ? "biometric"
	                                : r[9] == 2 ? "password" : "none");
	fprintf(out, "\n        reason %s", reasons[r[10]]);
	if (ep_read_u32(r + 28))
		fprintf(out, " min %" PRIu32, ep_read_u32(r + 28));
	if (ep_read_u32(r + 32))
		fprintf(out, " max %" PRIu32, ep_read_u32(r + 32));
	fprintf(out, " other %s timer %s", r[11] & 1 ? "allowed" : "not-allowed",
	        r[11] & 2 ? "shown" : "hidden");
	if (choices != EP_NONE) {
		fputs("\n        choices ", out);
		print_set(out, prog, choices);
	}
}

static void print_rules(FILE *out, const struct ep_program *prog)
{
	fputs("\nrules:\n", out);
	for (uint32_t i = 0; i < prog->nrules; i++) {
		const unsigned char *r = prog->rules + EP_RULE_SIZE * i;
		uint32_t message = ep_read_u32(r + 4);
		fputs("  ", out);
		print_rule_name(out, prog, i);
		fputs(r[8] ? ": deny" : ": allow", out);
		if (message != EP_NONE) {
			fputs(" message ", out);
			print_quoted(out, ep_string(prog, message));
		}
		if (!r[8])
			print_allow_settings(out, prog, r);
		fputc('\n', out);
	}
}

void disasm_print(FILE *out, const struct ep_program *prog, const char *signer)
{
	fprintf(out, "; polc bytecode format %u, %" PRIu32 " bytes, %s\n", EP_FORMAT_VERSION,
	        prog->size, signer);
	fprintf(out, "; %" PRIu32 " strings, %" PRIu32 " sets, %" PRIu32 " rules + otherwise, "
	        "%" PRIu32 " bytes of code, stack depth %" PRIu32 "\n\n",
	        prog->nstrings, prog->nsets, ep_rule_count(prog), prog->code_size, prog->max_stack);
	print_code(out, prog);
	print_rules(out, prog);
}
