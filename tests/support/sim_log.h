/* sim_log.h: what the tests ask of the simulator's request log, shared by the test
 * programs that drive the in-process simulator. */
#ifndef SB_TEST_SIM_LOG_H
#define SB_TEST_SIM_LOG_H
#include <string.h>
#include "json/json.h"
#include "sim/sim.h"

/* Calls of op in the simulator's request log since its last clear, with that HTTP
 * status, or any status when status is 0. */
static inline long t_sim_calls(sb_sim *sim, const char *op, int status) {
    sb_buf b;
    sb_json *j = NULL;
    char err[SB_ERRLEN];
    long n = 0;
    sb_buf_init(&b, 256u << 20);
    sb_sim_requests_json(sim, &b);
    if (!sb_json_parse(b.data, b.len, &j, err))
        for (size_t i = 0; i < sb_json_len(j, SB_JSON_ROOT, NULL); i++) {
            int r = sb_json_at(j, SB_JSON_ROOT, i);
            const char *o = sb_json_str(j, r, "op");
            if (o && !strcmp(o, op) && (!status || (int)sb_json_num(j, r, "status", 0) == status)) n++;
        }
    sb_json_free(j);
    sb_buf_free(&b);
    return n;
}

#endif
