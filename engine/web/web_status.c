/* web_status.c: GET /api/v1/status, what the engine is doing (engine/sched/status.h),
 * the same document `sellerbridge status --json` prints. */
#include "sched/status.h"
#include "web/web_int.h"

void sb_web_status_get(sb_web_req *rq, sb_web_resp *rs) {
    char err[SB_ERRLEN];
    sb_jw jw;
    sb_web_begin_ok(rs, &jw);
    (void)jw;                   /* the document is written by sb_status_json */
    if (sb_status_json(rq->s, 0, &rs->body, err)) sb_web_error(rs, 500, "%s", err);
}
