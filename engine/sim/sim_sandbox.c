/* sim_sandbox.c: Amazon's static sandbox cases for the operations the engine uses
 * (shared/spapi/sandbox-cases.md). A case matches when the request carries the listed
 * parameters with the listed values; the simulator then answers with the case's status
 * and a body with the same identifying facts (our own fixture text, written from the
 * summaries, not copied from the models). Anything else falls through to the stateful
 * handlers. */
#include <stdio.h>
#include <string.h>
#include "sim/sim_int.h"

static int argis(sim_req *rq, const char *k, const char *v) {
    const char *a = sim_arg(rq, k);
    return a && !strcmp(a, v);
}

static const char *ordersm_incl = "BUYER,RECIPIENT,PROCEEDS,EXPENSE,PROMOTION,CANCELLATION,FULFILLMENT,PACKAGES";

int sim_sandbox(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *op, const char *id) {
    const char *body = rq->body.data ? rq->body.data : "";
    if (!strcmp(op, "searchOrders")) {
        if (argis(rq, "createdAfter", "TEST_CASE_400")) {
            sim_error(rs, 400, "InvalidInput", "Invalid Input", "Invalid Input");
            return 1;
        }
        if (argis(rq, "createdAfter", "2024-12-25T00:00:00Z") && argis(rq, "marketplaceIds", "A1VC38T7YXB528") &&
            argis(rq, "includedData", ordersm_incl) && !sim_arg(rq, "paginationToken")) {
            sim_json(rs, 200,
                "{\"orders\":[{\"orderId\":\"250-1234567-8901234\",\"createdTime\":\"2024-12-25T02:30:00Z\","
                "\"lastUpdatedTime\":\"2024-12-25T06:45:00Z\",\"programs\":[\"PRIME\"],"
                "\"salesChannel\":{\"channelName\":\"AMAZON\",\"marketplaceId\":\"A1VC38T7YXB528\",\"marketplaceName\":\"Amazon.co.jp\"},"
                "\"proceeds\":{\"grandTotal\":{\"amount\":\"19940\",\"currencyCode\":\"JPY\"}},"
                "\"fulfillment\":{\"fulfillmentStatus\":\"SHIPPED\",\"fulfilledBy\":\"AMAZON\"},"
                "\"orderItems\":[{\"orderItemId\":\"1\",\"quantityOrdered\":1,\"product\":{\"sellerSku\":\"ECHO-DOT-4-JP-CHARCOAL\"}},"
                "{\"orderItemId\":\"2\",\"quantityOrdered\":2,\"product\":{\"sellerSku\":\"FIRE-TV-4K-MAX-JP\"}}]}],"
                "\"pagination\":{\"nextToken\":\"2YgYW55IGNhcm5hbCBwbGVhc3VyZS4\"},\"createdBefore\":\"2024-12-25T03:00:00Z\"}");
            return 1;
        }
        if (argis(rq, "createdAfter", "2024-12-23T00:00:00Z") && argis(rq, "marketplaceIds", "A1F83G8C2ARO7P") &&
            argis(rq, "paginationToken", "9ZhB4RmVyc2lvbiAxLjAgb2YgdGhl")) {
            sim_json(rs, 200,
                "{\"orders\":[{\"orderId\":\"202-7654321-1098765\",\"createdTime\":\"2024-12-24T14:20:00Z\","
                "\"lastUpdatedTime\":\"2024-12-24T18:45:00Z\",\"programs\":[\"PRIME\"],"
                "\"salesChannel\":{\"channelName\":\"AMAZON\",\"marketplaceId\":\"A1F83G8C2ARO7P\",\"marketplaceName\":\"Amazon.co.uk\"},"
                "\"proceeds\":{\"grandTotal\":{\"amount\":\"34.99\",\"currencyCode\":\"GBP\"}},"
                "\"fulfillment\":{\"fulfillmentStatus\":\"SHIPPED\",\"fulfilledBy\":\"MERCHANT\"},"
                "\"packages\":[{\"packageReferenceId\":\"UK-PKG-CONSUMER-2024-002\",\"carrier\":\"DPD\","
                "\"trackingNumber\":\"15501234567890123456\"}],"
                "\"orderItems\":[{\"orderItemId\":\"1\",\"quantityOrdered\":1,\"product\":{\"sellerSku\":\"UK-SKU-1\"}}]}]}");
            return 1;
        }
    }
    if (!strcmp(op, "searchOrders") && argis(rq, "createdAfter", "2024-12-20T00:00:00Z") &&
        argis(rq, "marketplaceIds", "A2Q3Y263D00KWC") && argis(rq, "includedData", "BUYER,RECIPIENT,PROCEEDS,FULFILLMENT,TAX,PAYMENT")) {
        sim_json(rs, 200,
            "{\"orders\":[{\"orderId\":\"171-2345678-9012345\",\"createdTime\":\"2024-12-22T15:30:00Z\","
            "\"lastUpdatedTime\":\"2024-12-23T10:00:00Z\",\"programs\":[\"AMAZON_BUSINESS\",\"DELIVERY_BY_AMAZON\"],"
            "\"salesChannel\":{\"channelName\":\"AMAZON\",\"marketplaceId\":\"A2Q3Y263D00KWC\",\"marketplaceName\":\"Amazon.com.br\"},"
            "\"buyer\":{\"buyerName\":\"Carlos Oliveira\",\"buyerCompanyName\":\"Oliveira Comercio Ltda\"},"
            "\"proceeds\":{\"grandTotal\":{\"amount\":\"1599.90\",\"currencyCode\":\"BRL\"}},"
            "\"tax\":{\"taxRegistrations\":[{\"type\":\"CNPJ\",\"number\":\"12.345.678/0001-90\"}]},"
            "\"fulfillment\":{\"fulfillmentStatus\":\"UNSHIPPED\",\"fulfilledBy\":\"MERCHANT\"},"
            "\"orderItems\":[{\"orderItemId\":\"1\",\"quantityOrdered\":10,\"product\":{\"sellerSku\":\"BR-OFFICE-CHAIR\"}}]}]}");
        return 1;
    }
    if (!strcmp(op, "getOrder")) {
        /* the three static orders: a BR Prime order, a TR shipped one, a US in-store pickup */
        static const struct { const char *id, *mp, *status, *programs, *sku; } orders[] = {
            {"171-9876543-2109876", "A2Q3Y263D00KWC", "UNSHIPPED", "\"PRIME\"", "BR-PHONE-CASE"},
            {"028-1234567-8901234", "A33AVAJ2PDY3EV", "SHIPPED", "", "TR-TEA-GLASS-SET"},
            {"114-9876543-1234567", "ATVPDKIKX0DER", "UNSHIPPED", "\"IN_STORE_PICK_UP\"", "US-STORE-ITEM"},
        };
        for (size_t i = 0; i < sizeof orders / sizeof *orders; i++) {
            if (strcmp(id, orders[i].id)) continue;
            char json[1024];
            snprintf(json, sizeof json,
                     "{\"order\":{\"orderId\":\"%s\",\"createdTime\":\"2025-03-10T14:00:00Z\","
                     "\"lastUpdatedTime\":\"2025-03-10T14:30:00Z\",\"programs\":[%s],"
                     "\"salesChannel\":{\"channelName\":\"AMAZON\",\"marketplaceId\":\"%s\"},"
                     "\"fulfillment\":{\"fulfillmentStatus\":\"%s\",\"fulfilledBy\":\"MERCHANT\"},"
                     "\"orderItems\":[{\"orderItemId\":\"1\",\"quantityOrdered\":1,\"product\":{\"sellerSku\":\"%s\"}}]}}",
                     orders[i].id, orders[i].programs, orders[i].mp, orders[i].status, orders[i].sku);
            sim_json(rs, 200, json);
            return 1;
        }
    }
    if ((!strcmp(op, "getFeedDocument") || !strcmp(op, "getReportDocument")) &&
        !strcmp(id, "0356cf79-b8b0-4226-b4b9-0ee058ea5760")) {
        /* the sandbox's document records point at a CDN this machine cannot reach */
        if (!strcmp(op, "getFeedDocument"))
            sim_json(rs, 200, "{\"feedDocumentId\":\"0356cf79-b8b0-4226-b4b9-0ee058ea5760\","
                              "\"url\":\"https://d34o8swod1owfl.cloudfront.net/Feed_101__POST_PRODUCT_DATA_.xml\"}");
        else
            sim_json(rs, 200, "{\"reportDocumentId\":\"0356cf79-b8b0-4226-b4b9-0ee058ea5760\","
                              "\"url\":\"https://d34o8swod1owfl.cloudfront.net/Report_47700__GET_MERCHANT_LISTINGS_ALL_DATA_.txt\"}");
        return 1;
    }
    if (!strcmp(op, "searchListingsItems")) {
        if (argis(rq, "marketplaceIds", "invalid")) {
            sim_error(rs, 400, "BAD_REQUEST", "Invalid input", "Invalid input");
            return 1;
        }
        if (argis(rq, "identifiersType", "SKU") && argis(rq, "identifiers", "GM-ZDPI-9B4E,HW-ZDPI-9B4E,TC-ZDPI-9B4E") &&
            argis(rq, "pageSize", "1")) {
            sim_json(rs, 200, "{\"numberOfResults\":3,\"pagination\":{\"nextToken\":\"xsdflkj324lkjsdlkj3423klkjsdfkljlk2j3klj4\","
                              "\"previousToken\":\"ilkjsdflkj234lkjds0f9sdlkj234lkjsdf\"},\"items\":[{\"sku\":\"GM-ZDPI-9B4E\","
                              "\"summaries\":[{\"marketplaceId\":\"ATVPDKIKX0DER\",\"asin\":\"B071VG5N9D\",\"productType\":\"LUGGAGE\","
                              "\"status\":[\"BUYABLE\"],\"itemName\":\"Hardside Carry-On Spinner Suitcase Luggage\"}],"
                              "\"fulfillmentAvailability\":[{\"fulfillmentChannelCode\":\"DEFAULT\",\"quantity\":100}]}]}");
            return 1;
        }
    }
    if (!strcmp(op, "getListingsItem")) {
        const char *sku = strrchr(rq->path, '/');
        if (sku && !strcmp(sku + 1, "BadSKU")) {
            sim_error(rs, 400, "BAD_REQUEST", "Invalid input", "Invalid input");
            return 1;
        }
    }
    if (!strcmp(op, "getOrder") && !strcmp(id, "TEST_CASE_400")) {
        sim_error(rs, 400, "InvalidInput", "Invalid Input", NULL);
        return 1;
    }
    if (!strcmp(op, "confirmShipment") && !strcmp(id, "902-1106328-1059050")) {
        if (strstr(body, "\"shipDate\":\"02/21/2022\"")) sim_error(rs, 400, "Invalid Input", "Invalid Input", NULL);
        else { rs->status = 204; sb_buf_reset(&rs->body); }
        return 1;
    }
    if (!strcmp(op, "createFeedDocument") && (!strcmp(body, "{}") || !rq->body.len)) {
        sim_error(rs, 400, "400", "Invalid input", "Invalid input");
        return 1;
    }
    if (!strcmp(op, "createFeed") && strstr(body, "\"inputFeedDocumentId\":\"3d4e42b5-1d6e-44e8-a89c-2abfca0625bb\"")) {
        sim_json(rs, 202, "{\"feedId\":\"3485934\"}");
        return 1;
    }
    if (!strcmp(op, "createFeed") && strstr(body, "badDocumentId")) {
        sim_error(rs, 400, "400", "Invalid input", "Invalid input");
        return 1;
    }
    if (!strcmp(op, "getFeed") && !strcmp(id, "feedId1")) {
        sim_json(rs, 200, "{\"feedId\":\"FeedId1\",\"feedType\":\"POST_PRODUCT_DATA\",\"createdTime\":\"2024-03-11T13:16:24.630Z\","
                          "\"processingStatus\":\"CANCELLED\",\"processingStartTime\":\"2024-03-11T13:16:24.630Z\","
                          "\"processingEndTime\":\"2024-03-11T13:16:24.630Z\"}");
        return 1;
    }
    if ((!strcmp(op, "getFeed") && !strcmp(id, "badFeedId1")) ||
        (!strcmp(op, "getFeedDocument") && !strcmp(id, "badDocumentId1")) ||
        (!strcmp(op, "getReport") && !strcmp(id, "badReportId1")) ||
        (!strcmp(op, "getReportDocument") && !strcmp(id, "badDocumentId1")) ||
        (!strcmp(op, "createReport") && strstr(body, "\"BAD_FEE_DISCOUNTS_REPORT\""))) {
        sim_error(rs, 400, "400", "Invalid input", "Invalid input");
        return 1;
    }
    if (!strcmp(op, "createReport") && strstr(body, "\"GET_MERCHANT_LISTINGS_ALL_DATA\"") &&
        strstr(body, "\"2024-03-10T20:11:24.000Z\"")) {
        sim_json(rs, 202, "{\"reportId\":\"ID323\"}");
        return 1;
    }
    if (!strcmp(op, "getReport") && !strcmp(id, "ID323")) {
        sim_json(rs, 200, "{\"reportId\":\"ReportId1\",\"reportType\":\"FEE_DISCOUNTS_REPORT\","
                          "\"dataStartTime\":\"2024-03-11T13:47:20.677Z\",\"dataEndTime\":\"2024-03-12T13:47:20.677Z\","
                          "\"createdTime\":\"2024-03-10T13:47:20.677Z\",\"processingStatus\":\"IN_PROGRESS\"}");
        return 1;
    }
    if (!strcmp(op, "patchListingsItem")) {
        const char *sku = strrchr(rq->path, '/');
        sku = sku ? sku + 1 : "";
        if (!strcmp(sku, "BadSKU")) {
            sim_error(rs, 400, "BAD_REQUEST", "Invalid input", "Invalid input");
            return 1;
        }
        if (argis(rq, "mode", "VALIDATION_PREVIEW") && !strcmp(sku, "VALIDATION_VALID")) {
            sim_json(rs, 200, "{\"sku\":\"VALIDATION_VALID\",\"status\":\"VALID\",\"submissionId\":\"f1dc2914-75dd-11ea-bc55-0242ac130003\","
                              "\"issues\":[],\"identifiers\":[{\"marketplaceId\":\"ATVPDKIKX0DER\",\"asin\":\"B07N4M94X4\"}]}");
            return 1;
        }
        if (argis(rq, "mode", "VALIDATION_PREVIEW") && !strcmp(sku, "VALIDATION_INVALID")) {
            sim_json(rs, 200, "{\"sku\":\"VALIDATION_INVALID\",\"status\":\"INVALID\",\"submissionId\":\"f1dc2914-75dd-11ea-bc55-0242ac130003\","
                              "\"issues\":[{\"code\":\"90000900\",\"message\":\"The attributes are invalid.\",\"severity\":\"ERROR\","
                              "\"attributeNames\":[\"fake_attribute\"],\"categories\":[\"INVALID_ATTRIBUTE\"]}]}");
            return 1;
        }
    }
    (void)sim;
    return 0;
}
