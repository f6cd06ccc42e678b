// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The ZeroMQ sink's guard against its peers; see zmq_guard.h. */
#include <errno.h>
#include <malloc.h>
#include <linux/tcp.h> /* tcpi_bytes_received: netinet/tcp.h lacks it */
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <zmq.h>

#include "common/clock.h"
#include "common/log.h"
#include "export/zmq_guard.h"

#define TICK_MS 20

/*
 * The name libzmq gives the peer of @fd in a message's "Peer-Address" ("" for
 * a unix socket); true for a TCP peer.
 */
static bool peer_name(int fd, char *out, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	out[0] = '\0';
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) || ss.ss_family == AF_UNIX)
		return false;
	if (getnameinfo((struct sockaddr *)&ss, sl, out, len, NULL, 0, NI_NUMERICHOST))
		out[0] = '\0';
	return true;
}

/* What the kernel has received on @fd so far; 0 when it cannot say. */
static uint64_t bytes_received(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return 0;
	return ti.tcpi_bytes_received;
}

/* True while @addr is banned; with the lock held. */
static bool banned(const struct zmq_guard *g, const char *addr, uint64_t now)
{
	return now < g->banned_until_ns && (g->ban_all || !strcmp(g->banned, addr));
}

static void peer_add(struct zmq_guard *g, int fd, uint64_t now)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	struct zmq_guard_peer *p;
	bool cut;

	if (g->n_peers == ZMQ_GUARD_MAX_PEERS)
		return;
	p = &g->peers[g->n_peers];
	p->fd = fd;
	p->tcp = peer_name(fd, p->addr, sizeof(p->addr));
	p->bytes = p->tcp ? bytes_received(fd) : 0;
	p->allowance = ZMQ_GUARD_BURST;
	p->seen_ns = now;
	pthread_mutex_lock(&g->lock);
	cut = banned(g, p->addr, now) && !shutdown(fd, SHUT_RDWR);
	g->cut_rogue += cut;
	pthread_mutex_unlock(&g->lock);
	if (cut)
		return;
	ev.data.fd = fd;
	if (p->tcp)
		epoll_ctl(g->epfd, EPOLL_CTL_ADD, fd, &ev);
	g->n_peers++;
}

static void peer_gone(struct zmq_guard *g, int fd)
{
	for (int i = 0; i < g->n_peers; i++) {
		if (g->peers[i].fd == fd) {
			epoll_ctl(g->epfd, EPOLL_CTL_DEL, fd, NULL); /* gone with the fd, mostly */
			g->peers[i] = g->peers[--g->n_peers];
			return;
		}
	}
}

/* Connections accepted and closed since the last call. */
static void follow(struct zmq_guard *g, uint64_t now)
{
	uint8_t ev[6];
	char ep[256];
	int n;

	while ((n = zmq_recv(g->monitor, ev, sizeof(ev), ZMQ_DONTWAIT)) >= 0) {
		uint16_t event;
		int32_t fd;

		zmq_recv(g->monitor, ep, sizeof(ep), ZMQ_DONTWAIT); /* the endpoint */
		if (n < (int)sizeof(ev))
			continue;
		memcpy(&event, ev, sizeof(event));
		memcpy(&fd, ev + 2, sizeof(fd));
		if (event == ZMQ_EVENT_ACCEPTED)
			peer_add(g, fd, now);
		else
			peer_gone(g, fd);
	}
}

/* Shuts down the connections @all, or those from a banned address; returns how many. */
static int cut(struct zmq_guard *g, bool all, uint64_t now)
{
	int n = 0;

	for (int i = 0; i < g->n_peers; i++) {
		struct zmq_guard_peer *p = &g->peers[i];

		if ((all || banned(g, p->addr, now)) && !shutdown(p->fd, SHUT_RDWR))
			n++;
	}
	return n;
}

/*
 * A peer that sent more than its allowance: an honest subscriber sends a few
 * subscriptions, then a heartbeat a second. The allowance refills at
 * ZMQ_GUARD_RATE up to ZMQ_GUARD_BURST.
 */
static void check_peer(struct zmq_guard *g, struct zmq_guard_peer *p, uint64_t now)
{
	uint64_t bytes = bytes_received(p->fd);
	double refill = (now - p->seen_ns) / 1e9 * ZMQ_GUARD_RATE;

	p->allowance += refill;
	if (p->allowance > ZMQ_GUARD_BURST)
		p->allowance = ZMQ_GUARD_BURST;
	p->allowance -= bytes > p->bytes ? bytes - p->bytes : 0;
	p->bytes = bytes;
	p->seen_ns = now;
	if (p->allowance >= 0 || shutdown(p->fd, SHUT_RDWR))
		return;
	p->allowance = ZMQ_GUARD_BURST; /* cut once: the next look finds it gone */
	pthread_mutex_lock(&g->lock);
	g->cut_flood++;
	pthread_mutex_unlock(&g->lock);
	if (now - g->warned_ns > 60 * 1000 * NS_PER_MS || !g->warned_ns) {
		g->warned_ns = now;
		pr_warn("A ZeroMQ peer %s sent more than a subscriber does (%d KiB at once, "
			"%d KiB/s): connection closed\n", p->addr, ZMQ_GUARD_BURST >> 10,
			ZMQ_GUARD_RATE >> 10);
	}
}

/* The connections data arrived on since the last look. */
static void check_arrivals(struct zmq_guard *g, uint64_t now)
{
	struct epoll_event ev[64];
	int n = epoll_wait(g->epfd, ev, 64, 0);

	for (int i = 0; i < n; i++)
		for (int j = 0; j < g->n_peers; j++)
			if (g->peers[j].fd == ev[i].data.fd)
				check_peer(g, &g->peers[j], now);
}

/* A ban just made: its connections go now. */
static void act_on_ban(struct zmq_guard *g, uint64_t now)
{
	pthread_mutex_lock(&g->lock);
	if (g->ban_new) {
		g->ban_new = false;
		g->cut_rogue += cut(g, false, now);
	}
	pthread_mutex_unlock(&g->lock);
	/*
	 * What a cut peer's queued subscriptions took goes back to the system:
	 * glibc kept it (RSS 30 to 46 MB over the warm size after two rogues,
	 * tests/e2e/test_zmq_guard.sh; 2 MB with this).
	 */
	malloc_trim(0);
}

/*
 * The loop stuck in one ZeroMQ call: a peer floods it. Every connection is
 * cut, once per stuck call; the flood's own ends, and the call returns.
 */
static void act_on_stall(struct zmq_guard *g, uint64_t now, uint64_t *handled)
{
	uint64_t since = __atomic_load_n(&g->busy_since_ns, __ATOMIC_ACQUIRE);
	int n;

	/* @now may predate a call entered since: no stall then. */
	if (!since || since == *handled || since > now ||
	    now - since < ZMQ_GUARD_STALL_MS * NS_PER_MS)
		return;
	*handled = since;
	pthread_mutex_lock(&g->lock);
	n = cut(g, true, now);
	g->cut_stall += n;
	pthread_mutex_unlock(&g->lock);
	malloc_trim(0); /* as in act_on_ban() */
	pr_warn("ZeroMQ kept the loop over %d ms taking in what peers sent (a flood of "
		"subscriptions?): %d connection(s) closed; subscribers connect again by "
		"themselves\n", ZMQ_GUARD_STALL_MS, n);
}

static void *guard_main(void *arg)
{
	struct zmq_guard *g = arg;
	zmq_pollitem_t items[] = {
		{ .socket = g->monitor, .events = ZMQ_POLLIN },
		{ .fd = g->epfd, .events = ZMQ_POLLIN },
	};
	uint64_t handled = 0;

	for (;;) {
		uint64_t now;
		bool stop;

		zmq_poll(items, 2, TICK_MS);
		now = clock_ns(CLOCK_MONOTONIC);
		follow(g, now);
		check_arrivals(g, now);
		act_on_ban(g, now);
		act_on_stall(g, now, &handled);
		pthread_mutex_lock(&g->lock);
		stop = g->stop;
		pthread_mutex_unlock(&g->lock);
		if (stop)
			return NULL;
	}
}

int zmq_guard_start(struct zmq_guard *g, void *ctx, void *sock)
{
	sigset_t all, old;
	char ep[64];
	int err;

	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->lock, NULL);
	g->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (g->epfd < 0)
		return -errno;
	snprintf(ep, sizeof(ep), "inproc://nfxdp-guard-%p", (void *)g);
	if (zmq_socket_monitor(sock, ep, ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED |
					     ZMQ_EVENT_CLOSED))
		return -errno;
	g->monitor = zmq_socket(ctx, ZMQ_PAIR);
	if (!g->monitor || zmq_connect(g->monitor, ep)) {
		err = -errno;
		goto fail;
	}
	/* Signals stay with the loop's thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = -pthread_create(&g->thread, NULL, guard_main, g);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		goto fail;
	g->running = true;
	return 0;
fail:
	zmq_socket_monitor(sock, NULL, 0);
	if (g->monitor)
		zmq_close(g->monitor);
	g->monitor = NULL;
	close(g->epfd);
	g->epfd = -1;
	return err;
}

void zmq_guard_enter(struct zmq_guard *g)
{
	__atomic_store_n(&g->busy_since_ns, clock_ns(CLOCK_MONOTONIC), __ATOMIC_RELEASE);
}

void zmq_guard_leave(struct zmq_guard *g)
{
	__atomic_store_n(&g->busy_since_ns, 0, __ATOMIC_RELEASE);
}

void zmq_guard_ban(struct zmq_guard *g, const char *addr)
{
	pthread_mutex_lock(&g->lock);
	snprintf(g->banned, sizeof(g->banned), "%s", addr);
	g->ban_all = !*addr;
	g->banned_until_ns = clock_ns(CLOCK_MONOTONIC) + ZMQ_GUARD_BAN_S * 1000ULL * NS_PER_MS;
	g->ban_new = true;
	pthread_mutex_unlock(&g->lock);
}

uint64_t zmq_guard_cut(struct zmq_guard *g)
{
	uint64_t n;

	pthread_mutex_lock(&g->lock);
	n = g->cut_flood + g->cut_rogue + g->cut_stall;
	pthread_mutex_unlock(&g->lock);
	return n;
}

void zmq_guard_stop(struct zmq_guard *g, void *sock)
{
	if (!g->running)
		return;
	pthread_mutex_lock(&g->lock);
	g->stop = true;
	pthread_mutex_unlock(&g->lock);
	pthread_join(g->thread, NULL);
	g->running = false;
	zmq_socket_monitor(sock, NULL, 0);
	zmq_close(g->monitor);
	g->monitor = NULL;
	close(g->epfd);
	g->epfd = -1;
	pthread_mutex_destroy(&g->lock);
}
