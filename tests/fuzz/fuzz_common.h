/*
 * fuzz_common.h — helpers shared by the libFuzzer targets in tests/fuzz/.
 *
 * A broken property is reported with FUZZ_CHECK, which prints where and why
 * and then abort()s, so libFuzzer saves the input as a crash artifact exactly
 * as it does for a sanitizer report.  Nothing here keeps state between
 * inputs: every target is deterministic for a given input, and a run is
 * deterministic for a given -seed.
 */
#ifndef ENRP_FUZZ_COMMON_H
#define ENRP_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond, ...)                                                            \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "%s:%d: property failed: %s: ", __FILE__, __LINE__,  \
			        #cond);                                                  \
			fprintf(stderr, __VA_ARGS__);                                    \
			fputc('\n', stderr);                                             \
			abort();                                                         \
		}                                                                        \
	} while (0)

/* The frame target's fixed EIR data key and chunk name.  make_seeds.c
 * encodes its keyed seed frames with them, so those seeds decode. */
static inline void fuzz_frame_data_key(uint8_t key[32])
{
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(0x40 + i);
}

static inline void fuzz_frame_digest(uint8_t digest[32])
{
	for (int i = 0; i < 32; i++)
		digest[i] = (uint8_t)(0xd0 ^ (i * 7));
}

/* libFuzzer's entry point; declared so -Wmissing-prototypes stays quiet. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The SIZE bytes at DATA as a C string in a new buffer (cut at the first
 * NUL, as the parsers see it); the caller frees it. */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	FUZZ_CHECK(s, "out of memory");
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
