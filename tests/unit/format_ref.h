/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The formatting before the fast formatter: the differential test's oracle (format_ref.c). */
#ifndef NFXDP_TEST_FORMAT_REF_H
#define NFXDP_TEST_FORMAT_REF_H

#include <stdio.h>

#include "record/format.h"

void ref_csv_row(FILE *out, const struct format_columns *cols, const Nfxdp__Flow *f);
void ref_json(FILE *out, const struct format_columns *cols, const Nfxdp__Flow *f);

#endif /* NFXDP_TEST_FORMAT_REF_H */
