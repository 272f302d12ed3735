/* aliases.c: the SKU alias table (see aliases.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/util.h"
#include "store/aliases.h"
#include "store/store_int.h"

static int check_sku(const char *sku, char *err) {
    if (!sku || !*sku) return sb_seterr(err, SB_EINVAL, "channel SKU is empty");
    size_t n = strlen(sku);
    if (n > SB_ALIAS_SKU_MAX)
        return sb_seterr(err, SB_EINVAL, "channel SKU '%.40s...' is %zu characters long; at most %d", sku, n, SB_ALIAS_SKU_MAX);
    for (const unsigned char *p = (const unsigned char *)sku; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return sb_seterr(err, SB_EINVAL, "channel SKU has a control character at position %d",
                                                      (int)(p - (const unsigned char *)sku) + 1);
    if (sku[0] == ' ' || sku[n - 1] == ' ')
        return sb_seterr(err, SB_EINVAL, "channel SKU '%s' begins or ends with a space", sku);
    return 0;
}

/* Orders of any integration with a line of sku that no product is linked to. */
static long waiting_on(sb_store *s, const char *sku) {
    sqlite3_stmt *st;
    long n = 0;
    if (sb_store_prepare(s, "SELECT COUNT(DISTINCT o.integration_id || ' ' || o.order_ref) FROM sales_order_lines l "
                            "JOIN sales_orders o ON o.id = l.order_id WHERE l.sku = ?1 AND l.product_id IS NULL "
                            "AND l.stock_bearing = 1 AND o.stage IN ('needs_attention','open')", &st, NULL)) return 0;
    sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* The product whose own SKU is sku (0: none). */
static int64_t product_by_sku(sb_store *s, const char *sku) {
    sqlite3_stmt *st;
    int64_t id = 0;
    if (sb_store_prepare(s, "SELECT id FROM products WHERE sku = ?1", &st, NULL)) return 0;
    sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return id;
}

int sb_store_alias_set(sb_store *s, const char *channel_sku, const char *product_sku, sb_alias_change *out, char *err) {
    sqlite3_stmt *st = NULL;
    sb_alias_change ch;
    memset(&ch, 0, sizeof ch);
    int rc = check_sku(channel_sku, err);
    if (rc) return rc;
    if (!product_sku || !*product_sku) return sb_seterr(err, SB_EINVAL, "product SKU is empty");
    if ((rc = sb_store_begin(s, err))) return rc;
    int64_t pid = product_by_sku(s, product_sku);
    if (!pid) {
        rc = sb_seterr(err, SB_ENOTFOUND, "no product has SKU '%s' (import it first: sellerbridge import products FILE)",
                       product_sku);
        goto out;
    }
    if (product_by_sku(s, channel_sku)) {
        rc = sb_seterr(err, SB_EINVAL, "'%s' is a product's own SKU: orders of it link to that product without an alias",
                       channel_sku);
        goto out;
    }
    if ((rc = sb_store_prepare(s, "SELECT p.sku FROM sku_aliases a JOIN products p ON p.id = a.product_id "
                                  "WHERE a.channel_sku = ?1 AND a.product_id <> ?2", &st, err))) goto out;
    sqlite3_bind_text(st, 1, channel_sku, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, pid);
    if (sqlite3_step(st) == SQLITE_ROW) {
        rc = sb_seterr(err, SB_EINVAL, "channel SKU '%s' is linked to product '%s' already; remove that alias first "
                       "(sellerbridge products alias %s --remove)", channel_sku, sqlite3_column_text(st, 0), channel_sku);
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;
    if ((rc = sb_store_prepare(s, "INSERT INTO sku_aliases(channel_sku, product_id) VALUES (?1, ?2) "
                                  "ON CONFLICT(channel_sku) DO NOTHING", &st, err))) goto out;
    sqlite3_bind_text(st, 1, channel_sku, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, pid);
    if (sqlite3_step(st) != SQLITE_DONE) { rc = sb_store_error(s, "storing the alias", err); goto out; }
    sqlite3_finalize(st);
    st = NULL;
    /* the listing's SKU of the product may have changed: the next stock upload looks */
    if ((rc = sb_store_prepare(s, "INSERT OR IGNORE INTO stock_dirty(integration_id, sku) SELECT id, ?1 FROM integrations", &st, err))) goto out;
    sqlite3_bind_text(st, 1, channel_sku, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) { rc = sb_store_error(s, "marking the SKU for the stock upload", err); goto out; }
    snprintf(ch.product_sku, sizeof ch.product_sku, "%s", product_sku);
    ch.waiting = waiting_on(s, channel_sku);
out:
    sqlite3_finalize(st);
    if (!rc) rc = sb_store_commit(s, err);
    else sb_store_rollback(s);
    if (!rc && out) *out = ch;
    return rc;
}

int sb_store_alias_remove(sb_store *s, const char *channel_sku, sb_alias_change *out, char *err) {
    sqlite3_stmt *st = NULL;
    sb_alias_change ch;
    memset(&ch, 0, sizeof ch);
    int rc = check_sku(channel_sku, err);
    if (rc) return rc;
    if ((rc = sb_store_prepare(s, "DELETE FROM sku_aliases WHERE channel_sku = ?1 "
                                  "RETURNING (SELECT sku FROM products WHERE id = product_id)", &st, err))) return rc;
    sqlite3_bind_text(st, 1, channel_sku, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) snprintf(ch.product_sku, sizeof ch.product_sku, "%s", sqlite3_column_text(st, 0));
    else if (r == SQLITE_DONE) rc = sb_seterr(err, SB_ENOTFOUND, "channel SKU '%s' is not an alias", channel_sku);
    else rc = sb_store_error(s, "removing the alias", err);
    if (r == SQLITE_ROW && sqlite3_step(st) != SQLITE_DONE) rc = sb_store_error(s, "removing the alias", err);
    sqlite3_finalize(st);
    if (!rc && out) *out = ch;
    return rc;
}

int sb_store_sku_product(sb_store *s, const char *channel_sku, int64_t *id, char *err) {
    sqlite3_stmt *st;
    *id = 0;
    int rc = sb_store_prepare(s, "SELECT " SB_STORE_SKU_PRODUCT("?1"), &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, channel_sku, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return *id ? 0 : sb_seterr(err, SB_ENOTFOUND, "no product has SKU '%s' and it is not an alias", channel_sku);
}

/* Column i as text into out (n bytes); 1 when it was not NULL. */
static int col(sqlite3_stmt *st, int i, char *out, size_t n) {
    const char *v = (const char *)sqlite3_column_text(st, i);
    snprintf(out, n, "%s", v ? v : "");
    return v != NULL;
}

/* Runs count (bound, LIMIT offset + cap) into *total, then rows (bound) calling take for
 * each row into a growing array of size-byte elements, at most limit of them. */
static int page(sb_store *s, sqlite3_stmt *count, sqlite3_stmt *rows, long limit, size_t size,
                void (*take)(sqlite3_stmt *, void *), void **out, int *n, long *total, const char *what, char *err) {
    *out = NULL;
    *n = 0;
    *total = 0;
    if (sqlite3_step(count) != SQLITE_ROW) return sb_store_error(s, what, err);
    *total = sqlite3_column_int64(count, 0);
    if (limit < 1 || limit > 100000) return sb_seterr(err, SB_EINVAL, "%s: limit %ld is out of range", what, limit);
    char *arr = calloc((size_t)limit, size);
    if (!arr) return sb_seterr(err, SB_ENOMEM, "%s: out of memory", what);
    int r = SQLITE_DONE;
    while (*n < limit && (r = sqlite3_step(rows)) == SQLITE_ROW) take(rows, arr + (size_t)(*n)++ * size);
    if (*n < limit && r != SQLITE_DONE) { free(arr); *n = 0; return sb_store_error(s, what, err); }
    *out = arr;
    return 0;
}

static void take_alias(sqlite3_stmt *st, void *p) {
    sb_alias_row *a = p;
    col(st, 0, a->sku, sizeof a->sku);
    col(st, 1, a->product, sizeof a->product);
    a->has_name = col(st, 2, a->name, sizeof a->name);
    col(st, 3, a->linked_at, sizeof a->linked_at);
    a->waiting = sqlite3_column_int64(st, 4);
}

int sb_store_aliases(sb_store *s, int64_t integ, long limit, long offset, long cap, sb_alias_row **rows, int *n,
                     long *total, char *err) {
    sqlite3_stmt *c = NULL, *st = NULL;
    int rc = sb_store_prepare(s, "SELECT COUNT(*) FROM (SELECT 1 FROM sku_aliases LIMIT ?1)", &c, err);
    if (!rc) rc = sb_store_prepare(s, "SELECT a.channel_sku, p.sku, p.name, a.created_at, "
                                      "(SELECT COUNT(DISTINCT o.order_ref) FROM sales_order_lines l JOIN sales_orders o "
                                      "ON o.id = l.order_id WHERE l.sku = a.channel_sku AND o.integration_id = ?1 "
                                      "AND l.product_id IS NULL AND l.stock_bearing = 1 "
                                      "AND o.stage IN ('needs_attention','open')) "
                                      "FROM sku_aliases a JOIN products p ON p.id = a.product_id "
                                      "ORDER BY a.channel_sku LIMIT ?2 OFFSET ?3", &st, err);
    if (!rc) {
        sqlite3_bind_int64(c, 1, offset + cap);
        sqlite3_bind_int64(st, 1, integ);
        sqlite3_bind_int64(st, 2, limit);
        sqlite3_bind_int64(st, 3, offset);
        void *out;
        rc = page(s, c, st, limit, sizeof **rows, take_alias, &out, n, total, "aliases", err);
        *rows = out;
    }
    sqlite3_finalize(c);
    sqlite3_finalize(st);
    return rc;
}

static void take_product(sqlite3_stmt *st, void *p) {
    sb_product_row *r = p;
    col(st, 0, r->sku, sizeof r->sku);
    r->has_name = col(st, 1, r->name, sizeof r->name);
    r->has_asin = col(st, 2, r->asin, sizeof r->asin);
    col(st, 3, r->type, sizeof r->type);
    r->has_aliases = col(st, 4, r->aliases, sizeof r->aliases);
}

/* ?1: the search as a LIKE pattern, or NULL */
#define PRODUCTS_WHERE "WHERE (?1 IS NULL OR p.sku LIKE ?1 ESCAPE '\\' OR COALESCE(p.name, '') LIKE ?1 ESCAPE '\\' " \
    "OR EXISTS (SELECT 1 FROM sku_aliases a WHERE a.product_id = p.id AND a.channel_sku LIKE ?1 ESCAPE '\\')) "

int sb_store_products(sb_store *s, const char *search, long limit, long offset, long cap, sb_product_row **rows,
                      int *n, long *total, char *err) {
    sqlite3_stmt *c = NULL, *st = NULL;
    char like[420];
    *rows = NULL;
    *n = 0;
    if (search && strlen(search) > 200) return sb_seterr(err, SB_EINVAL, "search: longer than 200 characters");
    if (search) sb_store_like(search, 200, like);
    int rc = sb_store_prepare(s, "SELECT COUNT(*) FROM (SELECT 1 FROM products p " PRODUCTS_WHERE "LIMIT ?2)", &c, err);
    if (!rc) rc = sb_store_prepare(s, "SELECT p.sku, p.name, p.asin, p.order_type, "
                                      "(SELECT group_concat(channel_sku, ', ') FROM (SELECT channel_sku FROM sku_aliases a "
                                      "WHERE a.product_id = p.id ORDER BY channel_sku)) "
                                      "FROM products p " PRODUCTS_WHERE "ORDER BY p.sku LIMIT ?2 OFFSET ?3", &st, err);
    if (!rc) {
        if (search) {
            sqlite3_bind_text(c, 1, like, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 1, like, -1, SQLITE_STATIC);
        }
        sqlite3_bind_int64(c, 2, offset + cap);
        sqlite3_bind_int64(st, 2, limit);
        sqlite3_bind_int64(st, 3, offset);
        void *out;
        rc = page(s, c, st, limit, sizeof **rows, take_product, &out, n, total, "products", err);
        *rows = out;
    }
    sqlite3_finalize(c);
    sqlite3_finalize(st);
    return rc;
}
