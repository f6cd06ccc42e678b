// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "common/log.h"
#include "export/curve.h"

static int write_key_file(const char *path, mode_t mode, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	size_t len = strlen(text);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len || close(fd)) {
		pr_warn("Couldn't write %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return 0;
}

int curve_keygen(const char *path)
{
	char pub[CURVE_KEY_LEN + 1], sec[CURVE_KEY_LEN + 1], text[128], pub_path[4096];

	if (!zmq_has("curve")) {
		pr_warn("This libzmq was built without CURVE\n");
		return -1;
	}
	if (zmq_curve_keypair(pub, sec)) {
		pr_warn("Couldn't make a CURVE key pair: %s\n", zmq_strerror(errno));
		return -1;
	}
	snprintf(pub_path, sizeof(pub_path), "%s.pub", path);
	snprintf(text, sizeof(text), "public %s\nsecret %s\n", pub, sec);
	if (write_key_file(path, 0600, text))
		return -1;
	snprintf(text, sizeof(text), "%s\n", pub);
	if (write_key_file(pub_path, 0644, text))
		return -1;
	printf("wrote %s (secret, for nfxdp --zmq-curve) and %s (public, for nfxdp-cat "
	       "--curve-server-key): %s\n", path, pub_path, pub);
	return 0;
}

/* A key file is two short lines: reading stops here (/dev/zero never ends). */
#define KEY_FILE_MAX 4096

/* @path opened for reading if it is a regular file; NULL after a message. */
static FILE *open_key_file(const char *path)
{
	struct stat st;
	FILE *f = fopen(path, "r");

	if (!f) {
		pr_warn("Couldn't read CURVE key file %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		pr_warn("Couldn't read CURVE key file %s: not a regular file (make one with "
			"nfxdp --curve-keygen FILE)\n", path);
		fclose(f);
		return NULL;
	}
	return f;
}

/* The key after @label in @path ("public X" / "secret X"), or a bare key file. */
static int read_key(const char *path, const char *label, char key[CURVE_KEY_LEN + 1])
{
	char line[256], word[64], val[128];
	FILE *f = open_key_file(path);

	if (!f)
		return -1;
	while (ftell(f) < KEY_FILE_MAX && fgets(line, sizeof(line), f)) {
		int n = sscanf(line, "%63s %127s", word, val);
		const char *k = n == 2 && !strcmp(word, label) ? val :
				n == 1 && !strcmp(label, "public") ? word : NULL;

		if (k && strlen(k) == CURVE_KEY_LEN) {
			memcpy(key, k, CURVE_KEY_LEN + 1);
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	pr_warn("%s holds no %s CURVE key (%d characters of Z85; make one with "
		"nfxdp --curve-keygen FILE)\n", path, label, CURVE_KEY_LEN);
	return -1;
}

static int set_key(void *sock, int opt, const char *key)
{
	if (!zmq_setsockopt(sock, opt, key, CURVE_KEY_LEN))
		return 0;
	pr_warn("Couldn't set a CURVE key: %s\n", zmq_strerror(errno));
	return -1;
}

int curve_server(void *sock, const char *path)
{
	char sec[CURVE_KEY_LEN + 1];
	int one = 1;

	if (!zmq_has("curve")) {
		pr_warn("This libzmq was built without CURVE\n");
		return -1;
	}
	if (read_key(path, "secret", sec))
		return -1;
	if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof(one))) {
		pr_warn("Couldn't make the socket a CURVE server: %s\n", zmq_strerror(errno));
		return -1;
	}
	return set_key(sock, ZMQ_CURVE_SECRETKEY, sec);
}

int curve_client(void *sock, const char *key_or_path)
{
	char server[CURVE_KEY_LEN + 1], pub[CURVE_KEY_LEN + 1], sec[CURVE_KEY_LEN + 1];

	if (strlen(key_or_path) == CURVE_KEY_LEN && access(key_or_path, F_OK))
		memcpy(server, key_or_path, CURVE_KEY_LEN + 1);
	else if (read_key(key_or_path, "public", server))
		return -1;
	if (zmq_curve_keypair(pub, sec)) {
		pr_warn("Couldn't make a CURVE key pair: %s\n", zmq_strerror(errno));
		return -1;
	}
	if (set_key(sock, ZMQ_CURVE_SERVERKEY, server) || set_key(sock, ZMQ_CURVE_PUBLICKEY, pub) ||
	    set_key(sock, ZMQ_CURVE_SECRETKEY, sec))
		return -1;
	return 0;
}
