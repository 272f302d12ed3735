/* app.js: the sellerbridge dashboard, one page over /api/v1 (no framework, no build).
 * Everything the server sends is shown with textContent (never as HTML). The admin token
 * is read once (form or #token=...) and kept in sessionStorage for this tab. */
'use strict';

const API = '/api/v1';
const $ = (sel) => document.querySelector(sel);

/* el('td', {class: 'x'}, 'text', child...) */
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'value') e.value = v;
    else if (k === 'checked') e.checked = !!v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of kids.flat(Infinity)) {
    if (c === undefined || c === null) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}
const txt = (v) => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/* ---- messages ---- */
function say(text, kind) {
  const m = $('#msg');
  m.textContent = text;
  m.className = kind || 'ok';
  m.hidden = !text;
}
const fail = (text) => say(text, 'error');

/* ---- token and requests ---- */
function token() { return sessionStorage.getItem('sb_token') || ''; }

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(method, path, body) {
  const opts = { method, headers: { Authorization: 'Bearer ' + token() }, credentials: 'omit' };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  let r;
  try { r = await fetch(API + path, opts); } catch (e) { throw new ApiError(0, 'the server does not answer: ' + e.message); }
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  if (r.status === 401) {
    sessionStorage.removeItem('sb_token');
    showLogin('The admin token was refused: ' + ((data && data.error) || 'unauthorised'));
    throw new ApiError(401, (data && data.error) || 'unauthorised');
  }
  if (!r.ok) throw new ApiError(r.status, (data && data.error) || ('HTTP ' + r.status));
  return data;
}

/* Runs an action and shows its error (the API's own message) in the banner. */
async function guarded(fn) {
  try { return await fn(); } catch (e) { if (e.status !== 401) fail(e.message); return undefined; }
}

function showLogin(message) {
  $('#main').hidden = true;
  $('#login').hidden = false;
  if (message) fail(message);
}

/* ---- tabs ---- */
const loaders = {};
let current = 'settings';
function showTab(name) {
  current = name;
  for (const b of document.querySelectorAll('#tabs button'))
    b.setAttribute('aria-current', b.dataset.tab === name ? 'page' : 'false');
  for (const s of document.querySelectorAll('.tab')) s.hidden = s.id !== 'tab-' + name;
  if (location.hash !== '#' + name) history.replaceState(null, '', '#' + name);
  say('');
  guarded(loaders[name]);
}

/* ---- settings ---- */
const SECTION_TITLES = { Products: 'Products', Stock: 'Stock', Orders: 'Orders',
                         Additional: 'Additional Settings', Notifications: 'Notifications (near real time)',
                         Integration: 'Integration' };
let settingsData = null;

function listText(v) { return Array.isArray(v) ? v.join(', ') : txt(v); }

function settingInput(s, choices) {
  const id = 'set-' + s.name.replace(/\./g, '-');
  const k = s.kind;
  if (k === 'bool') return el('input', { type: 'checkbox', id, checked: s.value === true });
  /* the page's words for each choice where it has them (the stored value in the tooltip) */
  const word = (o) => (s.option_labels && s.option_labels[o]) || o;
  if (k === 'enum') return el('select', { id }, s.options.map((o) => el('option', { value: o, selected: o === s.value, title: o }, word(o))));
  if (k === 'enum_list') {
    const box = el('span', { id, class: 'checks' });
    for (const o of s.options)
      box.append(el('label', {}, el('input', { type: 'checkbox', value: o, checked: (s.value || []).includes(o) }), ' ' + o));
    return box;
  }
  const pick = { branch: choices.branches, group: choices.groups, gl: choices.gl_accounts }[k];
  if (pick) {
    const opts = [el('option', { value: '' }, '(none)')].concat(pick.map((o) => el('option', { value: o, selected: o === s.value }, o)));
    if (s.value && !pick.includes(s.value)) opts.push(el('option', { value: s.value, selected: true }, s.value));
    return el('select', { id }, opts);
  }
  if (k === 'time') return el('input', { type: 'time', id, value: txt(s.value) });   /* the daily start, HH:MM */
  if (k === 'int' || k === 'number')
    return el('input', { type: 'number', id, value: s.value === null ? '' : s.value, step: k === 'int' ? 1 : 'any' });
  if (k === 'grid') return el('span', { id }, el('a', { href: '#routing' }, 'edit in the Routing grid tab'));
  const isList = k === 'branch_list' || k === 'string_list' || k === 'marketplaces';
  return el('input', { type: 'text', id, class: 'wide', value: isList ? listText(s.value) : txt(s.value),
                       placeholder: isList ? 'comma-separated' : '' });
}

/* The value to send, or undefined when unchanged. Text goes as the CLI would get it. */
function settingValue(s) {
  const e = document.getElementById('set-' + s.name.replace(/\./g, '-'));
  if (!e || s.kind === 'grid') return undefined;
  if (s.kind === 'bool') return e.checked === (s.value === true) ? undefined : e.checked;
  if (s.kind === 'enum_list') {
    const v = [...e.querySelectorAll('input:checked')].map((i) => i.value);
    return JSON.stringify(v) === JSON.stringify(s.value || []) ? undefined : v;
  }
  const isList = s.kind === 'branch_list' || s.kind === 'string_list' || s.kind === 'marketplaces';
  const was = isList ? listText(s.value) : txt(s.value);
  if (e.value === was) return undefined;
  if (isList) return e.value.split(',').map((x) => x.trim()).filter((x) => x);
  return e.value;
}

function markFieldError(message) {
  for (const f of document.querySelectorAll('.field')) {
    const bad = message && message.startsWith(f.dataset.name + ':');
    f.classList.toggle('invalid', !!bad);
    f.querySelector('.error').textContent = bad ? message : '';
  }
}

async function saveSection(section, errBox) {
  const body = {};
  for (const s of settingsData.settings.filter((x) => x.section === section)) {
    const v = settingValue(s);
    if (v !== undefined) body[s.name] = v;
  }
  errBox.hidden = true;
  if (!Object.keys(body).length) { say('Nothing changed in ' + SECTION_TITLES[section] + '.'); return; }
  try {
    await api('PUT', '/settings', body);
    markFieldError('');
    await loadSettings();
    say('Saved ' + Object.keys(body).join(', ') + '.');
  } catch (e) {
    if (e.status === 401) return;
    errBox.textContent = 'Not saved: ' + e.message;
    errBox.hidden = false;
    markFieldError(e.message);
    fail('Not saved: ' + e.message);
  }
}

/* The Notifications section's setup: POST /notifications/setup (what `sellerbridge
 * notifications setup` does) and each step's result with what to do. */
let lastNotifySetup = null;   /* kept across the reload of the settings it changed */
function notifySetupResult(d) {
  return [
    el('p', { class: d.ok ? 'ok' : 'error', id: 'notify-setup-message' }, d.message),
    el('table', { class: 'notify-steps' },
      el('tr', {}, el('th', {}, 'step'), el('th', {}, 'result'), el('th', {}, 'what was found or done'), el('th', {}, 'what to do')),
      d.steps.map((st) => el('tr', { 'data-step': st.step },
        el('td', {}, st.step),
        el('td', { class: st.status === 'ok' ? 'ok' : st.status === 'failed' ? 'error' : 'muted' },
           st.status === 'ok' ? (st.changed ? 'OK (changed)' : 'OK') : st.status === 'failed' ? 'FAILED' : 'not run'),
        el('td', {}, st.message),
        el('td', {}, st.fix ? el('pre', {}, st.fix) : ''))))];
}
function notificationsSetupPanel() {
  const out = el('div', { id: 'notify-setup-result', 'aria-live': 'polite' }, lastNotifySetup ? notifySetupResult(lastNotifySetup) : []);
  const run = async (btn) => {
    btn.disabled = true;
    out.replaceChildren(el('p', { class: 'muted' }, 'Setting up: asking AWS and Amazon...'));
    try {
      const d = await api('POST', '/notifications/setup');
      lastNotifySetup = d;
      out.replaceChildren(...notifySetupResult(d));
      if (d.changed) await loadSettings();   /* the stored ids and notifications.enabled */
    } catch (e) {
      if (e.status !== 401) out.replaceChildren(el('p', { class: 'error' }, 'Setup did not run: ' + e.message));
    }
    btn.disabled = false;
  };
  const btn = el('button', { type: 'button', id: 'notify-setup', onclick: () => run(btn) }, 'Set up notifications');
  return el('div', { class: 'notify-setup' },
    el('h3', {}, 'Set up on Amazon'),
    el('p', { class: 'muted' }, 'Checks the queue (a Standard queue whose policy lets Amazon\'s account 437568002678 send), ' +
       'finds or creates the destination and the ORDER_CHANGE subscription, and turns notifications on when every step passes. ' +
       'Safe to run again. Save the settings above first; the AWS keys are set with: sellerbridge credentials set aws.access_key_id'),
    btn, out);
}

loaders.settings = async function loadSettings() {
  const d = await api('GET', '/settings');
  settingsData = d;
  const root = $('#settings-form');
  root.replaceChildren();
  for (const sec of d.sections) {
    const fs = el('fieldset', { id: 'section-' + sec }, el('legend', {}, SECTION_TITLES[sec] || sec));
    for (const s of d.settings.filter((x) => x.section === sec)) {
      /* the page's label, and its help beside the option (the engine's sentence for the
       * settings the page does not have) */
      fs.append(el('div', { class: 'field', 'data-name': s.name },
        el('label', { for: 'set-' + s.name.replace(/\./g, '-') }, s.page_label || s.label, el('br'), el('span', { class: 'name' }, s.name)),
        el('div', {}, settingInput(s, d.choices),
          el('div', { class: 'hint' }, 'allowed: ' + s.allowed + (s.is_set ? '' : ' (default)')),
          el('div', { class: 'error' })),
        el('div', { class: 'help' }, s.help || (s.page_label ? '' : s.label))));
    }
    const errBox = el('div', { class: 'error', hidden: true });
    fs.append(el('button', { type: 'button', class: 'primary', id: 'save-' + sec, onclick: () => saveSection(sec, errBox) },
                 'Save ' + (SECTION_TITLES[sec] || sec)), errBox);
    if (sec === 'Notifications') fs.append(notificationsSetupPanel());
    if (sec === 'Integration') {
      fs.append(el('h3', {}, 'Credentials (masked)'),
        el('dl', { class: 'kv' }, d.credentials.map((c) => [el('dt', {}, c.name), el('dd', {}, c.masked)])),
        el('h3', {}, 'Connect to Amazon'),
        el('p', { class: 'muted' }, 'The three Login with Amazon values of your app (Seller Central, Developer Console). ' +
          'They are checked with Amazon before they are kept; values Amazon refuses change nothing.'),
        el('form', { id: 'connect-form', autocomplete: 'off', onsubmit: (ev) => { ev.preventDefault(); connect(); } },
          el('div', { class: 'row' },
            el('label', {}, 'Client id ', el('input', { id: 'connect-client-id', size: 40, autocomplete: 'off' })),
            el('label', {}, 'Client secret ', el('input', { id: 'connect-client-secret', type: 'password', size: 30, autocomplete: 'new-password' })),
            el('label', {}, 'Refresh token ', el('input', { id: 'connect-refresh-token', type: 'password', size: 30, autocomplete: 'new-password' })),
            el('button', { type: 'submit', class: 'primary', id: 'connect-go' }, 'Connect'))),
        el('div', { id: 'connect-result' }));
    }
    root.append(fs);
  }
};
const loadSettings = loaders.settings;
/* The values go to the server once and are cleared from the form whatever the answer;
 * the server answers what Amazon said and the values masked. */
async function connect() {
  const ids = ['connect-client-id', 'connect-client-secret', 'connect-refresh-token'];
  const [client_id, client_secret, refresh_token] = ids.map((i) => document.getElementById(i).value.trim());
  for (const i of ids.slice(1)) document.getElementById(i).value = '';
  const out = $('#connect-result');
  out.replaceChildren(el('p', { class: 'muted' }, 'Asking Amazon...'));
  try {
    const d = await api('POST', '/connect', { client_id, client_secret, refresh_token });
    await loadSettings();
    $('#connect-result').replaceChildren(el('p', { class: 'ok' }, d.said + '.'));
    say(d.said + '.');
  } catch (e) {
    if (e.status === 401) return;
    out.replaceChildren(el('p', { class: 'error' }, e.message));
    fail('Not connected: ' + e.message);
  }
}

/* ---- routing grid ---- */
let routingBranches = [];
function branchSelect(value, cls, allowNone) {
  const opts = allowNone ? [el('option', { value: '' }, '(none)')] : [];
  for (const b of routingBranches) opts.push(el('option', { value: b, selected: b === value }, b));
  if (value && !routingBranches.includes(value)) opts.push(el('option', { value, selected: true }, value));
  return el('select', { class: cls }, opts);
}
/* What a row catches, in words: the dashboard shows it beside each row so an empty row
 * cannot pass for a narrow one (the server refuses a row with no condition unless
 * "any order" is ticked). */
function catches(tr) {
  const c = split(tr.querySelector('.countries').value), st = split(tr.querySelector('.states').value),
        sh = split(tr.querySelector('.shipping').value), any = tr.querySelector('.any').checked;
  if (any) return c.length || st.length || sh.length ? 'tick "any order" or name conditions, not both' : 'ANY merchant-fulfilled order (catch-all)';
  if (!c.length && !st.length && !sh.length) return 'nothing yet: name a country, state or shipping option, or tick "any order"';
  const parts = [];
  if (c.length) parts.push('shipped to ' + c.join(' or '));
  if (st.length) parts.push('state ' + st.join(' or '));
  if (sh.length) parts.push('shipping ' + sh.join(' or '));
  return 'orders ' + parts.join(', ');
}
function routingRow(r) {
  const backups = r.backups || [];
  /* placeholders are examples in italics ("e.g. ..."), never something that reads as a value */
  const tr = el('tr', {},
    el('td', { class: 'n' }),
    el('td', {}, el('input', { class: 'countries', size: 10, value: listText(r.countries || []), placeholder: 'e.g. US, AU' })),
    el('td', {}, el('input', { class: 'states', size: 12, value: listText(r.states || []), placeholder: 'e.g. NY, NSW' })),
    el('td', {}, el('input', { class: 'shipping', size: 12, value: listText(r.shipping || []), placeholder: 'e.g. EXPEDITED, PRIME' })),
    el('td', {}, el('input', { type: 'checkbox', class: 'any', checked: !!r.any, title: 'a deliberate catch-all row: every merchant-fulfilled order that reaches it' })),
    el('td', {}, branchSelect(r.branch, 'branch', false)),
    el('td', {}, branchSelect(backups[0] || '', 'backup1', true)),
    el('td', {}, branchSelect(backups[1] || '', 'backup2', true)),
    el('td', { class: 'catches muted' }),
    el('td', {},
      el('button', { type: 'button', title: 'move up', onclick: () => { if (tr.previousElementSibling) tr.after(tr.previousElementSibling); number(); } }, '↑'),
      el('button', { type: 'button', title: 'move down', onclick: () => { if (tr.nextElementSibling) tr.before(tr.nextElementSibling); number(); } }, '↓'),
      el('button', { type: 'button', title: 'delete row', onclick: () => { tr.remove(); number(); } }, 'Delete')));
  const show = () => { tr.querySelector('.catches').textContent = catches(tr); };
  tr.addEventListener('input', show);
  tr.addEventListener('change', show);
  return tr;
}
function number() {
  [...document.querySelectorAll('#routing-table tbody tr')].forEach((tr, i) => {
    tr.querySelector('.n').textContent = i + 1;
    tr.querySelector('.catches').textContent = catches(tr);
  });
}
const split = (s) => s.split(',').map((x) => x.trim()).filter((x) => x);

loaders.routing = async function () {
  const d = await api('GET', '/routing');
  routingBranches = d.choices.branches;
  $('#routing-enabled').checked = d.enabled;
  $('#routing-nostock').value = d.no_stock;
  $('#routing-split').checked = d.split;
  $('#routing-default').textContent = d.default_branch ? 'the merchant-fulfilled branch, ' + d.default_branch : 'the merchant-fulfilled branch (not set)';
  const tb = $('#routing-table tbody');
  tb.replaceChildren(...(d.grid || []).map(routingRow));
  number();
  $('#routing-error').hidden = true;
  await loadTryOrders();
};
/* "Try it": the saved routing run on a stored order in the server's worker (rules never
 * run in a request), then the row and branch it lands on, from the jobs view. */
let tryTimer = null;
async function routingTry() {
  const ref = $('#try-order').value.trim();
  if (!ref) { fail('Name a stored order to route.'); return; }
  await guarded(async () => {
    await api('POST', '/routing/try', { order: ref });
    $('#try-result').textContent = 'routing order ' + ref + '...';
    clearTimeout(tryTimer);
    tryTimer = setTimeout(tryPoll, 300);
  });
}
async function tryPoll() {
  let r;
  try { r = (await api('GET', '/jobs')).run_now; } catch (e) { if (e.status !== 401) fail('Try: ' + e.message); return; }
  if (r.running && r.job === 'try') { tryTimer = setTimeout(tryPoll, 500); return; }
  const text = (r.result && r.result.message) || r.error || 'done';
  $('#try-result').textContent = text;
  $('#try-result').className = r.error ? 'error' : 'ok';
}
async function loadTryOrders() {
  const d = await api('GET', '/orders?limit=50');
  $('#try-orders').replaceChildren(...d.orders.map((o) => el('option', { value: o.order }, txt(o.country) + ' ' + txt(o.stage))));
}
async function saveRouting() {
  const grid = [...document.querySelectorAll('#routing-table tbody tr')].map((tr) => {
    const row = { countries: split(tr.querySelector('.countries').value), states: split(tr.querySelector('.states').value),
                  shipping: split(tr.querySelector('.shipping').value), branch: tr.querySelector('.branch').value,
                  backups: [tr.querySelector('.backup1').value, tr.querySelector('.backup2').value].filter((x) => x) };
    if (tr.querySelector('.any').checked) row.any = true;
    return row;
  });
  const box = $('#routing-error');
  box.hidden = true;
  try {
    await api('PUT', '/routing', { grid, enabled: $('#routing-enabled').checked, no_stock: $('#routing-nostock').value,
                                   split: $('#routing-split').checked });
    await loaders.routing();   /* the table shows what was stored before the message says so */
    say('Routing saved (' + grid.length + ' row' + (grid.length === 1 ? '' : 's') + ').');
  } catch (e) {
    if (e.status === 401) return;
    box.textContent = 'Not saved: ' + e.message;
    box.hidden = false;
    fail('Routing not saved: ' + e.message);
  }
}

/* ---- orders ---- */
let ordersPage = 1;
/* Orders per day over the last 30 days with orders, by stage or by branch (the toggle
 * above it; Chart.js, embedded from Debian's libjs-chart.js); the stages' colours follow
 * their meaning, the branches' a fixed palette in the document's order (by name). */
const stageColours = { open: '#3b7dd8', needs_attention: '#e0a020', rule_error: '#c0392b', rejected: '#7f1d1d',
  dispatched: '#2e8b57', cancelled: '#999999' };
const branchColours = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7',
  '#9c755f', '#bab0ac', '#1f77b4', '#8c564b', '#17becf', '#bcbd22', '#7f7f7f', '#d62728'];
async function drawOrdersChart() {
  if (!window.Chart) return;
  const d = await api('GET', '/charts/orders');
  const by = $('#orders-chart-by').value === 'branches' ? 'branches' : 'stages';
  const old = Chart.getChart('orders-chart');
  if (old) old.destroy();
  const series = Object.entries(d[by] || {}).map(([name, n], i) => ({ label: name, data: n,
    backgroundColor: by === 'stages' ? stageColours[name] : branchColours[i % branchColours.length] }));
  $('#orders-chart').setAttribute('aria-label', 'orders per day by ' + (by === 'stages' ? 'stage' : 'branch'));
  new Chart($('#orders-chart'), {
    type: 'bar',
    data: { labels: d.days, datasets: series },
    options: { animation: false, maintainAspectRatio: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
      plugins: { title: { display: true, text: 'Orders per day (created), by ' + (by === 'stages' ? 'stage' : 'branch') } } },
  });
}
loaders.orders = async function () {
  await drawOrdersChart();
  const q = new URLSearchParams({ page: ordersPage, limit: $('#f-limit').value });
  if ($('#f-stage').value) q.set('stage', $('#f-stage').value);
  if ($('#f-status').value) q.set('status', $('#f-status').value);
  if ($('#f-search').value.trim()) q.set('search', $('#f-search').value.trim());
  if ($('#f-from').value) q.set('from', $('#f-from').value);
  if ($('#f-to').value) q.set('to', $('#f-to').value);
  const d = await api('GET', '/orders?' + q);
  const tb = $('#orders-table tbody');
  tb.replaceChildren(...d.orders.map((o) => el('tr', { class: 'clickable', onclick: () => guarded(() => showOrder(o.order)) },
    el('td', {}, o.order), el('td', {}, o.split), el('td', {}, o.stage), el('td', {}, txt(o.status)), el('td', {}, txt(o.branch)),
    el('td', {}, o.total ? txt(o.total) + ' ' + txt(o.currency) : ''), el('td', {}, txt(o.customer)), el('td', {}, txt(o.country)),
    el('td', {}, txt(o.problem)), el('td', {}, txt(o.updated)), el('td', {}, txt(o.came_by)))));
  if (!d.orders.length) tb.append(el('tr', {}, el('td', { colspan: 11 }, 'No orders match.')));
  $('#orders-page').textContent = shown(d, d.orders.length, 'order');
  $('#orders-prev').disabled = d.page <= 1;
  $('#orders-next').disabled = !d.has_more;
};

/* "1-50 of 10,925 orders" (a capped total: "of at least ..."), as the CLI's footer says */
function shown(d, n, noun) {
  const total = d.total === undefined ? n : d.total, plural = total === 1 ? noun : noun + 's';
  if (!n) return total ? 'none on this page of ' + total.toLocaleString('en') + ' ' + plural : '';
  return (d.offset + 1).toLocaleString('en') + '-' + (d.offset + n).toLocaleString('en') + ' of ' +
    (d.total_capped ? 'at least ' : '') + total.toLocaleString('en') + ' ' + plural;
}

function kv(obj, keys) {
  return el('dl', { class: 'kv' }, keys.filter((k) => obj[k] !== null && obj[k] !== undefined && obj[k] !== '')
    .map((k) => [el('dt', {}, k), el('dd', {}, txt(obj[k]))]));
}

async function showOrder(ref) {
  const d = await api('GET', '/orders/' + encodeURIComponent(ref) + '/explain');
  const box = $('#order-detail');
  box.replaceChildren(el('h3', {}, 'Order ' + d.order));
  for (const s of d.splits) {
    box.append(el('h3', {}, 'Split ' + s.split + ': ' + s.stage),
      kv(s, ['status', 'branch', 'distribution_branch', 'fulfilled_by', 'service_level', 'marketplace', 'customer', 'customer_ref',
             'buyer_email', 'ship_name', 'ship_city', 'ship_state', 'ship_country', 'total', 'currency', 'gl_account',
             'invoice_no', 'invoice_date', 'attention', 'rule_error', 'pack_hash', 'created', 'updated', 'dispatched_at',
             'came_by']),
      el('table', {}, el('thead', {}, el('tr', {}, ['Line', 'SKU', 'Title', 'Qty', 'Dispatched', 'Kit'].map((h) => el('th', {}, h)))),
        el('tbody', {}, s.lines.map((l) => el('tr', {}, el('td', {}, l.line), el('td', {}, l.sku), el('td', {}, txt(l.title)),
          el('td', {}, l.qty), el('td', {}, l.dispatched), el('td', {}, l.kit_sku ? 'component of ' + l.kit_sku : (l.stock_bearing ? '' : 'kit')))))));
    if (s.shipments.length)
      box.append(el('p', {}, 'Shipments: ' + s.shipments.map((p) => p.carrier + ' ' + p.tracking + ' (' + p.confirm_state + ')').join('; ')));
  }
  box.append(el('h3', {}, 'Rule decisions'));
  if (!d.decisions.length) box.append(el('p', { class: 'muted' }, 'No decisions recorded.'));
  box.append(el('table', { id: 'decisions' }, el('thead', {}, el('tr', {}, ['When', 'Hook', 'Rule pack', 'Decision'].map((h) => el('th', {}, h)))),
    el('tbody', {}, d.decisions.map((a) => el('tr', {}, el('td', {}, a.at), el('td', {}, a.hook),
      el('td', {}, a.pack ? String(a.pack).slice(0, 12) : '-'), el('td', {}, el('pre', {}, JSON.stringify(a.decision, null, 1))))))));
  box.hidden = false;
  box.scrollIntoView({ block: 'nearest' });
}

/* ---- needs attention ---- */
/* The list narrowed by reason and/or SKU, a page at a time with its total; the bulk
 * action acts on everything the filter selects (not only the page shown) and says how
 * many orders it will change before it does. An order waiting for a product offers
 * "Link SKU to product": the alias releases every order waiting on that SKU. */
let attentionPage = 1, attentionData = null, productSkus = null;
const REASONS = { unknown_sku: 'waiting for a product (unknown SKU)', rule_error: 'rule error', rejected: 'rejected', other: 'other holds' };
async function loadProducts() {
  if (productSkus) return;
  const d = await api('GET', '/products?limit=500');
  productSkus = d.products;
  $('#product-skus').replaceChildren(...d.products.map((p) => el('option', { value: p.sku }, txt(p.name))));
}
loaders.attention = async function () {
  const q = new URLSearchParams({ page: attentionPage, limit: 50 });
  const reason = $('#a-reason').value, sku = $('#a-sku').value.trim();
  if (reason) q.set('reason', reason);
  if (sku) q.set('sku', sku);
  const d = await api('GET', '/attention?' + q);
  attentionData = d;
  if (d.unknown_sku) await loadProducts();
  /* the filter's choices, each with its count */
  const rsel = $('#a-reason');
  rsel.replaceChildren(el('option', { value: '' }, 'any reason'), ...Object.entries(REASONS).map(([k, w]) =>
    el('option', { value: k, selected: k === reason }, w + ' (' + (d.reasons[k] || 0).toLocaleString('en') + ')')));
  $('#a-skus').replaceChildren(...d.unknown_skus.map((u) => el('option', { value: u.sku }, u.orders + ' waiting')));
  const tb = $('#attention-table tbody');
  tb.replaceChildren(...d.orders.map((o) => {
    const sel = el('select', {}, d.choices.branches.map((b) => el('option', { value: b, selected: b === o.branch }, b)));
    const fixable = o.stage === 'needs_attention';
    const link = fixable && o.unknown_sku ? el('span', { class: 'link-sku' }, ' ',
      el('input', { class: 'link-product', list: 'product-skus', size: 14, placeholder: 'product SKU', 'aria-label': 'product for ' + o.unknown_sku }),
      el('button', { type: 'button', class: 'link-button', onclick: (ev) => linkSku(o.unknown_sku, ev.target.previousElementSibling.value) },
        'Link SKU ' + o.unknown_sku + ' to product')) : null;
    return el('tr', { 'data-order': o.order },
      el('td', {}, el('a', { href: '#orders', onclick: () => { showTab('orders'); guarded(() => showOrder(o.order)); } }, o.order)),
      el('td', {}, o.stage), el('td', {}, txt(o.problem)), el('td', {}, txt(o.branch)), el('td', {}, txt(o.customer)),
      el('td', {},
        fixable ? [sel, ' ',
          el('button', { type: 'button', onclick: () => fix(o.order, { branch: sel.value }) }, 'Set branch'), ' ',
          el('button', { type: 'button', onclick: () => fix(o.order, { branch: sel.value, resolve: true }) }, 'Resolve')] : null,
        ' ', el('button', { type: 'button', onclick: () => retry(o.order) }, 'Retry'), link));
  }));
  if (!d.orders.length) tb.append(el('tr', {}, el('td', { colspan: 6 }, reason || sku ? 'No held order matches.' : 'Nothing needs attention.')));
  /* a list that stops says so; the bulk retry covers what is not shown */
  const all = Object.values(d.reasons).reduce((a, b) => a + b, 0);
  $('#attention-count').textContent = all ? String(all) : '';
  $('#attention-shown').textContent = shown(d, d.orders.length, 'held order') + (d.orders.length ? ' (the newest first).' : '');
  if (d.unknown_sku) $('#attention-shown').textContent += ' ' + d.unknown_sku.toLocaleString('en') +
    ' wait for a product (an unknown SKU): link the SKU to a product, or import it and Retry.';
  $('#attention-prev').disabled = d.page <= 1;
  $('#attention-next').disabled = !d.has_more;
  bulkReset();
};
/* The bulk action: what it will change, then the change. Rule errors and unknown SKUs
 * can be retried; the other holds need a person (branch, Resolve). */
function bulkWhat() {
  const d = attentionData, reason = $('#a-reason').value, sku = $('#a-sku').value.trim();
  if (!d) return null;
  if (reason === 'other') return { n: 0, why: 'these need a person (Set branch or Resolve); a retry would not change them' };
  return { n: d.total, reason, sku,
           words: (reason ? REASONS[reason] : 'every reason') + (sku ? ', SKU ' + sku : '') };
}
function bulkReset() {
  $('#attention-bulk-confirm').hidden = true;
  const w = bulkWhat();
  $('#attention-retry-all').textContent = w && w.n ? 'Retry the ' + d_total(w.n) + ' selected (' + w.words + ')' : 'Retry held orders';
  $('#attention-retry-all').disabled = !w || !w.n;
}
const d_total = (n) => n.toLocaleString('en') + ' held order' + (n === 1 ? '' : 's');
function bulkAsk() {
  const w = bulkWhat();
  if (!w || !w.n) { say(w ? w.why : 'Nothing to retry.'); return; }
  $('#attention-bulk-text').textContent = 'This retries ' + d_total(w.n) + ' (' + w.words + '): each is stored again through the rules; ' +
    'those that pass are released. ';
  $('#attention-bulk-confirm').hidden = false;
}
async function bulkGo() {
  const w = bulkWhat();
  $('#attention-bulk-confirm').hidden = true;
  const q = new URLSearchParams();
  if (w.reason) q.set('reason', w.reason);
  if (w.sku) q.set('sku', w.sku);
  await retryStart('/attention/retry' + (q.toString() ? '?' + q : ''), 'Retry of ' + d_total(w.n) + ' (' + w.words + ')');
}
async function linkSku(sku, product) {
  product = (product || '').trim();
  if (!product) { fail('Choose the product that Amazon SKU ' + sku + ' is.'); return; }
  await guarded(async () => {
    const d = await api('POST', '/aliases', { sku, product });
    productSkus = null;
    if (!d.started) { await loaders.attention(); say('Amazon SKU ' + sku + ' linked to product ' + product + '; no order waited on it.'); return; }
    say('Amazon SKU ' + sku + ' linked to product ' + product + ': releasing the ' + d_total(d.waiting) + ' waiting on it...');
    $('#attention-retry-all').disabled = true;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(retryPoll, 500);
  });
}
async function fix(ref, body) {
  await guarded(async () => {
    const d = await api('POST', '/orders/' + encodeURIComponent(ref) + '/fix', body);
    await loaders.attention();
    say('Order ' + ref + ' is now ' + d.splits[0].stage + ' at ' + d.splits[0].branch + '.');
  });
}
/* The retry runs the rules in the server's background job: the POST answers at once,
 * then the jobs view is polled until that job has finished. The table is reloaded before
 * the result is said, as after a save. */
let retryTimer = null;
async function retry(ref) {
  await retryStart(ref ? '/orders/' + encodeURIComponent(ref) + '/retry' : '/attention/retry', 'Retry of ' + (ref ? 'order ' + ref : 'all held orders'));
}
async function retryStart(path, what) {
  await guarded(async () => {
    await api('POST', path, {});
    $('#attention-retry-all').disabled = true;
    say(what + ' started: the rules run in the background...');
    clearTimeout(retryTimer);
    retryTimer = setTimeout(retryPoll, 500);
  });
}
async function retryPoll() {
  let r;
  try { r = (await api('GET', '/jobs')).run_now; } catch (e) {
    $('#attention-retry-all').disabled = false;
    if (e.status !== 401) fail('Retry: ' + e.message);
    return;
  }
  if (r.running && r.job === 'retry') { retryTimer = setTimeout(retryPoll, 1000); return; }
  bulkReset();
  if (current !== 'attention') return;         /* the result stays in Sync status */
  await guarded(loaders.attention);
  const text = 'Retry finished: ' + ((r.result && r.result.message) || r.error || 'done');
  if (r.error) fail(text); else say(text);
}

/* ---- dispatch & tracking ---- */
loaders.dispatch = async function () {
  const d = await api('GET', '/dispatch');
  $('#dispatch-auto').textContent = d.auto_update_status
    ? 'Auto Update Order Status is on: dispatched orders are confirmed to Amazon automatically.'
    : 'Auto Update Order Status is off: press the button to confirm dispatched orders and tracking to Amazon.';
  const c = Object.entries(d.confirm_states);
  $('#dispatch-counts').textContent = c.length ? c.map(([k, v]) => k + ': ' + v).join(', ') : 'No shipments yet.';
  $('#dispatch-table tbody').replaceChildren(...d.shipments.map((s) => el('tr', {}, el('td', {}, s.order), el('td', {}, txt(s.branch)),
    el('td', {}, txt(s.carrier)), el('td', {}, txt(s.tracking)), el('td', {}, txt(s.shipped_at)), el('td', {}, txt(s.confirm_state)))));
};
async function updateDispatched() {
  const out = $('#dispatch-result');
  out.replaceChildren();
  const b = $('#update-dispatched');
  b.disabled = true;
  try {
    const d = await api('POST', '/update-dispatched', {});
    const text = 'Update Dispatched Orders: ' + (d.message || Object.entries(d).map(([k, v]) => k + ' ' + txt(v)).join(', '));
    out.append(el('p', { class: 'ok' }, text));
    await loaders.dispatch();
    say(text);
  } catch (e) {
    if (e.status !== 401) { out.append(el('p', { class: 'error' }, e.message)); fail(e.message); }
  } finally { b.disabled = false; }
}

/* ---- sync status ---- */
let jobsTimer = null;
/* sync health over time: per hour, the checks, what they and the notifications brought,
 * failures and Amazon's rate-limit pauses */
async function drawSyncChart() {
  if (!window.Chart) return;
  const d = await api('GET', '/charts/sync');
  const old = Chart.getChart('sync-chart');
  if (old) old.destroy();
  const line = (label, data, colour) => ({ type: 'line', label, data, borderColor: colour, backgroundColor: colour, yAxisID: 'y' });
  new Chart($('#sync-chart'), {
    type: 'bar',
    data: { labels: d.hours.map((h) => h.replace('T', ' ') + 'h'), datasets: [
      { label: 'orders by the download', data: d.downloaded, backgroundColor: '#4e79a7', stack: 'o' },
      { label: 'orders by notifications', data: d.notified, backgroundColor: '#59a14f', stack: 'o' },
      line('checks', d.checks, '#9c755f'), line('failed runs', d.failed, '#e15759'),
      line('paused by Amazon', d.paused, '#f28e2b'),
      { label: 'stock levels accepted', data: d.stock_accepted, backgroundColor: '#76b7b2', stack: 's' },
      { label: 'stock levels refused', data: d.stock_refused, backgroundColor: '#ff9da7', stack: 's' }] },
    options: { animation: false, maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      plugins: { title: { display: true, text: 'Sync health per hour (UTC)' } } },
  });
}

loaders.jobs = async function () {
  await drawSyncChart();
  const d = await api('GET', '/jobs');
  const s = d.schedule;
  $('#jobs-schedule').replaceChildren(el('p', {},
    'Orders download ' + (s['orders.enabled'] ? 'on' : 'off') + '; automatic checks ' + (s['orders.auto_download'] ? 'on, starting daily at ' +
    s['orders.auto_download_start'] + ' (' + s['integration.timezone'] + ')' : 'off') + '. Watermark: ' + (s['orders.last_updated'] || 'not set') + '.'));
  /* Amazon's notifications: whether they arrive (the same as `sellerbridge notifications status`) */
  const nt = await api('GET', '/notifications');
  const nn = nt.notifications;
  $('#jobs-notify').replaceChildren(el('p', { class: nt.health === 'failing' ? 'error' : nt.health === 'arriving' ? 'ok' : '' },
    'Notifications: ' + nt.health + (nt.enabled ? '. Last received ' + (nn.last_received || 'never') +
      (nn.last_lag_ms !== null ? ', ' + nn.last_lag_ms + ' ms from Amazon to the stored order' : '') + '; ' +
      nn.duplicates + ' sent twice by Amazon, ' + nn.failed + ' failed, ' + nn.poison + ' set aside. Orders by notification ' +
      nt.orders_by.notification + ', by the scheduled download ' + nt.orders_by.download +
      (nt.last_read.error ? '. Last read: ' + nt.last_read.error : '') : ' (see Settings, Notifications).')));
  /* what each job is doing now: the engine's status (the same as `sellerbridge status`) */
  const stat = await api('GET', '/status');
  const mine = (stat.integrations || []).find((x) => x.integration === integrationName) || (stat.integrations || [])[0] || { jobs: [] };
  const state = (name) => {
    const j = (mine.jobs || []).find((x) => x.job === name);
    if (!j) return '';
    if (j.state === 'waiting') return 'waiting for ' + txt(j.waiting_for) + ' until ' + txt(j.waiting_until);
    if (j.state === 'running') return 'running since ' + txt(j.since);
    return j.state;
  };
  $('#jobs-engine').replaceChildren(el('p', { class: stat.engine.running ? 'ok' : 'error' },
    stat.engine.running ? 'The engine is running.' : 'The engine is not running: start it with sellerbridge run.'),
    ...(mine.warning ? [el('p', { class: 'error' }, mine.warning)] : []));
  const tb = $('#jobs-table tbody');
  tb.replaceChildren(...d.jobs.map((j) => el('tr', {}, el('td', {}, j.job), el('td', { class: 'job-state' }, state(j.job)),
    el('td', {}, txt(j.last_run_at)), el('td', {}, txt(j.last_success_at)),
    el('td', { class: 'next-check' }, j.next_check_at || (s['orders.auto_download'] ? 'when the engine (sellerbridge run) is running' : 'not scheduled')),
    el('td', {}, j.empty_streak), el('td', {}, j.last_counts ? Object.entries(j.last_counts).map(([k, v]) => k + ' ' + v).join(', ') : ''),
    el('td', { class: 'error' }, txt(j.last_error)))));
  if (!d.jobs.length) tb.append(el('tr', {}, el('td', { colspan: 8 }, 'No job has run yet.')));
  const r = d.run_now;
  const st = $('#jobs-run-status');
  st.replaceChildren();
  const what = r.job === 'retry' ? 'Retrying held orders' : 'Downloading orders';
  if (r.running) st.append(el('p', { id: 'jobs-progress' }, what + ' since ' + r.started + '...' +
    (r.result && r.result.pages ? ' page ' + r.result.pages + ': ' + r.result.fetched + ' orders read, ' + r.result.created +
      ' new, ' + r.result.updated + ' updated, ' + r.result.held + ' need attention' : '')));
  else if (r.finished) st.append(el('p', { class: r.error ? 'error' : 'ok' },
    'Last ' + (r.job === 'retry' ? 'retry' : 'run') + ' from here finished ' + r.finished + ': ' +
    (r.result && r.result.message ? r.result.message
      : r.error ? r.error : Object.entries(r.result || {}).map(([k, v]) => k + ' ' + txt(v)).join(', '))));
  $('#jobs-run').disabled = r.running;
  clearTimeout(jobsTimer);
  if (r.running && current === 'jobs') jobsTimer = setTimeout(() => guarded(loaders.jobs), 1000);
};
async function runNow() {
  await guarded(async () => {
    await api('POST', '/jobs/orders/run', {});
    say('Order download started.');
    await loaders.jobs();
  });
}

/* ---- stock ---- */
loaders.stock = async function () {
  const d = await api('GET', '/stock' + ($('#stock-errors').checked ? '?errors=1' : ''));
  const c = Object.entries(d.counts);
  $('#stock-counts').textContent = c.length ? 'Last upload per SKU: ' + c.map(([k, v]) => k + ' ' + v).join(', ') : 'No stock has been sent yet.';
  $('#stock-table tbody').replaceChildren(...d.items.map((i) => el('tr', {}, el('td', {}, i.sku), el('td', {}, txt(i.quantity)),
    el('td', {}, txt(i.latency)), el('td', {}, txt(i.sent_at)), el('td', {}, txt(i.status)), el('td', { class: 'error' }, txt(i.error)))));
};

/* ---- rules ---- */
/* The server checks the pack in the background: while "checking" it shows the last
 * result (maybe of an earlier edit) and the page asks again. */
let rulesTimer = null;
loaders.rules = async function () {
  const d = await api('GET', '/rules');
  const box = $('#rules-info');
  clearTimeout(rulesTimer);
  box.replaceChildren();
  if (d.checking) {
    box.append(el('p', { id: 'rules-checking', class: 'muted' }, 'checking the rule pack...' +
      (d.checked_at ? ' (below: the check of ' + d.checked_at + ')' : '')));
    if (current === 'rules') rulesTimer = setTimeout(() => guarded(loaders.rules), 1000);
  }
  if (d.ok === null) return;
  box.append(kv({ pack: d.checked_pack, name: d.name, 'active hash': d.hash, loads: d.ok ? 'yes' : 'no', checked: d.checked_at },
                ['pack', 'name', 'active hash', 'loads', 'checked']));
  if (d.errors.length) box.append(el('h3', {}, 'Load errors'), el('pre', { class: 'error' }, d.errors.join('\n')));
  const by = Object.entries(d.orders_by_pack);
  if (by.length) box.append(el('h3', {}, 'Stored orders by rule pack version'),
    el('dl', { class: 'kv' }, by.map(([h, n]) => [el('dt', {}, h.slice(0, 16)), el('dd', {}, n + (h === d.hash ? ' (active)' : ''))])));
};

/* ---- start ---- */
let integrationName = null;     /* the integration this dashboard shows (from /summary) */
async function start() {
  say('');
  $('#login').hidden = true;
  const s = await guarded(() => api('GET', '/summary'));
  if (!s) return;
  $('#main').hidden = false;
  integrationName = s.integration;
  $('#integration').textContent = '· ' + s.integration + ' · v' + s.version;
  const clock = s.amazon_clock;   /* Amazon's time minus this machine's, from its answers */
  if (clock && Math.abs(clock.skew_ms) >= 1000) {
    const sec = Math.round(Math.abs(clock.skew_ms) / 1000);
    $('#integration').textContent += " · Amazon's clock " + sec + ' s ' + (clock.skew_ms < 0 ? 'behind' : 'ahead') +
      (Math.abs(clock.skew_ms) > 5000 ? ': set this machine\'s clock (NTP)' : '');
  }
  const held = s.stages.needs_attention + s.stages.rule_error + s.stages.rejected;
  $('#attention-count').textContent = held ? String(held) : '';
  const want = location.hash.slice(1);
  showTab(loaders[want] ? want : 'settings');
}

document.addEventListener('DOMContentLoaded', () => {
  const m = /(?:^#|&)token=([0-9a-fA-F]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem('sb_token', m[1]);
    history.replaceState(null, '', location.pathname + location.search);
  }
  for (const b of document.querySelectorAll('#tabs button')) b.addEventListener('click', () => showTab(b.dataset.tab));
  $('#login-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    sessionStorage.setItem('sb_token', $('#token').value.trim());
    $('#token').value = '';
    start();
  });
  $('#routing-add').addEventListener('click', () => {
    $('#routing-table tbody').append(routingRow({ countries: [], branch: routingBranches[0] || '' }));
    number();
  });
  $('#routing-save').addEventListener('click', saveRouting);
  $('#routing-try').addEventListener('submit', (ev) => { ev.preventDefault(); routingTry(); });
  $('#orders-filter').addEventListener('submit', (ev) => { ev.preventDefault(); ordersPage = 1; guarded(loaders.orders); });
  $('#orders-chart-by').addEventListener('change', () => guarded(drawOrdersChart));
  $('#orders-prev').addEventListener('click', () => { ordersPage = Math.max(1, ordersPage - 1); guarded(loaders.orders); });
  $('#orders-next').addEventListener('click', () => { ordersPage++; guarded(loaders.orders); });
  $('#f-open').addEventListener('click', () => { const r = $('#f-ref').value.trim(); if (r) guarded(() => showOrder(r)); });
  $('#attention-retry-all').addEventListener('click', bulkAsk);
  $('#attention-bulk-go').addEventListener('click', bulkGo);
  $('#attention-bulk-cancel').addEventListener('click', bulkReset);
  $('#attention-filter').addEventListener('submit', (ev) => { ev.preventDefault(); attentionPage = 1; guarded(loaders.attention); });
  $('#attention-prev').addEventListener('click', () => { attentionPage = Math.max(1, attentionPage - 1); guarded(loaders.attention); });
  $('#attention-next').addEventListener('click', () => { attentionPage++; guarded(loaders.attention); });
  $('#update-dispatched').addEventListener('click', updateDispatched);
  $('#jobs-run').addEventListener('click', runNow);
  $('#stock-errors').addEventListener('change', () => guarded(loaders.stock));
  window.addEventListener('hashchange', () => { const t = location.hash.slice(1); if (loaders[t] && t !== current) showTab(t); });
  if (token()) start(); else showLogin('');
});
