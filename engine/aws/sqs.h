/* sqs.h: a client of Amazon SQS for the seller's queue of SP-API notifications (libcurl).
 *
 * SQS's JSON protocol (AWS JSON 1.0): every call is a POST of a JSON body (naming the
 * queue in QueueUrl) to / of the queue's host, with X-Amz-Target: AmazonSQS.<Operation> and Content-Type exactly
 * application/x-amz-json-1.0, signed with Signature V4 by libcurl (CURLOPT_AWS_SIGV4,
 * provider "aws:amz:REGION:sqs", the body through CURLOPT_POSTFIELDS so its hash is
 * signed; the keys through CURLOPT_USERNAME/CURLOPT_PASSWORD, which is CURLOPT_USERPWD
 * without a string holding both; no header-removal entries and no X-Amz-Date of our own,
 * which curl 7.88 sends twice). A session token, when set, goes as X-Amz-Security-Token
 * (signed: curl 7.88 signs every header given to it).
 *
 * Every call has the client's timeouts (a receive's own is its wait + 10 s), bounded
 * retries of what SQS cannot have acted on or what is safe to repeat (receive, delete and
 * attribute reads are all idempotent for the queue: a repeated receive only makes a
 * message visible later, a repeated delete of a handle is a no-op), and one line in err
 * naming the operation, the HTTP status and SQS's error type and message (never a key,
 * in any encoding). 0 or a negative sb_status. A stop flag ends a long poll at once
 * (SB_EINTR). Thread-safe for calls on different sb_sqs; one sb_sqs is used by one job. */
#ifndef SB_AWS_SQS_H
#define SB_AWS_SQS_H
#include <stddef.h>
#include <stdint.h>
#include "core/util.h"

typedef struct sb_sqs_config {
    const char *queue_url;          /* https://sqs.REGION.amazonaws.com/ACCOUNT/NAME, or loopback http (simulator, tests) */
    const char *region;             /* e.g. us-east-1; signs as aws:amz:REGION:sqs */
    const char *access_key_id, *secret_access_key;
    const char *session_token;      /* NULL or "" = long-term keys */
    long connect_timeout_ms, timeout_ms;   /* 0 = 10 s / 30 s (a receive's total is its wait + 10 s) */
    int max_retries;                /* 0 = 3, < 0 = none */
    long retry_base_ms;             /* first backoff step; 0 = 200 ms (AWS: 200 then 400 ms) */
    const char *ca_file;            /* optional CA bundle; TLS verification is always on */
    volatile int *stop;             /* set by a signal handler: a call in flight is abandoned (SB_EINTR) */
} sb_sqs_config;

typedef struct sb_sqs sb_sqs;

/* Copies what it needs from c; refuses (NULL, err) a queue URL that is neither https nor
 * loopback http, a missing region or key. */
sb_sqs *sb_sqs_new(const sb_sqs_config *c, char *err);
void sb_sqs_free(sb_sqs *q);

/* Bounds on what SQS sends, checked before anything is sized by them. */
#define SB_SQS_MAX_BATCH 10                 /* MaxNumberOfMessages 1..10 */
#define SB_SQS_MAX_BODY (256 * 1024)        /* SQS's largest message body */
#define SB_SQS_ID_MAX 128                   /* MessageId (a UUID) */
#define SB_SQS_HANDLE_MAX 1024              /* ReceiptHandle */

typedef struct sb_sqs_message {
    char id[SB_SQS_ID_MAX];                 /* MessageId */
    char handle[SB_SQS_HANDLE_MAX];         /* ReceiptHandle: what delete takes */
    char *body;                             /* malloc'd, NUL-terminated, at most SB_SQS_MAX_BODY */
    size_t body_len;
    int receive_count;                      /* ApproximateReceiveCount (1 = first delivery) */
    int64_t sent_ms;                        /* SentTimestamp (ms since the epoch, SQS's clock), 0 if absent */
} sb_sqs_message;

/* ReceiveMessage: at most max (1..10) messages, waiting up to wait_s (0..20) for the first
 * (long polling), hidden from other readers for visibility_s; asks for the
 * ApproximateReceiveCount and SentTimestamp attributes. *n = how many came (0 is a normal
 * answer: an empty body, {} and a missing Messages all mean none). A message whose body or
 * handle is over the bounds is returned with body NULL and counted, not sized. Free with
 * sb_sqs_messages_free. */
int sb_sqs_receive(sb_sqs *q, int max, int wait_s, int visibility_s, sb_sqs_message *out, int *n, char *err);
void sb_sqs_messages_free(sb_sqs_message *m, int n);

/* DeleteMessage by receipt handle. */
int sb_sqs_delete(sb_sqs *q, const char *handle, char *err);

/* ChangeMessageVisibility: the message of handle stays hidden visibility_s (0..43200)
 * more seconds from now (a lease extended), or 0: visible again at once (given back). */
int sb_sqs_change_visibility(sb_sqs *q, const char *handle, int visibility_s, char *err);

/* SendMessage (tests and tools; the engine never sends, and the simulator puts its
 * notifications into its own queue directly). id gets the MessageId when not NULL. Not
 * repeated after an ambiguous answer, a 5xx or a failure once the request went out
 * (SB_EAMBIG); a body over SB_SQS_MAX_BODY is refused before anything is sent. */
int sb_sqs_send(sb_sqs *q, const char *body, char *id, size_t idlen, char *err);

/* GetQueueAttributes All: what `notifications setup` checks. Strings are "" when SQS did
 * not say (the reader's keys may not be allowed to read them). */
typedef struct sb_sqs_attributes {
    char arn[256];                          /* QueueArn: arn:aws:sqs:REGION:ACCOUNT:NAME */
    int fifo;                               /* FifoQueue true: Amazon delivers nothing to it */
    char *policy;                           /* Policy JSON, malloc'd or NULL */
    char *redrive_policy;                   /* RedrivePolicy JSON (dead-letter queue), malloc'd or NULL */
    char kms_key[256];                      /* KmsMasterKeyId: Amazon then needs kms:GenerateDataKey, kms:Decrypt */
    long retention_s, visibility_s;         /* MessageRetentionPeriod, VisibilityTimeout; -1 if absent */
    long approx_messages;                   /* ApproximateNumberOfMessages; -1 if absent */
} sb_sqs_attributes;
int sb_sqs_get_attributes(sb_sqs *q, sb_sqs_attributes *out, char *err);
void sb_sqs_attributes_free(sb_sqs_attributes *a);
/* The same from the text of a GetQueueAttributes answer ({"Attributes": {...}}): what
 * sb_sqs_get_attributes does with the answer, for tests and saved answers. */
int sb_sqs_attributes_parse(const char *json, size_t len, sb_sqs_attributes *out, char *err);

/* Amazon's SP-API account: the principal that sends notifications into the queue. */
#define SB_SQS_AMAZON_ACCOUNT "437568002678"

/* What is missing on the AWS side for Amazon to deliver into the queue of a: one problem
 * a line into report (n bytes, cut to fit), each naming the attribute and starting with
 * "blocking: " (nothing is delivered: a FIFO queue; a Policy missing, not JSON, or not
 * allowing principal 437568002678 ("437568002678", "arn:aws:iam::437568002678:root", "*",
 * alone or in a list) both sqs:SendMessage and sqs:GetQueueAttributes (or sqs:*, *) on
 * the queue's ARN), "check: " (a KMS key: its key policy must grant Amazon
 * kms:GenerateDataKey and kms:Decrypt, which cannot be read from here; a Condition on the
 * statement allowing Amazon, not evaluated) or "advice: " (no
 * RedrivePolicy: a dead-letter queue with maxReceiveCount 3; MessageRetentionPeriod
 * under 14 days). Returns the number of blocking problems: 0 = Amazon can deliver. */
int sb_sqs_check_for_amazon(const sb_sqs_attributes *a, char *report, size_t n);

#endif
