/*
 * http: quantor-sim's HTTP/1.1 server.
 *
 * One I/O thread runs a poll() loop over non-blocking sockets: it accepts, reads and parses each
 * request head and body, and writes responses out. Complete requests go to a fixed pool of worker
 * threads that run the handler, so a slow handler (a webhook delivery waiting for the webhook)
 * never stalls other connections, and an idle or half-sent connection costs one pollfd.
 *
 * Per connection: HTTP/1.1 keep-alive (and pipelining, answered in order), HTTP/1.0 closing by
 * default, bodies by Content-Length only (Transfer-Encoding is refused with 411), "Expect:
 * 100-continue" honoured, request heads capped at SIM_MAX_HEAD (431; a request line over 8 KiB is
 * 414) and bodies at SIM_MAX_BODY (413), malformed requests 400, other HTTP versions 505, a
 * request not complete within 30 s 408, an idle connection closed after 75 s. Refusals close the
 * connection after a lingering close, so the client reads the answer instead of a reset.
 * One log line per request (event=sim.request), with Telegram tokens in paths redacted and no
 * query string.
 */
#ifndef Q_SIM_HTTP_H
#define Q_SIM_HTTP_H

#include "q_err.h"
#include "sim.h"

typedef int (*sim_handler_fn)(struct sim_req *req, struct sim_resp *resp, struct q_err *err);

struct sim_http_opts {
	int port;      /* on 127.0.0.1 only; 0 picks a free port (see sim_http_port) */
	int threads;   /* worker threads; 0: 8 */
	int max_conns; /* open connections; 0: 512. At the cap the longest-idle one is closed */
};

struct sim_http;

/*
 * Bind and listen on 127.0.0.1:port. NULL with Q_E_IO naming the port when that fails (in use,
 * not permitted). fn answers every parsed request, on a worker thread.
 */
struct sim_http *sim_http_listen(const struct sim_http_opts *o, sim_handler_fn fn,
                                 struct q_err *err);

/* The bound port. */
int sim_http_port(const struct sim_http *s);

/*
 * Serve until SIGTERM or SIGINT. Blocks both signals in the calling thread (the workers it
 * starts inherit that) and takes them through a signalfd; SIGPIPE is ignored. On a signal it
 * stops accepting, lets the requests in flight finish and their answers go out (a few seconds
 * at most), closes every connection and joins the workers. Returns 0, or -1 with Q_E_IO when the
 * loop itself fails.
 */
int sim_http_run(struct sim_http *s, struct q_err *err);

/* Close the listening socket and free the server. NULL-safe. */
void sim_http_free(struct sim_http *s);

/*
 * The path to log for raw_path: no query string, Telegram bot tokens ("/bot<id>:<secret>/", and
 * any "/bot..." segment right after "/telegram/") as "/bot[redacted]", cut at 200 bytes.
 */
void sim_http_log_path(char *out, size_t outlen, const char *raw_path);

#endif
