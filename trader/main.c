/*
 * quantor-trader tick [--loop SECONDS]
 *
 * One tick of every running bot (cron runs it every minute), or one every SECONDS until SIGTERM
 * (`make run`). A second trader on the same host finds the lock taken and exits 0 at once;
 * trader hosts sharing one database split the bots between them (SELECT ... SKIP LOCKED).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "q_log.h"
#include "trader.h"

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static int
usage(void)
{
	fputs("usage: quantor-trader tick [--loop SECONDS]\n"
	      "  tick            run every running bot once on its newest closed candle\n"
	      "  --loop SECONDS  tick again every SECONDS (1-3600) until SIGTERM\n"
	      "The config is read from $QUANTOR_CONFIG (default /etc/quantor/quantor.conf).\n",
	      stderr);
	return 2;
}

/* The host lock: -1 when another trader holds it, else its descriptor. */
static int
take_lock(const char *path, struct q_err *err)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		q_err_set(err, Q_E_IO, "cannot open the lock file %s: %s", path, strerror(errno));
		return -2;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		close(fd);
		if (e == EWOULDBLOCK)
			return -1;
		q_err_set(err, Q_E_IO, "cannot lock %s: %s", path, strerror(e));
		return -2;
	}
	return fd;
}

/* Sleep s seconds, waking early for a signal. */
static void
nap(long s)
{
	struct timespec ts = {0, 100000000L};

	for (long i = 0; i < s * 10 && !stopping; i++)
		nanosleep(&ts, NULL);
}

int
main(int argc, char **argv)
{
	struct trader t;
	struct q_err err = {0};
	struct sigaction sa;
	const char *lock_path;
	long loop = 0;
	int fd, rc = 1;

	if (argc < 2 || strcmp(argv[1], "tick") != 0)
		return usage();
	for (int i = 2; i < argc; i++) {
		char *end;

		if (strcmp(argv[i], "--loop") != 0 || i + 1 >= argc)
			return usage();
		loop = strtol(argv[++i], &end, 10);
		if (*end || loop < 1 || loop > 3600)
			return usage();
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (tr_init(&t, NULL, &err) < 0) {
		fprintf(stderr, "quantor-trader: %s\n", err.msg);
		return 1;
	}
	lock_path = q_config_get(t.ctx.cfg, "trader", "lock_file", "/run/quantor/trader.lock");
	fd = take_lock(lock_path, &err);
	if (fd == -1) {
		printf("quantor-trader: another tick holds %s; nothing to do\n", lock_path);
		tr_release(&t);
		return 0;
	}
	if (fd < 0) {
		fprintf(stderr, "quantor-trader: %s\n", err.msg);
		goto out;
	}
	do {
		q_err_clear(&err);
		rc = tr_tick(&t, &err) < 0 ? 1 : 0;
		if (rc != 0)
			q_log_error("tick.failed", "error=%s", err.msg);
		if (loop)
			nap(loop);
	} while (loop && !stopping);
	if (loop)
		rc = 0;
	close(fd);
out:
	tr_release(&t);
	return rc;
}
