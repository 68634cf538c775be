// The whole daily path in English: an agent takes a complaint from the screen-pop, the
// dispatcher dispatches it, the county returns it, the dispatcher sends it again, the county
// accepts and replies, the centre reviews and records the visit. Every step asserts on the
// English words the page shows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKefu, startBrowser, screenshotPath, signIn } from '../lib/kefu.js';

let kefu;
let browser;
let number;

before(async () => {
  kefu = await startKefu();
  browser = await startBrowser();
});

after(async () => {
  await browser?.close();
  await kefu?.stop();
});

const as = (user) => signIn(browser, kefu.url, user, { lang: 'en' });

async function state(page) {
  return (await page.textContent('[data-testid=order-state]')).trim();
}

async function open(page) {
  await page.goto(`${kefu.url}/ui/orders/${number}`);
}

test('an agent takes a complaint in English', async () => {
  const { context, page } = await as('agent1');
  assert.match(await page.textContent('header'), /Sign out/);
  await page.goto(`${kefu.url}/ui/workbench?by=name&q=${encodeURIComponent('王')}`);
  const rows = await page.$$eval('[data-testid=results] tbody tr', (trs) => trs.map((tr) => ({
    href: tr.querySelector('td:nth-child(2) a').getAttribute('href'),
    phone: tr.querySelector('td:nth-child(4)').textContent.split('，')[0].split(',')[0].trim(),
    unit: tr.querySelector('td:nth-child(6)').textContent,
  })));
  const caller = rows.find((r) => r.unit.includes('西湖'));
  assert.ok(caller, 'a Xihu customer exists');
  await page.goto(`${kefu.url}/ui/workbench?phone=${caller.phone}`);
  await page.click(`[data-testid=results] a[href="${caller.href}"]`);
  await page.waitForSelector('[data-testid=form-intake]');
  await page.selectOption('[data-testid=form-intake] select[name=sub_category]', 'complaint.outage');
  await page.fill('[data-testid=form-intake] textarea[name=content]', 'No power for two days in the building');
  await page.click('[data-testid=form-intake] button[type=submit]');
  await page.waitForSelector('[data-testid=order-number]');
  number = (await page.textContent('[data-testid=order-number]')).trim();
  assert.equal(await state(page), 'Pending dispatch');
  assert.match(await page.textContent('[data-testid=deadlines]'), /working days/);
  await page.screenshot({ path: screenshotPath('en-order-taken'), fullPage: true });
  await context.close();
});

test('the dispatcher dispatches, the county returns, the dispatcher sends it again', async () => {
  let { context, page } = await as('dispatcher1');
  await page.goto(`${kefu.url}/ui/orders?state=pending_dispatch`);
  assert.match(await page.textContent('[data-testid=orders]'), new RegExp(number));
  await open(page);
  assert.match(await page.textContent('[data-testid=suggestion-basis]'), /by territory, .* \(the customer's supply unit\) hosts/);
  await page.click('[data-testid=form-dispatch] button[type=submit]');
  assert.equal(await state(page), 'Dispatched');
  await context.close();

  ({ context, page } = await as('handler.xihu'));
  await open(page);
  await page.selectOption('[data-testid=form-return] select[name=reason]', 'wrong_address');
  await page.click('[data-testid=form-return] button[type=submit]');
  assert.equal(await state(page), 'Returned');
  assert.match(await page.textContent('[data-testid=returns]'), /Wrong address/);
  await context.close();

  ({ context, page } = await as('dispatcher1'));
  await page.goto(`${kefu.url}/ui/orders?state=returned`);
  assert.match(await page.textContent('[data-testid=orders]'), new RegExp(number));
  await open(page);
  await page.click('[data-testid=form-dispatch] button[type=submit]');
  assert.equal(await state(page), 'Dispatched');
  await context.close();
});

test('the county accepts and replies in English', async () => {
  const { context, page } = await as('handler.xihu');
  await open(page);
  await page.click('[data-testid=form-accept] button');
  assert.equal(await state(page), 'In progress');
  await page.fill('[data-testid=form-reply] input[name=handler]', 'Zhang Wei');
  await page.fill('[data-testid=form-reply] textarea[name=actions_taken]', 'Replaced the drop-out fuse');
  await page.click('[data-testid=form-reply] button[type=submit]');
  assert.match(await page.textContent('[data-testid=message]'), /result_and_feedback/);
  assert.equal(await page.inputValue('[data-testid=form-reply] textarea[name=actions_taken]'), 'Replaced the drop-out fuse');
  await page.fill('[data-testid=form-reply] textarea[name=result_and_feedback]', 'Power restored; the customer agreed');
  await page.selectOption('[data-testid=form-reply] select[name=fault]', 'not_at_fault');
  await page.click('[data-testid=form-reply] button[type=submit]');
  assert.equal(await state(page), 'Replied');
  await context.close();
});

test('the centre reviews and records the visit in English', async () => {
  let { context, page } = await as('dispatcher1');
  await open(page);
  await page.click('[data-testid=form-review] button[type=submit]');
  assert.equal(await state(page), 'Reviewed');
  await context.close();

  ({ context, page } = await as('agent1'));
  await open(page);
  await page.selectOption('[data-testid=form-visit] select[name=satisfaction]', '5');
  await page.click('[data-testid=form-visit] button[type=submit]');
  assert.equal(await state(page), 'Visited');
  const timeline = await page.textContent('[data-testid=timeline]');
  for (const step of ['Dispatch', 'Return', 'Accept', 'Reply', 'Review', 'Visit']) {
    assert.match(timeline, new RegExp(step), `the timeline names ${step}`);
  }
  await page.screenshot({ path: screenshotPath('en-order-visited'), fullPage: true });
  await context.close();
});
