---@meta
-- sellerbridge.lua: LuaLS type annotations for rule packs (not loaded by the engine).
-- Point your editor's Lua language server at this folder ("workspace.library").

---@class sb.Address
---@field name string?
---@field company string?
---@field line1 string?
---@field line2 string?
---@field line3 string?
---@field city string?
---@field district string?
---@field state string?      # upper-cased
---@field postal string?
---@field country string?    # ISO code, upper-cased
---@field phone string?
---@field type string?       # RESIDENTIAL | COMMERCIAL | PICKUP_POINT

---@class sb.Buyer
---@field name string?
---@field email string?
---@field company string?
---@field po string?

---@class sb.OrderLine
---@field item_id string
---@field sku string?
---@field asin string?
---@field title string?
---@field qty number
---@field qty_shipped number
---@field unit_price string?
---@field line_total string?

---@class sb.Order
---@field id string
---@field seller_order_id string?
---@field created string
---@field updated string
---@field channel string?
---@field marketplace_id string?
---@field marketplace_name string?
---@field status string
---@field fulfilled_by "MERCHANT"|"AMAZON"
---@field fba boolean
---@field service_level string?
---@field programs table<string, boolean>
---@field program_list string[]
---@field buyer sb.Buyer
---@field customer_key string?
---@field ship sb.Address
---@field total string?
---@field currency string?
---@field shipping_total string
---@field lines sb.OrderLine[]
---@field skus table<string, number> each SKU's total quantity over the lines
---@field raw table Amazon's order (Orders API 2026-01-01) as decoded, read-only

---@class sb.StatusDecision
---@field download boolean
---@field reason string?

---@class sb.ValidateDecision
---@field attention boolean
---@field reason string?

---@class sb.CustomerDecision
---@field action "insert"|"update"|"keep"|"selected"
---@field id integer?
---@field ref string?
---@field key string?
---@field group string?
---@field name string? a new customer's name in place of the buyer's (contact details not copied)

---@class sb.SplitLine
---@field line integer
---@field qty number

---@class sb.Split
---@field branch string
---@field lines sb.SplitLine[]

---@class sb.RouteDecision
---@field branch string?
---@field splits sb.Split[]?
---@field distribution_branch string?
---@field reason string?

---@class sb.GlDecision
---@field account string?

---@class sb.StockBranch
---@field branch string
---@field soh number
---@field open number
---@field open_etd7 number
---@field open_etd30 number
---@field open_no_etd number

---@class sb.StockItem
---@field sku string
---@field buffer number
---@field branches sb.StockBranch[]

---@class sb.Stock
---@field soh number
---@field open number

---@class sb.Product
---@field sku string
---@field asin string?
---@field name string?
---@field batch_tracked boolean
---@field serial_tracked boolean
---@field is_kit boolean
---@field buffer number
---@field latency integer

---@class sb.Customer
---@field id integer
---@field ref string?
---@field channel_id string?
---@field email string?
---@field name string?
---@field group string?

---@class sb.Branch
---@field name string
---@field country string?
---@field state string?

---@type table<string, any>
settings = {}
---@type sb.Branch[]
branches = {}
---@type string
today = ""
---@type string
integration = ""

---@param sku string
---@param branch string
---@return sb.Stock?
function stock(sku, branch) end
--- soh - open of sku at branch; 0 when the branch has no stock of it (no table, unlike stock)
---@param sku string
---@param branch string
---@return number
function available(sku, branch) end
---@param sku string
---@return sb.Product?
function product(sku) end
---@param channel_id string?
---@return sb.Customer?
function customer_by_id(channel_id) end
---@param email string?
---@return sb.Customer?
function customer_by_email(email) end
---@param ref string
---@return sb.Customer?
function customer_by_ref(ref) end

---@class sb.Defaults
---@field status fun(order: sb.Order): sb.StatusDecision
---@field validate fun(order: sb.Order): sb.ValidateDecision
---@field customer fun(order: sb.Order): sb.CustomerDecision
---@field route fun(order: sb.Order): sb.RouteDecision
---@field gl fun(order: sb.Order): sb.GlDecision
---@field stock fun(item: sb.StockItem): integer
---@type sb.Defaults
defaults = {}

cjson = {}
---@param v any
---@return string
function cjson.encode(v) end
---@param s string
---@return any
function cjson.decode(s) end
cjson.null = nil
