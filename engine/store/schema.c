/* schema.c: the database schema as a list of forward migrations. Migration N brings a
 * database from user_version N-1 to N; sb_store_migrate runs the missing ones in one
 * transaction each. Never edit a released migration: add the next one. */
#include <stddef.h>
#include "store/store.h"
#include "store/store_int.h"

static const char *const migrations[] = {
/* 1: the inventory side, the Amazon side and the engine's own bookkeeping */
"CREATE TABLE integrations ("
"  id INTEGER PRIMARY KEY,"
"  name TEXT NOT NULL UNIQUE,"
"  seller_id TEXT,"
"  next_invoice_no INTEGER NOT NULL DEFAULT 1,"
"  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')));"
"CREATE TABLE settings ("
"  integration_id INTEGER NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,"
"  name TEXT NOT NULL,"
"  value TEXT NOT NULL,"
"  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),"
"  PRIMARY KEY (integration_id, name)) WITHOUT ROWID;"
"CREATE TABLE credentials ("
"  integration_id INTEGER NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,"
"  name TEXT NOT NULL,"
"  nonce BLOB NOT NULL, ciphertext BLOB NOT NULL, tag BLOB NOT NULL,"
"  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),"
"  PRIMARY KEY (integration_id, name)) WITHOUT ROWID;"
"CREATE TABLE branches ("
"  id INTEGER PRIMARY KEY,"
"  name TEXT NOT NULL UNIQUE,"
"  country TEXT, state TEXT, address TEXT);"
"CREATE TABLE products ("
"  id INTEGER PRIMARY KEY,"
"  sku TEXT NOT NULL UNIQUE,"
"  asin TEXT, name TEXT, created_date TEXT,"
"  batch_tracked INTEGER NOT NULL DEFAULT 0 CHECK (batch_tracked IN (0,1)),"
"  serial_tracked INTEGER NOT NULL DEFAULT 0 CHECK (serial_tracked IN (0,1)),"
"  order_type TEXT NOT NULL DEFAULT 'standard' CHECK (order_type IN ('standard','kit')),"
"  buffer_stock REAL NOT NULL DEFAULT 0 CHECK (buffer_stock >= 0),"
"  latency INTEGER CHECK (latency IS NULL OR latency BETWEEN 1 AND 30),"
"  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')));"
"CREATE INDEX products_asin ON products(asin);"
"CREATE TABLE bom_components ("
"  kit_id INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,"
"  component_id INTEGER NOT NULL REFERENCES products(id),"
"  qty REAL NOT NULL CHECK (qty > 0),"
"  PRIMARY KEY (kit_id, component_id)) WITHOUT ROWID;"
"CREATE TABLE stock ("
"  product_id INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,"
"  branch_id INTEGER NOT NULL REFERENCES branches(id) ON DELETE CASCADE,"
"  on_hand REAL NOT NULL DEFAULT 0,"
"  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),"
"  PRIMARY KEY (product_id, branch_id)) WITHOUT ROWID;"
"CREATE INDEX stock_updated ON stock(updated_at);"
"CREATE TABLE customer_groups ("
"  id INTEGER PRIMARY KEY,"
"  name TEXT NOT NULL UNIQUE);"
"CREATE TABLE customers ("
"  id INTEGER PRIMARY KEY,"
"  ref TEXT UNIQUE,"
"  integration_id INTEGER REFERENCES integrations(id) ON DELETE SET NULL,"
"  channel_customer_id TEXT,"
"  email TEXT, name TEXT, company TEXT, phone TEXT,"
"  address1 TEXT, address2 TEXT, city TEXT, state TEXT, postcode TEXT, country TEXT,"
"  group_id INTEGER REFERENCES customer_groups(id),"
"  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),"
"  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')));"
"CREATE INDEX customers_channel ON customers(channel_customer_id);"
"CREATE INDEX customers_email ON customers(email COLLATE NOCASE);"
"CREATE TABLE gl_accounts ("
"  code TEXT PRIMARY KEY,"
"  name TEXT) WITHOUT ROWID;"
"CREATE TABLE sales_orders ("
"  id INTEGER PRIMARY KEY,"
"  integration_id INTEGER REFERENCES integrations(id) ON DELETE CASCADE,"
"  source TEXT NOT NULL DEFAULT 'amazon' CHECK (source IN ('amazon','import')),"
"  order_ref TEXT NOT NULL,"           /* Amazon order id, or the imported order's reference */
"  split_no INTEGER NOT NULL DEFAULT 0,"
"  marketplace_id TEXT,"
"  amazon_status TEXT,"
"  stage TEXT NOT NULL DEFAULT 'open' CHECK (stage IN ('open','needs_attention','rule_error','rejected','dispatched','cancelled')),"
"  fulfilled_by TEXT, service_level TEXT, programs TEXT,"
"  created_time TEXT, updated_time TEXT,"
"  branch TEXT, distribution_branch TEXT,"
"  customer_id INTEGER REFERENCES customers(id),"
"  gl_account TEXT,"
"  invoice_no TEXT, invoice_date TEXT, payment_type TEXT,"
"  currency TEXT, total TEXT, shipping_total TEXT,"
"  buyer_name TEXT, buyer_email TEXT, buyer_company TEXT,"
"  ship_name TEXT, ship_company TEXT, ship_line1 TEXT, ship_line2 TEXT, ship_line3 TEXT,"
"  ship_city TEXT, ship_state TEXT, ship_postal TEXT, ship_country TEXT, ship_phone TEXT,"
"  etd TEXT,"
"  dispatched_at TEXT, auto_dispatched INTEGER NOT NULL DEFAULT 0,"
"  attention_reason TEXT, rule_error TEXT, rule_pack_hash TEXT,"
"  raw_json TEXT,"
"  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),"
"  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),"
"  UNIQUE (integration_id, source, order_ref, split_no));"
"CREATE INDEX sales_orders_stage ON sales_orders(stage);"
"CREATE TABLE sales_order_lines ("
"  id INTEGER PRIMARY KEY,"
"  order_id INTEGER NOT NULL REFERENCES sales_orders(id) ON DELETE CASCADE,"
"  line_no INTEGER NOT NULL,"
"  item_id TEXT, sku TEXT NOT NULL, asin TEXT, title TEXT,"
"  product_id INTEGER REFERENCES products(id),"
"  qty REAL NOT NULL,"
"  qty_dispatched REAL NOT NULL DEFAULT 0,"
"  unit_price TEXT, line_total TEXT,"
"  kit_sku TEXT,"                         /* set on BOM components: the kit they came from */
"  stock_bearing INTEGER NOT NULL DEFAULT 1,"
"  UNIQUE (order_id, line_no));"
"CREATE INDEX sales_order_lines_product ON sales_order_lines(product_id);"
"CREATE TABLE sync_state ("
"  integration_id INTEGER NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,"
"  job TEXT NOT NULL,"
"  last_run_at TEXT, last_success_at TEXT, next_check_at TEXT,"
"  empty_streak INTEGER NOT NULL DEFAULT 0,"
"  last_error TEXT, last_counts TEXT,"
"  PRIMARY KEY (integration_id, job)) WITHOUT ROWID;"
"CREATE TABLE audit ("
"  id INTEGER PRIMARY KEY,"
"  integration_id INTEGER REFERENCES integrations(id) ON DELETE CASCADE,"
"  order_ref TEXT NOT NULL,"
"  hook TEXT NOT NULL,"
"  decision TEXT NOT NULL,"
"  pack_hash TEXT,"
"  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')));"
"CREATE INDEX audit_order ON audit(integration_id, order_ref);"
"CREATE TABLE outbox ("
"  id INTEGER PRIMARY KEY,"
"  integration_id INTEGER NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,"
"  kind TEXT NOT NULL,"
"  key TEXT NOT NULL,"
"  payload TEXT NOT NULL,"
"  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','sent','failed')),"
"  attempts INTEGER NOT NULL DEFAULT 0,"
"  next_attempt_at TEXT,"
"  last_error TEXT,"
"  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),"
"  sent_at TEXT,"
"  UNIQUE (integration_id, kind, key));",

/* 2: packages of a dispatch (several per order, partial shipments), each confirmed to
 * Amazon at most once through the outbox; and per-SKU stock upload results. */
"CREATE TABLE shipments ("
"  id INTEGER PRIMARY KEY,"
"  order_id INTEGER NOT NULL REFERENCES sales_orders(id) ON DELETE CASCADE,"
"  carrier TEXT NOT NULL, service TEXT, tracking TEXT NOT NULL,"
"  shipped_at TEXT NOT NULL,"
"  lines TEXT NOT NULL,"                  /* JSON [{sku, item_id, qty}] */
"  confirm_state TEXT NOT NULL DEFAULT 'none' CHECK (confirm_state IN ('none','queued','confirmed','failed','not_required')),"
"  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')));"
"CREATE INDEX shipments_order ON shipments(order_id);"
"CREATE TABLE stock_sent ("
"  integration_id INTEGER NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,"
"  sku TEXT NOT NULL,"
"  quantity INTEGER, latency INTEGER,"
"  sent_at TEXT, status TEXT, error TEXT,"
"  PRIMARY KEY (integration_id, sku)) WITHOUT ROWID;",

/* 3: stock reserved by open orders, kept with the order changes in the same
 * transaction, so a look-up is one row instead of a sum over every open order line. */
"ALTER TABLE stock ADD COLUMN reserved REAL NOT NULL DEFAULT 0;"
"INSERT INTO stock(product_id, branch_id, on_hand) "
"  SELECT DISTINCT l.product_id, b.id, 0 FROM sales_order_lines l JOIN sales_orders o ON o.id = l.order_id "
"  JOIN branches b ON b.name = o.branch WHERE l.product_id IS NOT NULL AND l.stock_bearing = 1 "
"  AND o.stage IN ('open','needs_attention') AND true ON CONFLICT DO NOTHING;"
"UPDATE stock SET reserved = (SELECT COALESCE(SUM(l.qty - l.qty_dispatched), 0) FROM sales_order_lines l "
"  JOIN sales_orders o ON o.id = l.order_id JOIN branches b ON b.name = o.branch "
"  WHERE l.product_id = stock.product_id AND b.id = stock.branch_id AND l.stock_bearing = 1 "
"  AND o.stage IN ('open','needs_attention'));"
"CREATE INDEX sales_orders_ref ON sales_orders(order_ref);",

/* 4: products, stock upload and tracking jobs: SKUs the order download touched (stock
 * to resend), the listing's fulfillment channel from the listings report (AMAZON_* =
 * Amazon's stock, never uploaded), the inputs of a job's last run (a changed stock
 * formula resends everything), the package number of a shipment (packageReferenceId). */
"CREATE TABLE stock_dirty ("
"  integration_id INTEGER NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,"
"  sku TEXT NOT NULL,"
"  marked_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),"
"  PRIMARY KEY (integration_id, sku)) WITHOUT ROWID;"
"ALTER TABLE products ADD COLUMN fulfillment_channel TEXT;"
"CREATE INDEX products_updated ON products(updated_at);"
"ALTER TABLE sync_state ADD COLUMN fingerprint TEXT;"
"ALTER TABLE stock_sent ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;"
"ALTER TABLE shipments ADD COLUMN package_no INTEGER;"
"CREATE INDEX outbox_due ON outbox(integration_id, kind, status, next_attempt_at);",

/* 5: a product that becomes one Amazon may need stock for (new, or its channel or order
 * type changed) is marked for the next stock run by the database itself, so a run looks
 * at the few marked SKUs instead of checking every product for a missing stock_sent row;
 * SKUs Amazon has not accepted yet are found through a partial index. */
"CREATE INDEX stock_sent_pending ON stock_sent(integration_id, sku) WHERE status IS NOT 'accepted' OR quantity IS NULL;"
"CREATE TRIGGER products_stock_new AFTER INSERT ON products BEGIN "
"  INSERT OR IGNORE INTO stock_dirty(integration_id, sku) SELECT id, NEW.sku FROM integrations; END;"
"CREATE TRIGGER products_stock_changed AFTER UPDATE OF sku, fulfillment_channel, order_type ON products BEGIN "
"  INSERT OR IGNORE INTO stock_dirty(integration_id, sku) SELECT id, NEW.sku FROM integrations; END;"
"INSERT OR IGNORE INTO stock_dirty(integration_id, sku) SELECT i.id, p.sku FROM integrations i, products p "
"  WHERE NOT EXISTS (SELECT 1 FROM stock_sent x WHERE x.integration_id = i.id AND x.sku = p.sku);",

/* 6: a searchOrders page is stored once, as it came, and each order points at its place
 * in it (raw_page_id, raw_index) instead of a re-encoded copy of its JSON in raw_json
 * (which stays for orders stored one by one and for orders that could not be read).
 * sales_orders_raw gives every order's JSON either way; the sync deletes pages no
 * order points at any more. */
"CREATE TABLE raw_pages ("
"  id INTEGER PRIMARY KEY,"
"  integration_id INTEGER NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,"
"  fetched_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),"
"  body TEXT NOT NULL);"
"CREATE INDEX raw_pages_integration ON raw_pages(integration_id);"
"ALTER TABLE sales_orders ADD COLUMN raw_page_id INTEGER;"
"ALTER TABLE sales_orders ADD COLUMN raw_index INTEGER;"
"CREATE INDEX sales_orders_raw_page ON sales_orders(raw_page_id) WHERE raw_page_id IS NOT NULL;"
"CREATE VIEW sales_orders_raw AS SELECT o.id AS order_id, o.integration_id, o.source, o.order_ref, o.split_no, o.stage, "
"  o.updated_time, "
"  COALESCE(o.raw_json, (SELECT json_extract(p.body, '$.orders[' || o.raw_index || ']') FROM raw_pages p "
"                        WHERE p.id = o.raw_page_id)) AS raw_json "
"  FROM sales_orders o;",

/* 7: a stock feed Amazon has not finished when the run stops waiting (queues of many
 * hours happen) is remembered with what it carried, so its SKUs are not sent again until
 * it ends: an older quantity must never land after a newer one. */
"ALTER TABLE stock_sent ADD COLUMN pending_feed TEXT;"
"ALTER TABLE stock_sent ADD COLUMN pending_quantity INTEGER;"
"ALTER TABLE stock_sent ADD COLUMN pending_latency INTEGER;"
"ALTER TABLE stock_sent ADD COLUMN pending_message INTEGER;"
"ALTER TABLE stock_sent ADD COLUMN pending_since TEXT;"
"CREATE INDEX stock_sent_feed ON stock_sent(integration_id, pending_feed) WHERE pending_feed IS NOT NULL;",

/* 8: how many orders a stored page holds, so a page only a few of them still point at can
 * give those their own copy and go (a page is not kept whole for one order) */
"ALTER TABLE raw_pages ADD COLUMN orders INTEGER;",

/* 9: a kit's stock upload quantity is made from its components': a changed component
 * finds its kits through an index, a changed BOM (import of boms, or an edit elsewhere)
 * marks its kit for the next stock run, and kits (never uploaded before) are marked once */
"CREATE INDEX bom_components_component ON bom_components(component_id, kit_id);"
"CREATE TRIGGER bom_stock_new AFTER INSERT ON bom_components BEGIN "
"  INSERT OR IGNORE INTO stock_dirty(integration_id, sku) SELECT i.id, p.sku FROM integrations i, products p "
"  WHERE p.id = NEW.kit_id; END;"
"CREATE TRIGGER bom_stock_changed AFTER UPDATE ON bom_components BEGIN "
"  INSERT OR IGNORE INTO stock_dirty(integration_id, sku) SELECT i.id, p.sku FROM integrations i, products p "
"  WHERE p.id IN (OLD.kit_id, NEW.kit_id); END;"
"CREATE TRIGGER bom_stock_gone AFTER DELETE ON bom_components BEGIN "
"  INSERT OR IGNORE INTO stock_dirty(integration_id, sku) SELECT i.id, p.sku FROM integrations i, products p "
"  WHERE p.id = OLD.kit_id; END;"
"INSERT OR IGNORE INTO stock_dirty(integration_id, sku) SELECT i.id, p.sku FROM integrations i, products p "
"  WHERE p.order_type = 'kit';",

/* 10: a window of many pages survives a pause (Amazon's rate limit), a failure or a
 * restart: its bounds and the token of its next page (Amazon keeps it 24 h) are kept
 * after every page; the listings reports Amazon is still making ("MP=ID;..."), looked
 * at again by the next run instead of polled for in a loop; and Amazon's clock as last
 * measured, for people */
"ALTER TABLE sync_state ADD COLUMN resume_after TEXT;"
"ALTER TABLE sync_state ADD COLUMN resume_before TEXT;"
"ALTER TABLE sync_state ADD COLUMN resume_token TEXT;"
"ALTER TABLE sync_state ADD COLUMN resume_saved_at TEXT;"
"ALTER TABLE sync_state ADD COLUMN resume_pages INTEGER;"
"ALTER TABLE sync_state ADD COLUMN clock_skew_ms INTEGER;"
"ALTER TABLE sync_state ADD COLUMN pending_reports TEXT;",

/* 11: a stock feed is created once. What a feed is to carry is recorded before createFeed
 * (pending_document: the uploaded feed document whose feed id is not known yet), and
 * the feeds the engine created are remembered (for Amazon's 90 days), so that after a
 * lost createFeed answer or a crash the feed Amazon lists (getFeeds) is told apart from
 * the engine's earlier ones and followed instead of a second one being created. */
"ALTER TABLE stock_sent ADD COLUMN pending_document TEXT;"
"CREATE INDEX stock_sent_document ON stock_sent(integration_id, pending_document) WHERE pending_document IS NOT NULL;"
"CREATE TABLE feeds_created ("
"  integration_id INTEGER NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,"
"  feed_id TEXT NOT NULL,"
"  feed_type TEXT NOT NULL,"
"  document_id TEXT,"
"  created_at TEXT NOT NULL,"
"  PRIMARY KEY (integration_id, feed_id)) WITHOUT ROWID;",

/* 12: every job of every integration has its own schedule (engine/sched/runtime.c), so
 * each one's row says for people what it is doing: idle, running since T, or waiting for
 * Amazon until T and why (a rate limit, a feed or report Amazon is still processing) */
"ALTER TABLE sync_state ADD COLUMN state TEXT;"
"ALTER TABLE sync_state ADD COLUMN state_since TEXT;"
"ALTER TABLE sync_state ADD COLUMN waiting_until TEXT;"
"ALTER TABLE sync_state ADD COLUMN waiting_why TEXT;"
/* and a confirmation is sent by one sender at a time (the engine's tracking job, a
 * person's `dispatch` or `update-dispatched` beside it): the sender claims the row (its
 * process id, until when) before the call; another sender leaves a row whose claimer is
 * alive and within its time, and takes over one whose claimer died (then asks Amazon
 * first, as after any attempt that may have reached it) */
"ALTER TABLE outbox ADD COLUMN claimed_by INTEGER;"
"ALTER TABLE outbox ADD COLUMN claimed_until TEXT;",

/* 13: orders are counted by stage within an integration (the lists' totals, the
 * summary): the stage index carries the integration, so a count reads the index alone
 * instead of every order's row (22,316 of 1,000,000: 0.8 ms instead of 780 ms) */
"DROP INDEX sales_orders_stage;"
"CREATE INDEX sales_orders_stage ON sales_orders(stage, integration_id);",

/* 14: Amazon's ORDER_CHANGE notifications as the notifications job read them from the
 * seller's SQS queue (engine/sync/notify.c): one row per NotificationId, so a message
 * delivered twice is recognised; its state (done, failed and tried again, set aside as
 * poison for a person with its body, ignored); and which path brought each order */
"CREATE TABLE notifications ("
"  integration_id INTEGER NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,"
"  notification_id TEXT NOT NULL,"
"  message_id TEXT, order_ref TEXT, change_type TEXT, event_time TEXT,"
"  first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL,"
"  deliveries INTEGER NOT NULL DEFAULT 1,"    /* reads of it, the queue's redeliveries included */
"  copies INTEGER NOT NULL DEFAULT 0,"        /* other messages Amazon sent with the same NotificationId */
"  tries INTEGER NOT NULL DEFAULT 0,"
"  state TEXT NOT NULL CHECK (state IN ('new','done','failed','poison','ignored')),"
"  error TEXT, body TEXT, done_ms INTEGER, lag_ms INTEGER,"
"  PRIMARY KEY (integration_id, notification_id)) WITHOUT ROWID;"
"CREATE INDEX notifications_state ON notifications(integration_id, state, last_seen_ms);"
"ALTER TABLE sales_orders ADD COLUMN came_by TEXT;",

/* 15: SKU aliases: a SKU Amazon knows (a listing's seller SKU) linked by a person to a
 * product of the inventory whose own SKU differs; order lines, the stock upload and the
 * products download look here after products.sku (engine/store/aliases.h). A channel
 * SKU that is a product's own SKU needs none, which sb_store_alias_set checks. */
"CREATE TABLE sku_aliases ("
"  channel_sku TEXT NOT NULL PRIMARY KEY,"
"  product_id INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,"
"  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))) WITHOUT ROWID;"
"CREATE INDEX sku_aliases_product ON sku_aliases(product_id);",

/* 16: every job run, kept 30 days, for the dashboard's sync health over time (checks,
 * orders brought, failures, Amazon's waits, notifications); sync_state keeps only the
 * last run of each job */
"CREATE TABLE job_runs ("
"  integration_id INTEGER NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,"
"  job TEXT NOT NULL, at TEXT NOT NULL, ok INTEGER NOT NULL, counts TEXT, error TEXT);"
"CREATE INDEX job_runs_at ON job_runs(integration_id, at);",

/* 17: the setting rules.read_ahead is gone (the order pass reads one page at a time in one
 * rule state): its rows go, so no integration lists a setting nothing reads */
"DELETE FROM settings WHERE name = 'rules.read_ahead';",

/* 18: the audit as one row per write instead of one per decision: an order's hooks write
 * five decisions at once, which were five rows, five index entries and five copies of the
 * pack hash (about a sixth of an order's time in SQLite). audit_log keeps a write's
 * entries as a JSON array of [hook, decision] pairs, the decision as the text the rules
 * wrote; audit is a view with the columns the table had, one row per entry, its id
 * ordering them as before (a write's entries follow each other), so every reader reads as
 * it did. The rows there become one-entry writes that keep their order. */
"CREATE TABLE audit_log ("
"  id INTEGER PRIMARY KEY,"
"  integration_id INTEGER REFERENCES integrations(id) ON DELETE CASCADE,"
"  order_ref TEXT NOT NULL,"
"  entries TEXT NOT NULL,"
"  pack_hash TEXT,"
"  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')));"
"INSERT INTO audit_log(id, integration_id, order_ref, entries, pack_hash, at) "
"  SELECT id, integration_id, order_ref, json_array(json_array(hook, decision)), pack_hash, at FROM audit;"
"DROP TABLE audit;"
"CREATE INDEX audit_log_order ON audit_log(integration_id, order_ref);"
"CREATE VIEW audit(id, integration_id, order_ref, hook, decision, pack_hash, at) AS "
"  SELECT l.id * 32 + e.key, l.integration_id, l.order_ref, e.value ->> 0, e.value ->> 1, l.pack_hash, l.at "
"  FROM audit_log l, json_each(l.entries) e;",
};

int sb_store_schema_version(void) { return (int)(sizeof migrations / sizeof *migrations); }
const char *sb_store_migration(int n) {
    return n >= 1 && n <= sb_store_schema_version() ? migrations[n - 1] : NULL;
}
