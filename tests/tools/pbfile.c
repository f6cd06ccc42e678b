// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record/batch.h"
#include "common/log.h"
#include "pbfile.h"

uint8_t *pbfile_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) ||
	    !(buf = malloc(n + 1)) || fread(buf, 1, n, f) != (size_t)n) {
		pr_warn("Couldn't read %s: %s\n", path, strerror(errno ? errno : EIO));
		free(buf);
		buf = NULL;
	}
	*len = buf ? n : 0;
	if (f)
		fclose(f);
	return buf;
}

int pbfile_next(const uint8_t **p, size_t *len, const uint8_t **rec, uint64_t *n)
{
	size_t used;

	if (!*len)
		return 0;
	used = varint_decode(*p, *len, n);
	if (!used || *n > *len - used)
		return -1;
	*rec = *p + used;
	*p += used + *n;
	*len -= used + *n;
	return 1;
}
