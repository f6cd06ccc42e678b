/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The ZeroMQ sink's guard against its peers. libzmq keeps every
 * subscription a peer sends in a trie, with no bound and no way to take one
 * out, and it inserts them in the thread that calls the socket (the
 * collector's loop): a peer sending subscriptions faster than they are
 * inserted keeps that thread inside libzmq and its memory growing for as
 * long as it sends. The only remedy is to end the peer's connection, which
 * frees what it subscribed to.
 *
 * The guard is a thread of its own that follows the socket's connections
 * (zmq_socket_monitor(): accepted, closed) and shuts a connection's socket
 * down (libzmq then closes it as if the peer had left):
 *  - when a TCP peer sends more than it could for any honest purpose (a
 *    subscriber sends a few subscriptions, then a heartbeat a second): a
 *    budget of ZMQ_GUARD_BURST bytes refilled at ZMQ_GUARD_RATE bytes a
 *    second, read off the kernel's count (TCP_INFO) as data arrives (the
 *    guard's epoll watches the connections too), so a flood is cut off
 *    after about the budget whatever its speed;
 *  - when the sink names a rogue peer address (it subscribed to too many
 *    topics nfxdp does not publish; the one test a unix socket's peers get):
 *    every connection from there, and each new one for ZMQ_GUARD_BAN_S;
 *  - when the loop has been inside a ZeroMQ call for ZMQ_GUARD_STALL_MS
 *    (a flood the above did not catch, on a unix socket): every connection.
 *    Long enough that a loop merely preempted under load is not taken for
 *    one, short of /healthz's 3 poll intervals.
 * Subscribers cut off by mistake connect again by themselves (ZeroMQ) and
 * see a sequence gap.
 */
#ifndef NFXDP_EXPORT_ZMQ_GUARD_H
#define NFXDP_EXPORT_ZMQ_GUARD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define ZMQ_GUARD_STALL_MS 500
#define ZMQ_GUARD_BAN_S 60
#define ZMQ_GUARD_MAX_PEERS 1024
#define ZMQ_GUARD_BURST (64 << 10) /* bytes a peer may send at once ... */
#define ZMQ_GUARD_RATE (4 << 10)   /* ... and a second, on average */

/* An accepted connection: its socket, and its address as libzmq names it (Peer-Address). */
struct zmq_guard_peer {
	int fd;
	char addr[64];
	bool tcp;	   /* its bytes are counted (TCP_INFO) */
	uint64_t bytes;	   /* received, at the last look */
	double allowance;  /* bytes it may still send */
	uint64_t seen_ns;  /* the last look */
};

struct zmq_guard {
	pthread_t thread;
	bool running;
	void *monitor;		 /* PAIR socket fed by zmq_socket_monitor(); the thread's own */
	int epfd;		 /* the connections' sockets, edge-triggered: data arrived */
	uint64_t busy_since_ns;	 /* the loop entered a ZeroMQ call then (monotonic); 0: not in one */
	pthread_mutex_t lock;	 /* guards what follows */
	bool stop;
	char banned[64];	 /* a rogue's address; "" with ban_all: a unix socket */
	bool ban_all;
	uint64_t banned_until_ns;
	bool ban_new;		 /* a ban the thread has not acted on yet */
	uint64_t cut_flood;	 /* connections shut down: past the byte budget */
	uint64_t cut_rogue;	 /* from a banned address */
	uint64_t cut_stall;	 /* all of them, the loop stuck in ZeroMQ */
	struct zmq_guard_peer peers[ZMQ_GUARD_MAX_PEERS]; /* the thread's own */
	int n_peers;
	uint64_t warned_ns; /* the last flood said */
};

/* Watches @sock (an XPUB of @ctx, not yet bound); 0 or -errno (a message is the caller's). */
int zmq_guard_start(struct zmq_guard *g, void *ctx, void *sock);
/* Around each call into the socket: the stall clock. */
void zmq_guard_enter(struct zmq_guard *g);
void zmq_guard_leave(struct zmq_guard *g);
/* Cuts off every connection from @addr ("": every one) now and for ZMQ_GUARD_BAN_S. */
void zmq_guard_ban(struct zmq_guard *g, const char *addr);
/* Connections cut off so far, every reason. */
uint64_t zmq_guard_cut(struct zmq_guard *g);
/* Stops the thread (before the socket closes). */
void zmq_guard_stop(struct zmq_guard *g, void *sock);

#endif /* NFXDP_EXPORT_ZMQ_GUARD_H */
