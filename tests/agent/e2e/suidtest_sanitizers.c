/*
 * suidtest_sanitizers.c - linked only into the test copy elevate-suidtest.
 *
 * A set-user-ID process is not dumpable, so LeakSanitizer cannot stop it
 * to scan for leaks and ends it with a fatal error instead; and the
 * environment (ASAN_OPTIONS) is not trusted there. In sanitizer builds the
 * set-user-ID copy therefore turns leak detection off by itself. The same
 * code runs with leak detection in the ordinary elevate tests.
 */
const char *__asan_default_options(void);
const char *__lsan_default_options(void);

const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

const char *__lsan_default_options(void)
{
	return "detect_leaks=0";
}
