/*
 * bench_spawn.c - runs one command and reports its wall time and peak
 * memory, for the compilation figures of `make bench` (tools/bench/run).
 *
 * usage: bench_spawn LOG COMMAND [ARG]...
 *
 * Runs COMMAND with standard input from /dev/null and standard output and
 * error appended to LOG, waits for it, and prints one line:
 *
 *   WALL_MS PEAK_KIB
 *
 * WALL_MS is CLOCK_MONOTONIC from just before fork() to waitpid()'s return;
 * PEAK_KIB is ru_maxrss from getrusage(RUSAGE_CHILDREN), which with a
 * single child is that child's peak resident set. Linux counts in ru_maxrss the memory
 * a process had before it called exec, so the child must be forked from a
 * small process: from the Python driver, every figure would be at least
 * the driver's own size. Exits 1, printing nothing on standard output,
 * when the command cannot be run or does not exit with status 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fputs("usage: bench_spawn LOG COMMAND [ARG]...\n", stderr);
		return 2;
	}
	int log = open(argv[1], O_WRONLY | O_CREAT | O_APPEND, 0644);
	int null = open("/dev/null", O_RDONLY);
	if (log < 0 || null < 0) {
		fprintf(stderr, "bench_spawn: cannot open %s: %s\n", log < 0 ? argv[1] : "/dev/null",
		        strerror(errno));
		return 1;
	}
	fflush(NULL);
	double t0 = now_ms();
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "bench_spawn: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		if (dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0)
			_exit(127);
		execvp(argv[2], argv + 2);
		dprintf(log, "bench_spawn: cannot run %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	int status;
	pid_t got;
	do
		got = waitpid(pid, &status, 0);
	while (got < 0 && errno == EINTR);
	double t1 = now_ms();
	struct rusage ru;
	if (got < 0 || getrusage(RUSAGE_CHILDREN, &ru) != 0) {
		fprintf(stderr, "bench_spawn: waitpid: %s\n", strerror(errno));
		return 1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFEXITED(status))
			fprintf(stderr, "bench_spawn: %s exited with status %d (see %s)\n", argv[2],
			        WEXITSTATUS(status), argv[1]);
		else
			fprintf(stderr, "bench_spawn: %s killed by signal %d\n", argv[2],
			        WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		return 1;
	}
	printf("%.3f %ld\n", t1 - t0, (long)ru.ru_maxrss);
	return 0;
}
