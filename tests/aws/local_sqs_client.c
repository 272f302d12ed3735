/* local_sqs_client.c: sb_sqs against a real third-party SQS implementation (the npm
 * package local-aws-sqs, started by local_sqs.sh): send, receive with a long poll,
 * delete, attributes, an empty long poll. Argument: the queue URL. Exit 0 when all pass.
 * local-aws-sqs checks no signatures; what it proves is the request's shape (JSON
 * protocol, exact Content-Type, QueueUrl in the body) and the reading of its answers. */
#include <stdio.h>
#include <string.h>
#include "aws/sqs.h"
#include "core/clock.h"
#include "t.h"

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: local_sqs_client QUEUE_URL\n"); return 2; }
    char err[SB_ERRLEN], id[SB_SQS_ID_MAX];
    sb_sqs_config c = {.queue_url = argv[1], .region = "us-east-1", .access_key_id = "AKIDLOCALTEST",
                       .secret_access_key = "local-secret-key-0123456789"};
    sb_sqs *q = sb_sqs_new(&c, err);
    if (!q) { fprintf(stderr, "%s\n", err); return 1; }
    const char *body = "{\"NotificationType\":\"ORDER_CHANGE\",\"Payload\":{\"OrderChangeNotification\":"
                       "{\"AmazonOrderId\":\"114-1234567-1234567\"}}}";
    int rc = sb_sqs_send(q, body, id, sizeof id, err);
    if (rc) fprintf(stderr, "send: %s\n", err);
    T_EQ(rc, 0);
    T_CHECK(id[0] != '\0');
    sb_sqs_message m[10];
    int n = 0;
    rc = sb_sqs_receive(q, 10, 2, 30, m, &n, err);
    if (rc) fprintf(stderr, "receive: %s\n", err);
    T_EQ(rc, 0);
    T_EQ(n, 1);
    if (n == 1) {
        T_STREQ(m[0].body, body);
        T_STREQ(m[0].id, id);
        T_EQ(m[0].receive_count, 1);
        T_CHECK(m[0].sent_ms > 0);
        T_CHECK(m[0].handle[0] != '\0');
        rc = sb_sqs_delete(q, m[0].handle, err);
        if (rc) fprintf(stderr, "delete: %s\n", err);
        T_EQ(rc, 0);
    }
    sb_sqs_messages_free(m, n);
    sb_sqs_attributes a;
    rc = sb_sqs_get_attributes(q, &a, err);
    if (rc) fprintf(stderr, "attributes: %s\n", err);
    T_EQ(rc, 0);
    T_CONTAINS(a.arn, ":sellerbridge-test");
    T_EQ(a.fifo, 0);
    T_EQ(a.retention_s, 1209600);
    T_EQ(a.approx_messages, 0);
    char report[2048];
    T_EQ(sb_sqs_check_for_amazon(&a, report, sizeof report), 1);   /* no Policy set on the local queue */
    T_CONTAINS(report, "blocking: Policy");
    sb_sqs_attributes_free(&a);
    /* an empty long poll: waits (real time here) and answers no messages */
    int64_t t0 = sb_now_ms();
    rc = sb_sqs_receive(q, 10, 1, 30, m, &n, err);
    if (rc) fprintf(stderr, "empty receive: %s\n", err);
    T_EQ(rc, 0);
    T_EQ(n, 0);
    printf("empty long poll of 1 s answered after %lld ms\n", (long long)(sb_now_ms() - t0));
    /* another queue: SQS's error, naming the operation */
    char other[512];
    snprintf(other, sizeof other, "%.*s/no-such-queue", (int)(strrchr(argv[1], '/') - argv[1]), argv[1]);
    sb_sqs_config c2 = c;
    c2.queue_url = other;
    c2.max_retries = -1;
    sb_sqs *q2 = sb_sqs_new(&c2, err);
    T_CHECK(q2 && sb_sqs_get_attributes(q2, &a, err) != 0);
    printf("missing queue: %s\n", err);
    T_CONTAINS(err, "SQS GetQueueAttributes: HTTP 400");
    sb_sqs_free(q2);
    sb_sqs_free(q);
    return t_done();
}
