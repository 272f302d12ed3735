/* sqs_int.h: the one piece of sqs.c that tests/aws/test_sigv4 runs on its own: the
 * libcurl options that make curl sign a request as sb_sqs does. The handle is a CURL *
 * (void * here so that only sb_aws and the tests see libcurl's header). */
#ifndef SB_AWS_SQS_INT_H
#define SB_AWS_SQS_INT_H
#include <stddef.h>

/* CURLOPT_AWS_SIGV4 "aws:amz:REGION:SERVICE", the keys, POST of body[0..len) through
 * CURLOPT_POSTFIELDS (so curl hashes it into the signature). */
void sb_sqs_sign_setup(void *curl, const char *region, const char *service, const char *akid, const char *secret,
                       const char *body, size_t len);

#endif
