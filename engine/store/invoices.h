/* store/invoices.h: the invoice numbers a batch gives (orders.invoice_mode = batch; the
 * integration's next_invoice_no counts them, INV-000001 on). */
#ifndef SB_STORE_INVOICES_H
#define SB_STORE_INVOICES_H
#include <stddef.h>
#include <stdint.h>
#include "store/store.h"

/* Numbers and dates (date) the uninvoiced Amazon orders of integ not cancelled, held for
 * a rule error or rejected, made until `until` (a time as stored, NULL: any) and paid by
 * payment (NULL: any), oldest first, in one transaction: all or none. *n is how many;
 * first and last (n bytes each) the first and last number given ("" when none). */
int sb_store_invoices_number(sb_store *s, int64_t integ, const char *until, const char *payment, const char *date,
                             long *n, char *first, char *last, size_t len, char *err);

#endif
