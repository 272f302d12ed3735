/* fuzz_feed_report.c: the listings feed processing report parser
 * (sb_stock_apply_report). The input is the report JSON, applied to a slice of 5 SKUs
 * starting at item 2 of a plan of 8, so messageIds outside the slice are exercised too.
 * Checks that every item of the slice ends accepted or failed with a message and that
 * the items outside it are untouched. */
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "sync/stock.h"

#define NITEMS 8
#define FROM 2
#define SLICE 5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sb_stock_item items[NITEMS];
    sb_stock_plan plan;
    memset(items, 0, sizeof items);
    memset(&plan, 0, sizeof plan);
    plan.items = items;
    plan.n = plan.cap = NITEMS;
    items[FROM + 1].outcome = 1;          /* already sent by patch: must stay so */
    sb_stock_apply_report(&plan, FROM, SLICE, "50001", (const char *)data, size);
    for (int i = 0; i < NITEMS; i++) {
        int in = i >= FROM && i < FROM + SLICE;
        if (!in && (items[i].outcome || items[i].error)) abort();
        if (in && items[i].outcome != 1 && !(items[i].outcome == -1 && items[i].error)) abort();
        free(items[i].error);
    }
    return 0;
}
