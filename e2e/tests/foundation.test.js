// The foundation pages in a real browser: sign-in, the screen-pop, the customer page with its
// history, masking per role, the language switch, password change, and sign-out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKefu, startBrowser, screenshotPath, DEMO_PASSWORD } from '../lib/kefu.js';

let kefu;
let browser;

before(async () => {
  kefu = await startKefu();
  browser = await startBrowser();
});

after(async () => {
  await browser?.close();
  await kefu?.stop();
});

async function signIn(username, password = DEMO_PASSWORD) {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${kefu.url}/ui/workbench`);
  assert.match(page.url(), /\/ui\/login/, 'an anonymous visitor is sent to sign in');
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  return { context, page };
}

test('wrong password shows one message and stays on the sign-in page', async () => {
  const { context, page } = await signIn('agent1', 'not-the-password-1');
  assert.match(page.url(), /\/ui\/login/);
  assert.equal(await page.textContent('[data-testid=message]'), '登录名或密码错误。');
  await page.screenshot({ path: screenshotPath('login-failed') });
  await context.close();
});

test('an agent pops up the caller by phone and opens the customer page', async () => {
  const { context, page } = await signIn('agent1');
  assert.match(page.url(), /\/ui\/workbench/);
  assert.match(await page.textContent('[data-testid=roles]'), /坐席/);

  // Find someone by name prefix, then use their phone as an incoming call.
  await page.selectOption('select[name=by]', 'name');
  await page.fill('input[name=q]', '王');
  await page.click('.searchbar button');
  const firstPhones = await page.textContent('[data-testid=results] tbody tr:first-child td:nth-child(4)');
  const phone = firstPhones.split('，')[0].trim();
  assert.match(phone, /^1\d{10}$/, 'an agent sees phones unmasked');

  await page.goto(`${kefu.url}/ui/workbench?phone=${encodeURIComponent(phone.replace(/^(\d{3})(\d{4})/, '$1 $2 '))}`);
  const rows = await page.$$('[data-testid=results] tbody tr');
  assert.ok(rows.length >= 1, 'the screen-pop finds the caller however the number is spaced');
  await page.screenshot({ path: screenshotPath('workbench-screen-pop'), fullPage: true });

  await page.click('[data-testid=results] tbody tr:first-child td:nth-child(2) a');
  await page.waitForSelector('[data-testid=history]');
  assert.match(await page.textContent('[data-testid=phones]'), new RegExp(phone));
  const history = await page.textContent('[data-testid=history]');
  assert.match(history, /建档/);
  assert.doesNotMatch(history, /(birthday|founding|contract|other):/, 'special dates read as labels, not codes');
  await page.screenshot({ path: screenshotPath('customer-page'), fullPage: true });
  await context.close();
});

test('an analyst sees ID numbers and phones masked', async () => {
  const { context, page } = await signIn('analyst1');
  await page.goto(`${kefu.url}/ui/workbench?by=name&q=${encodeURIComponent('李')}`);
  const ids = await page.$$eval('[data-testid=id-number]', (cells) => cells.map((c) => c.textContent.trim()));
  assert.ok(ids.length > 0);
  for (const id of ids) assert.match(id, /\*{4,}|—/, `masked: ${id}`);
  assert.match(await page.textContent('.note'), /脱敏/);
  await page.screenshot({ path: screenshotPath('workbench-analyst-masked'), fullPage: true });
  await context.close();
});

test('a county agent does not find customers of another county', async () => {
  const { context, page } = await signIn('agent.binjiang');
  await page.goto(`${kefu.url}/ui/workbench?by=name&q=${encodeURIComponent('张')}`);
  const units = await page.$$eval('[data-testid=results] tbody tr td:nth-child(6)', (cells) => cells.map((c) => c.textContent.trim()));
  for (const u of units) assert.match(u, /滨江/, `only own county: ${u}`);
  await page.goto(`${kefu.url}/ui/customers/1`);
  const text = await page.textContent('main');
  assert.ok(/没有找到该客户/.test(text) || /滨江/.test(text), 'another county\'s customer is not shown');
  await context.close();
});

test('the language switch turns the pages into English and back', async () => {
  const { context, page } = await signIn('supervisor.hz');
  await page.click('a.lang');
  assert.match(await page.textContent('h1'), /Find a customer/);
  await page.screenshot({ path: screenshotPath('workbench-english'), fullPage: true });
  await page.click('a.lang');
  assert.match(await page.textContent('h1'), /客户查询/);
  await context.close();
});

test('password change needs the current password and keeps the person signed in', async () => {
  const { context, page } = await signIn('agent2');
  await page.goto(`${kefu.url}/ui/password`);
  await page.fill('input[name=current_password]', 'wrong-password-1');
  await page.fill('input[name=new_password]', 'Kefu-new-2027');
  await page.fill('input[name=repeat_password]', 'Kefu-new-2027');
  await page.click('form.stack button');
  assert.equal(await page.textContent('[data-testid=message]'), '当前密码不正确。');

  await page.fill('input[name=current_password]', DEMO_PASSWORD);
  await page.fill('input[name=new_password]', 'Kefu-new-2027');
  await page.fill('input[name=repeat_password]', 'Kefu-new-2027');
  await page.click('form.stack button');
  assert.match(await page.textContent('[data-testid=message]'), /密码已修改/);
  await page.screenshot({ path: screenshotPath('password-changed') });

  await page.goto(`${kefu.url}/ui/workbench`);
  assert.match(page.url(), /\/ui\/workbench/, 'still signed in with the fresh session');
  await page.click('button.link');
  assert.match(page.url(), /\/ui\/login/);
  await context.close();

  const again = await signIn('agent2', 'Kefu-new-2027');
  assert.match(again.page.url(), /\/ui\/workbench/, 'the new password works');
  await again.context.close();
});
