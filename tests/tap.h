/*
 * tap.h — a tiny Test Anything Protocol producer for the unit tests.
 *
 *   plan(N);                 optional: prints "1..N" first
 *   ok(cond, "fmt", ...);    "ok N - ..." or "not ok N - ..." (+ file:line)
 *   is_int(got, want, "fmt", ...);
 *   is_str(got, want, "fmt", ...);
 *   diag("fmt", ...);        "# ..." on stdout
 *   return done_testing();   prints "1..N" if no plan; 0 only if every
 *                            test passed and the plan (if any) was met
 *
 * Plus helpers every test needs: tap_tmpdir() makes a private directory
 * under /tmp and tap_rmrf() removes a tree.  Header-only: everything is
 * static inline so an unused helper costs no warning.  Not thread-safe.
 */
#ifndef ENRP_TAP_H
#define ENRP_TAP_H

#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int tap_run, tap_failed, tap_planned = -1;

static inline void plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

static inline void tap_vreport(bool pass, const char *file, int line, const char *fmt, va_list ap)
{
	tap_run++;
	if (!pass)
		tap_failed++;
	printf("%sok %d - ", pass ? "" : "not ", tap_run);
	vprintf(fmt, ap);
	printf("\n");
	if (!pass)
		printf("#   failed at %s:%d\n", file, line);
	fflush(stdout);
}

static inline bool tap_ok(bool pass, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static inline bool tap_ok(bool pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	tap_vreport(pass, file, line, fmt, ap);
	va_end(ap);
	return pass;
}

static inline bool tap_is_int(long long got, long long want, const char *file, int line,
                              const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static inline bool tap_is_int(long long got, long long want, const char *file, int line,
                              const char *fmt, ...)
{
	va_list ap;
	bool pass = got == want;
	va_start(ap, fmt);
	tap_vreport(pass, file, line, fmt, ap);
	va_end(ap);
	if (!pass)
		printf("#        got: %lld\n#   expected: %lld\n", got, want);
	return pass;
}

static inline bool tap_is_str(const char *got, const char *want, const char *file, int line,
                              const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static inline bool tap_is_str(const char *got, const char *want, const char *file, int line,
                              const char *fmt, ...)
{
	va_list ap;
	bool pass = got && want ? strcmp(got, want) == 0 : got == want;
	va_start(ap, fmt);
	tap_vreport(pass, file, line, fmt, ap);
	va_end(ap);
	if (!pass)
		printf("#        got: '%s'\n#   expected: '%s'\n", got ? got : "(null)",
		       want ? want : "(null)");
	return pass;
}

static inline void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void diag(const char *fmt, ...)
{
	va_list ap;
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) \
	tap_is_int((long long)(got), (long long)(want), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, ...) tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)

static inline int done_testing(void)
{
	if (tap_planned < 0)
		printf("1..%d\n", tap_run);
	else if (tap_planned != tap_run)
		printf("# planned %d tests but ran %d\n", tap_planned, tap_run);
	if (tap_failed)
		printf("# failed %d of %d tests\n", tap_failed, tap_run);
	fflush(stdout);
	return tap_failed || (tap_planned >= 0 && tap_planned != tap_run) ? 1 : 0;
}

/* N repetitions of a randomised check, or a tenth of them (at least one)
 * under valgrind (tests/run sets ENRP_TEST_VALGRIND): there each costs ~50x
 * and the repetitions add confidence, not coverage, which the native and
 * sanitizer runs of the same test already give. */
static inline int tap_reps(int n)
{
	const char *v = getenv("ENRP_TEST_VALGRIND");
	if (!v || !*v || strcmp(v, "0") == 0)
		return n;
	return n / 10 > 0 ? n / 10 : 1;
}

/* Makes a fresh directory /tmp/enrp-test-XXXXXX; NULL on failure.  The
 * string is static: one per test program. */
static inline const char *tap_tmpdir(void)
{
	static char dir[64];
	snprintf(dir, sizeof(dir), "/tmp/enrp-test-XXXXXX");
	return mkdtemp(dir);
}

static inline int tap_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* rm -rf PATH: depth first, not crossing mounts, not following symlinks. */
static inline int tap_rmrf(const char *path)
{
	return nftw(path, tap_rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

#endif
