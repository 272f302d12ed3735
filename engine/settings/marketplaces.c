/* marketplaces.c: the marketplace-to-region table and the check of a list against a
 * region (see marketplaces.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/util.h"
#include "settings/marketplaces.h"
#include "settings/settings.h"

static const struct { const char *id, *country, *region; } mkt_regions[] = {
    {"ATVPDKIKX0DER", "US", "na"}, {"A2EUQ1WTGCTBG2", "CA", "na"}, {"A1AM78C64UM0Y8", "MX", "na"},
    {"A2Q3Y263D00KWC", "BR", "na"}, {"A1F83G8C2ARO7P", "UK", "eu"}, {"A1PA6795UKMFR9", "DE", "eu"},
    {"A13V1IB3VIYZZH", "FR", "eu"}, {"APJ6JRA9NG5V4", "IT", "eu"}, {"A1RKKUPIHCS9HS", "ES", "eu"},
    {"A1805IZSGTT6HS", "NL", "eu"}, {"A2NODRKZP88ZB9", "SE", "eu"}, {"A1C3SOZRARQ6R3", "PL", "eu"},
    {"AMEN7PMS3EDWL", "BE", "eu"}, {"A28R8C7NBKEWEA", "IE", "eu"}, {"A33AVAJ2PDY3EV", "TR", "eu"},
    {"A2VIGQ35RCS4UG", "AE", "eu"}, {"A17E79C6D8DWNP", "SA", "eu"}, {"ARBP9OOSHTCHU", "EG", "eu"},
    {"AE08WJ6YKNBMC", "ZA", "eu"}, {"A21TJRUUN4KGV", "IN", "eu"}, {"A1VC38T7YXB528", "JP", "fe"},
    {"A39IBJ37TRP1C6", "AU", "fe"}, {"A19VAU5U5O7RUS", "SG", "fe"},
};
#define NMKT (sizeof mkt_regions / sizeof *mkt_regions)

const char *sb_marketplace_region(const char *id, const char **country) {
    for (size_t i = 0; i < NMKT; i++)
        if (!strcmp(mkt_regions[i].id, id)) {
            if (country) *country = mkt_regions[i].country;
            return mkt_regions[i].region;
        }
    return NULL;
}

int sb_marketplaces_region_check(const char *region, const char *mkts_json, const char *what, const char *whence,
                                 char *derived, size_t dlen, char *err) {
    char **l = sb_settings_list(mkts_json);
    int rc = 0;
    const char *first = NULL;
    for (int i = 0; l && l[i] && !rc; i++) {
        const char *country, *in = sb_marketplace_region(l[i], &country);
        if (!in) continue;                      /* the setting's own check refuses it */
        const char *want = region ? region : first;
        if (want && strcmp(in, want)) {
            char same[256] = "";
            size_t n = 0;
            for (size_t j = 0; j < NMKT && n < sizeof same; j++)
                if (!strcmp(mkt_regions[j].region, want))
                    n += (size_t)snprintf(same + n, sizeof same - n, "%s%s %s", n ? ", " : "", mkt_regions[j].country,
                                          mkt_regions[j].id);
            rc = sb_seterr(err, SB_EINVAL, "%s %s (%s) is in region %s, not %s%s; one integration has one region "
                           "(allowed with %s: %s); add another integration for the other region",
                           what, l[i], country, in, want, region ? whence : " (that of the first marketplace)", want, same);
        }
        if (!first) first = in;
    }
    if (!rc && derived) snprintf(derived, dlen, "%s", first ? first : "");
    sb_settings_list_free(l);
    return rc;
}

int sb_marketplaces_misfit(struct sb_store *s, int64_t integ, char *msg, size_t n) {
    char *region = NULL, *mkts = NULL, err[SB_ERRLEN];
    int misfit = 0;
    if (!sb_settings_get(s, integ, "integration.region", &region, NULL, NULL) &&
        !sb_settings_get(s, integ, "integration.marketplaces", &mkts, NULL, NULL) &&
        sb_marketplaces_region_check(region, mkts, "integration.marketplaces:", " (integration.region)", NULL, 0, err)) {
        snprintf(msg, n, "%s", err);
        misfit = 1;
    }
    free(region);
    free(mkts);
    return misfit;
}
