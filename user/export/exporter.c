// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "export/exporter.h"

bool exporter_lost_any(struct exporter *x)
{
	struct exporter_stats st = { 0 };

	x->ops->stats(x, &st);
	return st.batches_dropped || st.records_dropped;
}

int exporter_put_stats(struct stat_item *items, int max, const struct stat_item *own, int n)
{
	int i;

	for (i = 0; i < n && i < max; i++)
		items[i] = own[i];
	return i;
}
