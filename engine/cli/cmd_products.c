/* cmd_products.c: `products list`, `products aliases` and `products alias`: the inventory's
 * products as the dashboard's picker shows them, and the SKU aliases that link a SKU of
 * Amazon's (a listing's seller SKU) to a product once. Linking releases every order kept
 * for that SKU: it is stored again as a download stores it (lines linked, stock
 * reserved, hooks run, hold released: sync/fix.h sb_orders_release_linked). */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "core/util.h"
#include "store/aliases.h"
#include "sync/fix.h"
#include "sync/orders.h"

static void draw_products(sb_json *j) {
    printf("%-24s %-12s %-34s %s\n", "SKU", "ASIN", "NAME", "AMAZON SKUS LINKED");
    int items = sb_json_get(j, SB_JSON_ROOT, "products");
    for (size_t i = 0; i < sb_json_len(j, items, NULL); i++) {
        int x = sb_json_at(j, items, i);
        printf("%-24s %-12s %-34.34s %s\n", sb_cli_cell(j, x, "sku"), sb_cli_cell(j, x, "asin"), sb_cli_cell(j, x, "name"),
               sb_cli_cell(j, x, "aliases"));
    }
    sb_cli_paging_footer(j, "products", "product");
}

static void draw_aliases(sb_json *j) {
    printf("%-24s %-24s %-20s %s\n", "AMAZON SKU", "PRODUCT", "LINKED AT", "ORDERS WAITING");
    int items = sb_json_get(j, SB_JSON_ROOT, "aliases");
    for (size_t i = 0; i < sb_json_len(j, items, NULL); i++) {
        int x = sb_json_at(j, items, i);
        printf("%-24s %-24s %-20s %s\n", sb_cli_cell(j, x, "sku"), sb_cli_cell(j, x, "product"),
               sb_cli_cell(j, x, "linked_at"), sb_cli_cell(j, x, "waiting"));
    }
    sb_cli_paging_footer(j, "aliases", "alias");
}

static const char *orders_word(long n) { return n == 1 ? "order" : "orders"; }

/* products alias SKU PRODUCT_SKU | products alias SKU --remove */
static int alias(sb_cli *cli, int argc, char **argv) {
    const char *sku = NULL, *product = NULL;
    int remove = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--remove")) remove = 1;
        else if (argv[i][0] == '-' && argv[i][1]) return sb_cli_usage_error(&sb_cmd_products, "unknown option '%s'", argv[i]);
        else if (!sku) sku = argv[i];
        else if (!product) product = argv[i];
        else return sb_cli_usage_error(&sb_cmd_products, "unexpected argument '%s'", argv[i]);
    }
    if (!sku) return sb_cli_usage_error(&sb_cmd_products, "alias needs the Amazon SKU and the product's SKU");
    if (remove && product) return sb_cli_usage_error(&sb_cmd_products, "alias SKU --remove takes no product");
    if (!remove && !product) return sb_cli_usage_error(&sb_cmd_products, "alias %s needs the product's SKU (or --remove)", sb_cli_text(sku));
    sb_store *s;
    if (sb_cli_open(cli, &s, NULL, NULL, 0)) return SB_EXIT_FAIL;
    char err[SB_ERRLEN];
    sb_alias_change ch;
    int rc;
    if (remove) {
        if ((rc = sb_store_alias_remove(s, sku, &ch, err))) { sb_store_close(s); return sb_cli_fail("products", rc, "%s", err); }
        if (sb_cli_json_mode) {
            printf("{\"sku\":");
            sb_cli_json_str(stdout, sku);
            printf(",\"product\":");
            sb_cli_json_str(stdout, ch.product_sku);
            printf(",\"removed\":true}\n");
        } else printf("Amazon SKU %s no longer linked to product %s (order lines linked through it stay linked)\n",
                      sb_cli_text(sku), sb_cli_text(ch.product_sku));
        sb_store_close(s);
        return SB_EXIT_OK;
    }
    if ((rc = sb_store_alias_set(s, sku, product, &ch, err))) { sb_store_close(s); return sb_cli_fail("products", rc, "%s", err); }
    sb_orders_retry_result r;
    rc = ch.waiting ? sb_orders_release_linked(s, cli->db_path, NULL, &r, err) : (memset(&r, 0, sizeof r), 0);
    sb_store_close(s);
    if (sb_cli_json_mode && !rc) {
        printf("{\"sku\":");
        sb_cli_json_str(stdout, sku);
        printf(",\"product\":");
        sb_cli_json_str(stdout, product);
        printf(",\"waiting\":%ld,\"tried\":%ld,\"released\":%ld,\"still_held\":%ld}\n", ch.waiting, r.tried, r.fixed, r.held);
        return SB_EXIT_OK;
    }
    if (!sb_cli_json_mode)
        printf("Amazon SKU %s linked to product %s; %ld %s waited on it\n", sb_cli_text(sku), sb_cli_text(product),
               ch.waiting, orders_word(ch.waiting));
    /* the alias is stored whatever the release does: a failure there is the follow-up's */
    if (rc) return sb_cli_fail("products", rc, "the alias is stored, but releasing its orders failed: %s "
                               "(run 'sellerbridge orders retry --all --reason unknown_sku')", err);
    if (ch.waiting) {
        printf("%ld %s stored again: lines linked, stock reserved, hooks run; %ld released\n", r.tried,
               orders_word(r.tried), r.fixed);
        sb_cli_still_held(&r);
    }
    return SB_EXIT_OK;
}

int sb_cli_products(sb_cli *cli, int argc, char **argv) {
    sb_view_args a = {0};
    if (!strcmp(argv[1], "alias")) return alias(cli, argc, argv);
    if (!strcmp(argv[1], "aliases")) {
        if (sb_cli_view_args(&sb_cmd_products, "aliases", argc, argv, 2, NULL, &a)) return SB_EXIT_USAGE;
        return sb_cli_view(cli, &sb_cmd_products, "aliases", NULL, &a, draw_aliases);
    }
    if (sb_cli_view_args(&sb_cmd_products, "products", argc, argv, 2, NULL, &a)) return SB_EXIT_USAGE;
    return sb_cli_view(cli, &sb_cmd_products, "products", NULL, &a, draw_products);
}
