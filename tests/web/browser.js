// browser.js: the dashboard walk-through for browser.sh (playwright-core + Debian chromium).
// Env: SB_URL, SB_TOKEN, SB_CHROMIUM, SB_PROFILE (fresh user-data-dir), SB_SHOT, SB_SIM (the
// simulator the demo database downloads from).
'use strict';
const { chromium } = require('playwright-core');

const env = (k) => { if (!process.env[k]) throw new Error(k + ' is not set'); return process.env[k]; };

function check(cond, what) {
  if (!cond) throw new Error('check failed: ' + what);
  console.log('ok - ' + what);
}

(async () => {
  const ctx = await chromium.launchPersistentContext(env('SB_PROFILE'), {
    executablePath: env('SB_CHROMIUM'),
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  const errors = [];
  const page = ctx.pages()[0] || await ctx.newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  // refused API calls (400, 501) are part of the walk; anything else logged as an error is not
  page.on('console', (m) => { if (m.type() === 'error' && !/status of (400|501)/.test(m.text())) errors.push(m.text()); });
  page.setDefaultTimeout(15000);
  try {
    await page.goto(env('SB_URL') + '#token=' + env('SB_TOKEN'));
    await page.waitForSelector('#section-Additional');
    check(!page.url().includes(env('SB_TOKEN')), 'the token is removed from the address bar');
    for (const sec of ['Products', 'Stock', 'Orders', 'Additional', 'Integration'])
      check(await page.locator('#section-' + sec).count() === 1, 'settings section ' + sec);
    const creds = await page.locator('#section-Integration dl').innerText();
    check(creds.includes('sim-****'), 'credentials are shown masked: ' + creds.replace(/\n/g, ' '));
    check(!(await page.content()).includes(env('SB_SECRET')), 'the secret is not on the page');

    // a refused value: the API's message next to the field and in the banner
    await page.fill('#set-additional-fulfillment_latency', '31');
    await page.click('#save-Additional');
    const fieldErr = page.locator('.field[data-name="additional.fulfillment_latency"] .error');
    await fieldErr.filter({ hasText: 'out of range' }).waitFor();
    const msg = await fieldErr.innerText();
    check(msg.includes("additional.fulfillment_latency: '31' is not allowed: out of range (allowed: a whole number from 1 to 30)"),
          'latency 31 refused with the CLI message: ' + msg);
    check((await page.locator('#msg').innerText()).includes('Not saved'), 'the banner says not saved');

    // the drop-downs speak the settings page
    check((await page.locator('#set-stock-formula option[value=etd7]').innerText()) === 'SOH Less Open Orders within 7 days of ETD',
          'stock.formula offers the page\'s words');
    check((await page.locator('#set-orders-customer_mode').innerText()).includes('Assign to selected customer'),
          'the customer modes are the page\'s six sentences');
    // labels and help are the page's; the daily start is a time picker
    const formula = page.locator('.field[data-name="stock.formula"]');
    check((await formula.locator('label').innerText()).startsWith('Stock Levels To Update To Amazon'), 'stock.formula has the page\'s label');
    check((await formula.locator('.help').innerText()).includes('stock you can dispatch without disappointing other customers'),
          'the page\'s help text is beside the option');
    check(await page.locator('#set-orders-auto_download_start').getAttribute('type') === 'time', 'the daily start is a time picker');
    // a good change, found by the page's label
    await page.getByLabel('Stock Levels To Update To Amazon').selectOption('soh');
    await page.click('#save-Stock');
    await page.locator('#msg', { hasText: 'Saved stock.formula' }).waitFor();
    check(true, 'stock.formula saved');

    // notifications setup from its section: nothing set up on this database, so each
    // missing thing is named with the command that sets it, and notifications stay off
    await page.click('#notify-setup');
    await page.locator('#notify-setup-message').waitFor();
    const setup = await page.locator('#notify-setup-result').innerText();
    check(setup.includes('FAILED') && setup.includes('sellerbridge credentials set aws.access_key_id') &&
          setup.includes('not run'), 'notifications setup says what is missing: ' + setup.slice(0, 200).replace(/\n/g, ' '));

    // the routing grid: edit row 1 (countries and a backup branch), save
    await page.click('button[data-tab=routing]');
    await page.waitForSelector('#routing-table tbody tr');
    const row = page.locator('#routing-table tbody tr').first();
    await row.locator('input.countries').fill('US, CA');
    await row.locator('input.states').fill('');
    const branches = await row.locator('select.backup2 option').allInnerTexts();
    await row.locator('select.backup2').selectOption(branches[branches.length - 1]);
    await page.click('#routing-save');
    await page.locator('#msg', { hasText: 'Routing saved' }).waitFor();
    check(true, 'routing row edited and saved');
    // try it: the saved routing on a stored order says the row and the branch it lands on
    await page.fill('#try-order', '250-0000007-0000007');
    await page.click('#routing-try button[type=submit]');
    await page.locator('#try-result', { hasText: 'lands on' }).waitFor({ timeout: 60000 });
    const landed = await page.locator('#try-result').innerText();
    check(/order 250-0000007-0000007 lands on Sydney \(grid row \d+/.test(landed), 'try it routes the order shipped to Australia: ' + landed);
    // a refused grid: states with a country that has none
    await row.locator('input.countries').fill('DE');
    await row.locator('input.states').fill('BY');
    await page.click('#routing-save');
    await page.locator('#routing-error', { hasText: 'Not saved' }).waitFor();
    check(true, 'bad routing row refused: ' + await page.locator('#routing-error').innerText());
    // a row emptied of every condition would catch every order: refused, and it says why
    check((await row.locator('td.catches').innerText()).length > 0, 'the row says what it catches');
    await row.locator('input.countries').fill('');
    await row.locator('input.states').fill('');
    await row.locator('input.shipping').fill('');
    check((await row.locator('td.catches').innerText()).includes('nothing yet'), 'an emptied row says it catches nothing yet');
    await page.click('#routing-save');
    await page.locator('#routing-error', { hasText: 'row 1 names no countries, states or shipping options' }).waitFor();
    check(true, 'emptied routing row refused: ' + await page.locator('#routing-error').innerText());

    // orders and an order's rule decisions
    await page.click('button[data-tab=orders]');
    await page.waitForSelector('#orders-table tbody tr.clickable');
    // the orders-per-day chart is drawn, with the demo's orders in it
    await page.waitForFunction(() => window.Chart && Chart.getChart('orders-chart'));
    const bars = await page.evaluate(() => Chart.getChart('orders-chart').data.datasets
      .reduce((n, d) => n + d.data.reduce((a, v) => a + v, 0), 0));
    check(bars > 0, 'the orders chart is drawn with ' + bars + ' orders');
    // the same days by branch: every branch the demo's orders went to, the same total
    await page.selectOption('#orders-chart-by', 'branches');
    await page.waitForFunction(() => Chart.getChart('orders-chart') &&
      Chart.getChart('orders-chart').data.datasets.some((d) => d.label === 'LA Warehouse'));
    const br = await page.evaluate(() => Chart.getChart('orders-chart').data.datasets
      .map((d) => [d.label, d.data.reduce((a, v) => a + v, 0)]));
    const brTotal = br.reduce((a, [, n]) => a + n, 0);
    const names = br.map(([name]) => name);
    check(brTotal === bars && ['LA Warehouse', 'NJ Warehouse', 'Sydney', 'Amazon FBA'].every((b) => names.includes(b)),
          'the orders chart by branch: ' + br.map(([b, n]) => b + ' ' + n).join(', '));
    await page.selectOption('#orders-chart-by', 'stages');
    await page.waitForFunction(() => Chart.getChart('orders-chart') &&
      Chart.getChart('orders-chart').data.datasets.some((d) => d.label === 'open'));
    await page.locator('#orders-table tbody tr.clickable').first().click();
    await page.waitForSelector('#decisions');
    check(await page.locator('#order-detail h3').count() > 1, 'order detail with its splits and decisions');
    await page.selectOption('#f-stage', 'needs_attention');
    await page.click('#orders-filter button[type=submit]');
    await page.waitForTimeout(300);

    // needs attention: the list with its total
    await page.click('button[data-tab=attention]');
    await page.waitForSelector('#attention-table tbody tr');
    check(/^1-\d+ of \d+ held orders/.test(await page.locator('#attention-shown').innerText()),
          'the attention list says what it shows of how many: ' + await page.locator('#attention-shown').innerText());
    // link the unknown SKU to a product: its order is released
    const held = page.locator('#attention-table tbody tr[data-order="' + env('SB_UNKNOWN_ORDER') + '"]');
    await held.locator('input.link-product').fill('MUG-BLK-12');
    await held.locator('button.link-button').click();
    await page.locator('#msg', { hasText: 'Retry finished: ' }).waitFor({ timeout: 60000 });
    check(/1 of 1 held order now passes/.test(await page.locator('#msg').innerText()),
          'the link released its order: ' + await page.locator('#msg').innerText());
    check(await held.count() === 0, 'the released order left the list');
    // bulk-fix a reason: the count of what will change first, then the change
    await page.selectOption('#a-reason', 'rule_error');
    await page.click('#attention-filter button[type=submit]');
    await page.locator('#attention-retry-all', { hasText: 'Retry the 1 held order selected (rule error)' }).waitFor();
    await page.click('#attention-retry-all');
    const ask = await page.locator('#attention-bulk-text').innerText();
    check(ask.includes('This retries 1 held order (rule error)'), 'the bulk action says what it will change: ' + ask);
    // the link's own 'Retry finished' is still shown: clear it, so the wait below is for this retry's
    await page.evaluate(() => { document.getElementById('msg').textContent = ''; });
    await page.click('#attention-bulk-go');
    await page.locator('#msg', { hasText: 'Retry finished: ' }).waitFor({ timeout: 60000 });
    const retried = await page.locator('#msg').innerText();
    check(/held orders? now pass/.test(retried), 'the bulk retry result is shown: ' + retried);
    check((await page.locator('#a-reason option[value=rule_error]').innerText()).includes('(0)'), 'no rule error is left');

    // the rule pack: checked in the background, then shown
    await page.click('button[data-tab=rules]');
    await page.locator('#rules-info dl', { hasText: 'loads' }).waitFor({ timeout: 60000 });
    const rules = await page.locator('#rules-info').innerText();
    check(rules.includes('default') && rules.includes('yes'), 'the rule pack check is shown: ' + rules.replace(/\n/g, ' '));

    // dispatch & tracking: Update Dispatched Orders gives a visible answer
    await page.click('button[data-tab=dispatch]');
    await page.click('#update-dispatched');
    await page.waitForSelector('#dispatch-result p');
    const upd = await page.locator('#dispatch-result').innerText();
    check(upd.includes(process.env.SB_EXPECT_DISPATCH || ''), 'Update Dispatched Orders answered: ' + upd);
    await page.locator('#dispatch-table', { hasText: '1Z999AA10123456784' }).waitFor();
    check(true, 'the shipment is listed with its tracking number');

    // sync status with the next scheduled check
    await page.click('button[data-tab=jobs]');
    await page.waitForSelector('#jobs-table tbody tr');
    check((await page.locator('#jobs-schedule').innerText()).includes('Orders download'), 'sync status shows the schedule');
    check(/engine is (not )?running/.test(await page.locator('#jobs-engine').innerText()), 'sync status says whether the engine runs');
    check(/^Notifications: off/.test(await page.locator('#jobs-notify').innerText()), 'sync status says the notifications are off on the demo');
    // the sync-health chart is drawn with the demo's checks in it
    await page.waitForFunction(() => window.Chart && Chart.getChart('sync-chart'));
    const health = await page.evaluate(() => {
      const c = Chart.getChart('sync-chart').data.datasets;
      const sum = (label) => c.find((x) => x.label === label).data.reduce((a, v) => a + v, 0);
      return { checks: sum('checks'), downloaded: sum('orders by the download') };
    });
    check(health.checks >= 3 && health.downloaded > 0, 'the sync-health chart shows ' + health.checks + ' checks and ' + health.downloaded + ' orders downloaded');
    check((await page.locator('#jobs-table thead').innerText()).includes('State'), 'each job shows its state');

    await page.click('button[data-tab=settings]');
    await page.waitForSelector('#section-Additional');
    check(!(await page.content()).includes(env('SB_SECRET')), 'still no secret on the page');
    // the picture for the README: the orders with their chart
    await page.click('button[data-tab=orders]');
    await page.selectOption('#f-stage', '');
    await page.click('#orders-filter button[type=submit]');
    await page.evaluate(() => { document.getElementById('order-detail').hidden = true; });
    await page.waitForFunction(() => window.Chart && Chart.getChart('orders-chart'));
    await page.locator('#orders-page', { hasText: 'of 7 orders' }).waitFor();
    await page.screenshot({ path: env('SB_SHOT') });
    check(true, 'screenshot ' + env('SB_SHOT'));
    // a download from the dashboard, watched while it runs: Amazon has 150 new orders, two
    // pages, and answers the second page 8 s late (the simulator's `delay` fault), so the
    // progress of page 1 is on the page while the download waits for page 2
    const sim = env('SB_SIM');
    const at = new Date(Date.now() - 10 * 60 * 1000).toISOString();
    const orders = Array.from({ length: 150 }, (_, i) => {
      const id = '113-' + String(i).padStart(7, '0') + '-' + String(i).padStart(7, '0');
      return { orderId: id, createdTime: at, lastUpdatedTime: at,
        salesChannel: { channelName: 'AMAZON', marketplaceId: 'ATVPDKIKX0DER' },
        fulfillment: { fulfillmentStatus: 'UNSHIPPED', fulfilledBy: 'MERCHANT', fulfillmentServiceLevel: 'STANDARD' },
        buyer: { buyerName: 'Buyer ' + i, buyerEmail: 'buyer' + i + '@marketplace.amazon.com' },
        recipient: { deliveryAddress: { name: 'Buyer ' + i, addressLine1: i + ' Main St', city: 'Austin',
          stateOrRegion: 'TX', postalCode: '73301', countryCode: 'US' } },
        proceeds: { grandTotal: { amount: '12.50', currencyCode: 'USD' } },
        orderItems: [{ orderItemId: 'I' + i, quantityOrdered: 1, product: { sellerSku: 'SPOON-SET-4', asin: 'B0C5SPOON4',
          title: 'Spoons', price: { unitPrice: { amount: '12.50', currencyCode: 'USD' } } } }] };
    });
    const post = async (path, body) => {
      const r = await fetch(sim + path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      if (!r.ok) throw new Error('simulator ' + path + ': ' + r.status + ' ' + await r.text());
    };
    await post('/_sim/orders', orders);
    await post('/_sim/faults', { op: 'searchOrders', kind: 'delay', delay_ms: 8000, skip: 1, count: 1 });
    await page.click('button[data-tab=jobs]');
    await page.waitForSelector('#jobs-table tbody tr');
    await page.click('#jobs-run');
    // polled (the page asks every second while it runs; this looks every 100 ms, 300 times at most)
    await page.waitForFunction(() => /page 1: 100 orders read/.test((document.getElementById('jobs-progress') || {}).textContent || ''),
      null, { polling: 100, timeout: 30000 });
    const progress = await page.locator('#jobs-progress').innerText();
    check(/^Downloading orders since .*page 1: 100 orders read, \d+ new/.test(progress) && await page.locator('#jobs-run').isDisabled(),
          'the running download shows its progress: ' + progress);
    await page.locator('#jobs-run-status p.ok', { hasText: 'Last run from here finished' }).waitFor({ timeout: 60000 });
    const done = await page.locator('#jobs-run-status').innerText();
    check(/pages 2, fetched 150, created 150,/.test(done) && !(await page.locator('#jobs-run').isDisabled()),
          'the download\'s result: ' + done);
    check(errors.length === 0, 'no script errors on the page' + (errors.length ? ': ' + errors.join('; ') : ''));
  } finally {
    await ctx.close();
  }
})().catch((e) => { console.error('FAIL: ' + (e && e.stack || e)); process.exit(1); });
