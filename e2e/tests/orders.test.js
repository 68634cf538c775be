// A complaint's daily path in a real browser (issue 8's acceptance path for work orders): the
// agent takes it from the screen-pop, the dispatcher dispatches it, the county returns it once,
// then after re-dispatch accepts and replies (a missing field is refused next to the field and
// what was typed stays), the centre reviews and records the visit, and it is archived. The
// supervisor sees it in the lists while it is open.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startKefu, startBrowser, screenshotPath, DEMO_PASSWORD } from '../lib/kefu.js';

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

async function signIn(username) {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${kefu.url}/ui/login`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', DEMO_PASSWORD);
  await page.click('button[type=submit]');
  return { context, page };
}

async function openOrder(page) {
  await page.goto(`${kefu.url}/ui/orders/${number}`);
  return page;
}

async function state(page) {
  return (await page.textContent('[data-testid=order-state]')).trim();
}

test('an agent takes a complaint from the screen-pop', async () => {
  const { context, page } = await signIn('agent1');
  // A caller of the Xihu district (the demo's county handler works there).
  await page.goto(`${kefu.url}/ui/workbench?by=name&q=${encodeURIComponent('王')}`);
  const rows = await page.$$eval('[data-testid=results] tbody tr', (trs) => trs.map((tr) => ({
    href: tr.querySelector('td:nth-child(2) a').getAttribute('href'),
    phone: tr.querySelector('td:nth-child(4)').textContent.split('，')[0].trim(),
    unit: tr.querySelector('td:nth-child(6)').textContent,
  })));
  const caller = rows.find((r) => r.unit.includes('西湖'));
  assert.ok(caller, 'a Xihu customer exists in the demo province');
  await page.goto(`${kefu.url}/ui/workbench?phone=${caller.phone}`);
  await page.click(`[data-testid=results] a[href="${caller.href}"]`);
  await page.waitForSelector('[data-testid=form-intake]');
  await page.selectOption('[data-testid=form-intake] select[name=sub_category]', 'complaint.outage');
  await page.fill('[data-testid=form-intake] textarea[name=content]', '小区停电两天无人处理，家里有老人');
  await page.screenshot({ path: screenshotPath('order-intake-form'), fullPage: true });
  await page.click('[data-testid=form-intake] button[type=submit]');
  await page.waitForSelector('[data-testid=order-number]');
  number = (await page.textContent('[data-testid=order-number]')).trim();
  assert.match(number, /^GD\d{14}$/);
  assert.equal(await state(page), '待派单');
  const deadlines = await page.textContent('[data-testid=deadlines]');
  assert.match(deadlines, /联系客户/);
  assert.match(deadlines, /7个工作日/);
  await page.screenshot({ path: screenshotPath('order-taken'), fullPage: true });

  // The customer page lists the new order.
  await page.goto(`${kefu.url}${caller.href}`);
  assert.match(await page.textContent('[data-testid=customer-orders]'), new RegExp(number));
  await context.close();
});

test('the dispatcher finds it in the queue and dispatches it as suggested', async () => {
  const { context, page } = await signIn('dispatcher1');
  await page.click('[data-testid=nav-orders]');
  await page.goto(`${kefu.url}/ui/orders?state=pending_dispatch`);
  assert.match(await page.textContent('[data-testid=orders]'), new RegExp(number));
  await page.screenshot({ path: screenshotPath('dispatch-queue'), fullPage: true });
  await openOrder(page);
  const suggested = await page.$eval('[data-testid=form-dispatch] select[name=unit_id]', (s) => s.selectedOptions[0].textContent);
  assert.match(suggested, /西湖.*建议/);
  assert.match(await page.textContent('[data-testid=suggestion-basis]'), /属地管理——[^；]*西湖[^；]*（客户的供电单位）承办；谁主管、谁处理——“.+”由.+处理/);
  await page.click('[data-testid=form-dispatch] button[type=submit]');
  assert.equal(await state(page), '已派单');
  assert.match(await page.textContent('[data-testid=order-host]'), /西湖/);
  await context.close();
});

test('the county returns it with a reason and the dispatcher sends it again', async () => {
  let { context, page } = await signIn('handler.xihu');
  await openOrder(page);
  await page.selectOption('[data-testid=form-return] select[name=reason]', 'other');
  await page.click('[data-testid=form-return] button[type=submit]');
  // "Other" needs an explanation: refused next to the field.
  assert.match(await page.textContent('[data-testid=form-return] .field-error'), /explain/);
  await page.fill('[data-testid=form-return] input[name=text]', '地址属于相邻供电所');
  await page.click('[data-testid=form-return] button[type=submit]');
  assert.equal(await state(page), '已回退');
  assert.match(await page.textContent('[data-testid=returns]'), /地址属于相邻供电所/);
  await context.close();

  ({ context, page } = await signIn('dispatcher1'));
  await page.goto(`${kefu.url}/ui/orders?state=returned`);
  assert.match(await page.textContent('[data-testid=orders]'), new RegExp(number));
  await openOrder(page);
  await page.click('[data-testid=form-dispatch] button[type=submit]');
  assert.equal(await state(page), '已派单');
  await context.close();
});

test('the county accepts and replies; a missing field is refused and the text typed stays', async () => {
  const { context, page } = await signIn('handler.xihu');
  await openOrder(page);
  await page.click('[data-testid=form-accept] button');
  assert.equal(await state(page), '处理中');
  await page.fill('[data-testid=form-reply] input[name=handler]', '张伟');
  await page.fill('[data-testid=form-reply] textarea[name=actions_taken]', '抢修班到现场更换跌落式熔断器');
  await page.click('[data-testid=form-reply] button[type=submit]');
  assert.match(await page.textContent('[data-testid=message]'), /result_and_feedback/);
  assert.equal(await page.inputValue('[data-testid=form-reply] textarea[name=actions_taken]'), '抢修班到现场更换跌落式熔断器');
  await page.screenshot({ path: screenshotPath('order-reply-refused'), fullPage: true });
  await page.fill('[data-testid=form-reply] textarea[name=result_and_feedback]', '已恢复供电，客户表示认可');
  await page.selectOption('[data-testid=form-reply] select[name=fault]', 'not_at_fault');
  await page.click('[data-testid=form-reply] button[type=submit]');
  assert.equal(await state(page), '待审核');
  await context.close();
});

test('the supervisor sees the open order in the lists', async () => {
  const { context, page } = await signIn('supervisor1');
  await page.goto(`${kefu.url}/ui/orders?state=replied`);
  assert.match(await page.textContent('[data-testid=orders]'), new RegExp(number));
  await openOrder(page);
  assert.ok(await page.$('[data-testid=form-supervise]'), 'a supervisor may supervise');
  await page.fill('[data-testid=form-supervise] input[name=reason]', '老人家庭停电，重点关注');
  await page.click('[data-testid=form-supervise] button[type=submit]');
  assert.equal(await page.$('[data-testid=form-supervise]'), null, 'supervised once');
  await page.goto(`${kefu.url}/ui/orders?supervised=true`);
  assert.match(await page.textContent('[data-testid=orders]'), new RegExp(number));
  await page.screenshot({ path: screenshotPath('supervised-list'), fullPage: true });

  // The list exports to Excel with the same filters.
  assert.match(await page.getAttribute('[data-testid=export]', 'href'), /export\.xlsx\?supervised=true/);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.click('[data-testid=export]'),
  ]);
  assert.equal(download.suggestedFilename(), 'kefu-orders.xlsx');
  const bytes = readFileSync(await download.path());
  assert.equal(bytes.subarray(0, 2).toString(), 'PK', 'an .xlsx is a zip file');

  // The board counts it under Hangzhou, and its numbers open the filtered list.
  await page.click('[data-testid=nav-board]');
  const hangzhou = page.locator('[data-testid=board] tbody tr', { hasText: '杭州' });
  assert.ok(Number(await hangzhou.locator('td:nth-child(2)').textContent()) >= 1);
  // "Today" is the centre's day (UTC+8), as in the order number (GD + YYYYMMDD + …): an order
  // taken before the centre's midnight is yesterday's once the board is read after it.
  const centreToday = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10).replaceAll('-', '');
  if (number.slice(2, 10) === centreToday) {
    assert.ok(Number(await page.textContent('[data-testid=intake-total]')) >= 1, 'taken today');
  }
  await page.screenshot({ path: screenshotPath('board'), fullPage: true });
  await hangzhou.locator('td:nth-child(6) a').click();
  assert.match(page.url(), /supervised=true/);
  assert.match(await page.textContent('[data-testid=orders]'), new RegExp(number));
  await context.close();
});

test('the centre reviews, records the visit and archives it', async () => {
  let { context, page } = await signIn('dispatcher1');
  await openOrder(page);
  await page.click('[data-testid=form-review] button[type=submit]');
  assert.equal(await state(page), '待回访');
  await context.close();

  ({ context, page } = await signIn('agent1'));
  await openOrder(page);
  await page.selectOption('[data-testid=form-visit] select[name=satisfaction]', '5');
  await page.click('[data-testid=form-visit] button[type=submit]');
  assert.equal(await state(page), '已回访');
  await page.click('[data-testid=form-archive] button');
  assert.equal(await state(page), '已归档');
  const steps = await page.$$eval('[data-testid=timeline] tbody tr', (trs) => trs.length);
  assert.ok(steps >= 10, `the whole timeline is shown (${steps} steps)`);
  assert.match(await page.textContent('[data-testid=actions]'), /没有可办理/);
  await page.screenshot({ path: screenshotPath('order-archived'), fullPage: true });
  await context.close();
});

test('an unidentified caller gets an order for the unit owning the address; a missing address is named', async () => {
  const { context, page } = await signIn('agent.xihu');
  await page.goto(`${kefu.url}/ui/workbench?phone=13999990000`);
  assert.ok(await page.$('[data-testid=no-results]'), 'nobody in the archive has this number');
  await page.click('details.newcaller summary');
  const form = '[data-testid=form-intake-unidentified]';
  assert.equal(await page.inputValue(`${form} input[name=phone]`), '13999990000', 'the popped number is kept');
  await page.fill(`${form} input[name=name]`, '刘先生');
  await page.selectOption(`${form} select[name=sub_category]`, 'fault_repair.no_power');
  await page.fill(`${form} textarea[name=content]`, '家里突然停电，邻居也没电');
  await page.click(`${form} button[type=submit]`);
  assert.match(await page.textContent('[data-testid=intake-message]'), /address/);
  assert.equal(await page.inputValue(`${form} input[name=name]`), '刘先生', 'what was typed stays');
  await page.screenshot({ path: screenshotPath('unidentified-refused'), fullPage: true });
  await page.fill(`${form} input[name=address]`, '西湖区文三路 100 号');
  const xihu = await page.$eval(`${form} select[name=address_unit_id]`, (s) =>
    [...s.options].find((o) => o.textContent.includes('西湖'))?.value);
  await page.selectOption(`${form} select[name=address_unit_id]`, xihu);
  await page.click(`${form} button[type=submit]`);
  await page.waitForSelector('[data-testid=order-number]');
  assert.equal(await state(page), '待派单');
  // Fault repair runs on the clock: arrive on site within 45 minutes (urban by default).
  assert.match(await page.textContent('[data-testid=deadlines]'), /45分钟/);
  await context.close();
});
