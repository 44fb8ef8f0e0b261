/*
 * fuzz_frontend.c - libFuzzer entry point for the whole front end: arbitrary
 * bytes -> lexer -> parser -> checker -> Jamf target -> profile XML, with
 * diagnostics rendered as text and JSON. It must never crash, hang, leak or
 * read out of bounds. tests/fuzz/replay.c runs the same entry point over
 * the committed corpus in `make check`, without libFuzzer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "compile.h"
#include "profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *sink(void)
{
	static FILE *devnull;
	if (!devnull)
		devnull = fopen("/dev/null", "w");
	return devnull;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct source src;
	struct compilation c;
	struct compile_options opts = { &target_jamf_connect, false };

	if (source_from_buffer(&src, "fuzz.ep", (const char *)data, size) < 0)
		return 0;
	compile_source(&c, &src, &opts);
	diag_render(&c.diags, sink(), DIAG_FORMAT_TEXT, true);
	diag_render(&c.diags, sink(), DIAG_FORMAT_JSON, false);
	if (c.policy) {
		for (int style = PAYLOAD_MANAGED; style <= PAYLOAD_INLINE; style++) {
			struct profile_options po = { &target_jamf_connect, (enum payload_style)style,
			                             c.bytecode, c.bytecode_len };
			char *xml;
			size_t len;
			if (profile_build_xml(c.policy, &po, &xml, &len) < 0)
				abort();
			free(xml);
		}
	}
	compilation_free(&c);
	return 0;
}
