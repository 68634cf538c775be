// The daily paths of the customer manager and the analyst, a session that times out and comes
// back to the page after signing in again, and a screenshot of each main page at 1366×768
// (no horizontal scrolling, every input labelled).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKefu, startBrowser, screenshotPath, signIn, overflowsX, DEMO_PASSWORD } from '../lib/kefu.js';

let kefu;
let browser;

// Short logins, so the timeout test need not wait long.
const SESSION_SECONDS = 20;

before(async () => {
  kefu = await startKefu({ env: { KEFU_SESSION_TTL_SECONDS: String(SESSION_SECONDS) } });
  browser = await startBrowser();
});

after(async () => {
  await browser?.close();
  await kefu?.stop();
});

async function unlabelled(page) {
  return page.$$eval('input:not([type=hidden]), select, textarea', (els) => els
    .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
    .map((el) => el.name));
}

async function shot(page, name) {
  assert.equal(await overflowsX(page), false, `${name}: fits 1366 px`);
  assert.deepEqual(await unlabelled(page), [], `${name}: every input has a label`);
  await page.screenshot({ path: screenshotPath(`main-${name}`), fullPage: false });
}

test('a customer manager finds a customer and records an appeal for them', async () => {
  const { context, page } = await signIn(browser, kefu.url, 'manager1');
  assert.match(await page.textContent('[data-testid=roles]'), /客户经理/);
  await page.goto(`${kefu.url}/ui/workbench?by=name&q=${encodeURIComponent('王')}`);
  await shot(page, 'workbench-search');
  const first = await page.$eval('[data-testid=results] tbody tr', (tr) => ({
    href: tr.querySelector('td:nth-child(2) a').getAttribute('href'),
    phone: tr.querySelector('td:nth-child(4)').textContent,
  }));
  assert.doesNotMatch(first.phone, /\*/, 'a customer manager sees the real numbers');
  await page.click(`[data-testid=results] a[href="${first.href}"]`);
  await page.waitForSelector('[data-testid=form-intake]');
  await shot(page, 'customer');
  await page.selectOption('[data-testid=form-intake] select[name=channel]', 'customer_manager');
  // The live hints: a keyword of the major rules is flagged while typing, and goes away.
  const hints = '[data-testid=form-intake] [data-testid=intake-hints]';
  await page.selectOption('[data-testid=form-intake] select[name=sub_category]', 'complaint.outage');
  await page.fill('[data-testid=form-intake] textarea[name=content]', '客户说邻居家有人触电');
  await page.waitForFunction((sel) => /重大/.test(document.querySelector(sel).textContent), hints);
  assert.match(await page.textContent(hints), /触电/);
  await page.screenshot({ path: screenshotPath('main-intake-live-hint') });
  await page.selectOption('[data-testid=form-intake] select[name=sub_category]', 'service_request.meter_check');
  await page.fill('[data-testid=form-intake] textarea[name=content]', '客户对上月电表读数有疑问，申请校验电表');
  await page.waitForFunction((sel) => document.querySelector(sel).textContent.trim() === '', hints);
  await page.click('[data-testid=form-intake] button[type=submit]');
  await page.waitForSelector('[data-testid=order-number]');
  assert.equal((await page.textContent('[data-testid=order-state]')).trim(), '待派单');
  assert.match(await page.textContent('main'), /客户经理/);
  await shot(page, 'order');
  await context.close();
});

test('an analyst reads the board and the lists with masked numbers and changes nothing', async () => {
  const { context, page } = await signIn(browser, kefu.url, 'analyst1');
  await page.click('[data-testid=nav-board]');
  await page.waitForSelector('[data-testid=board]');
  assert.match(await page.textContent('[data-testid=board]'), /杭州/);
  await shot(page, 'board');
  await page.goto(`${kefu.url}/ui/orders`);
  await shot(page, 'orders');
  // Sorting is part of the URL, so a sorted list can be shared.
  await page.selectOption('[data-testid=sort]', 'oldest');
  await page.click('form.filters button[type=submit]');
  await page.waitForLoadState('load');
  assert.match(page.url(), /sort=oldest/);
  assert.equal(await page.inputValue('[data-testid=sort]'), 'oldest');
  assert.ok(await page.$('[data-testid=export]'), 'the list exports');
  await page.goto(`${kefu.url}/ui/workbench?by=name&q=${encodeURIComponent('王')}`);
  const phone = await page.$eval('[data-testid=results] tbody tr td:nth-child(4)', (td) => td.textContent);
  assert.match(phone, /\*\*\*\*/, 'an analyst sees masked numbers');
  const href = await page.$eval('[data-testid=results] tbody tr td:nth-child(2) a', (a) => a.getAttribute('href'));
  await page.goto(`${kefu.url}${href}`);
  assert.equal(await page.$('[data-testid=form-intake]'), null, 'an analyst takes no appeals');
  await context.close();
});

test('a timed-out session goes to sign-in and comes back to the page', async () => {
  const { context, page } = await signIn(browser, kefu.url, 'supervisor1');
  const target = '/ui/orders?state=pending_dispatch';
  await page.goto(`${kefu.url}${target}`);
  assert.ok(await page.$('[data-testid=orders]'));
  await page.waitForTimeout((SESSION_SECONDS + 1) * 1000);
  await page.reload();
  assert.match(page.url(), /\/ui\/login\?next=/);
  await page.screenshot({ path: screenshotPath('main-login-after-timeout') });
  await page.fill('input[name=username]', 'supervisor1');
  await page.fill('input[name=password]', DEMO_PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForLoadState('load');
  assert.equal(new URL(page.url()).pathname + new URL(page.url()).search, target);
  assert.ok(await page.$('[data-testid=orders]'));
  await context.close();
});

test('the forms are keyboard-usable: sign in with Tab and Enter only', async () => {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1366, height: 768 } });
  const page = await context.newPage();
  await page.goto(`${kefu.url}/ui/login`);
  await shot(page, 'login');
  await page.keyboard.type('dispatcher1');
  await page.keyboard.press('Tab');
  await page.keyboard.type(DEMO_PASSWORD);
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-testid=user]');
  await shot(page, 'workbench');
  await page.goto(`${kefu.url}/ui/orders?state=pending_dispatch`);
  await shot(page, 'dispatch-queue');
  await context.close();
});
