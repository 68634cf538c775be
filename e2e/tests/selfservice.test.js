// A customer on a phone (375 px wide) submits an appeal on the self-service page, follows it by
// order number + phone, and rates the answer once the centre has approved it; the staff see the
// rating on the order page. Also: the page switches to English, has no horizontal scrolling and
// no layout shift at phone width, and every input has a label.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKefu, startBrowser, screenshotPath, signIn, overflowsX } from '../lib/kefu.js';

let kefu;
let browser;
let number;
const PHONE = '13987650123';

before(async () => {
  kefu = await startKefu();
  browser = await startBrowser();
});

after(async () => {
  await browser?.close();
  await kefu?.stop();
});

async function phone(lang = 'zh-CN') {
  const context = await browser.newContext({
    locale: lang,
    viewport: { width: 375, height: 812 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });
  return { context, page: await context.newPage() };
}

// The sum of layout shifts since the page started loading (0 = nothing moved).
async function layoutShift(page) {
  return page.evaluate(() => new Promise((resolve) => {
    let sum = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (!e.hadRecentInput) sum += e.value;
    }).observe({ type: 'layout-shift', buffered: true });
    setTimeout(() => resolve(sum), 300);
  }));
}

// Inputs, selects and text areas without a label (hidden fields excepted).
async function unlabelled(page) {
  return page.$$eval('input:not([type=hidden]), select, textarea', (els) => els
    .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
    .map((el) => el.name));
}

async function checkPhoneLayout(page, name) {
  assert.equal(await overflowsX(page), false, `${name}: no horizontal scrolling at 375 px`);
  assert.equal(await layoutShift(page), 0, `${name}: nothing moves after load`);
  assert.deepEqual(await unlabelled(page), [], `${name}: every input has a label`);
  await page.screenshot({ path: screenshotPath(`self-${name}`), fullPage: true });
}

test('a customer submits an appeal after verifying the phone by a code', async () => {
  const { context, page } = await phone();
  await page.goto(`${kefu.url}/self`);
  assert.match(await page.textContent('h1#submit-heading'), /提交诉求/);
  await checkPhoneLayout(page, 'start');

  await page.fill('#code-phone', '12345');
  await page.click('[data-testid=form-code] button[type=submit]');
  assert.match(await page.textContent('#code-phone-error'), /11 位手机号码/);
  await page.fill('#code-phone', PHONE);
  await page.click('[data-testid=form-code] button[type=submit]');
  const code = (await page.textContent('[data-testid=demo-code-value]')).trim();
  assert.match(code, /^\d{6}$/, 'demo mode shows the code');
  assert.equal((await page.textContent('[data-testid=appeal-phone]')).trim(), PHONE);

  // A wrong code is refused next to the field and what was typed stays.
  await page.fill('#appeal-code', code === '000000' ? '111111' : '000000');
  await page.fill('#appeal-name', '陈女士');
  const area = await page.$eval('#appeal-area', (s) => [...s.options].find((o) => o.textContent.includes('西湖'))?.value);
  assert.ok(area, 'the Xihu supply area is offered');
  await page.selectOption('#appeal-area', area);
  await page.fill('#appeal-address', '西湖区文三路 88 号 2 单元');
  await page.selectOption('#appeal-sub', 'complaint.outage');
  await page.fill('#appeal-content', '昨晚八点起整栋楼停电，至今没有恢复，冰箱里的药需要冷藏');
  await checkPhoneLayout(page, 'appeal-form');
  await page.click('[data-testid=form-appeal] button[type=submit]');
  assert.match(await page.textContent('[data-testid=error-code]'), /验证码不正确/);
  assert.equal(await page.inputValue('#appeal-name'), '陈女士');
  assert.match(await page.inputValue('#appeal-content'), /冰箱里的药/);
  await page.screenshot({ path: screenshotPath('self-wrong-code'), fullPage: true });

  await page.fill('#appeal-code', code);
  await page.click('[data-testid=form-appeal] button[type=submit]');
  await page.waitForSelector('[data-testid=submitted-number]');
  number = (await page.textContent('[data-testid=submitted-number]')).trim();
  assert.match(number, /^GD\d{14}$/);
  assert.equal(await page.inputValue('#track-number'), number, 'the look-up form is filled in');
  await checkPhoneLayout(page, 'submitted');

  await page.fill('#track-phone', PHONE);
  await page.click('[data-testid=form-track] button[type=submit]');
  assert.equal((await page.textContent('[data-testid=found-status]')).trim(), '正在安排处理');
  assert.match(await page.textContent('[data-testid=steps]'), /诉求已受理/);
  assert.ok(await page.$('[data-testid=rate-later]'), 'nothing to rate yet');
  await checkPhoneLayout(page, 'progress-open');
  await context.close();
});

test('a wrong phone sees nothing of the order', async () => {
  const { context, page } = await phone();
  await page.goto(`${kefu.url}/self`);
  await page.fill('#track-number', number);
  await page.fill('#track-phone', '13900000000');
  await page.click('[data-testid=form-track] button[type=submit]');
  assert.match(await page.textContent('[data-testid=track-message]'), /没有找到/);
  assert.equal(await page.$('[data-testid=found]'), null);
  await context.close();
});

test('the centre and the county handle it through the staff pages', async () => {
  let { context, page } = await signIn(browser, kefu.url, 'dispatcher1');
  await page.goto(`${kefu.url}/ui/orders/${number}`);
  assert.match(await page.textContent('main'), /95598网站/, 'taken on the web channel');
  assert.match(await page.textContent('main'), /客户自助服务/, 'owned by the portal account');
  await page.click('[data-testid=form-dispatch] button[type=submit]');
  await context.close();

  ({ context, page } = await signIn(browser, kefu.url, 'handler.xihu'));
  await page.goto(`${kefu.url}/ui/orders/${number}`);
  await page.click('[data-testid=form-accept] button');
  await page.fill('[data-testid=form-reply] input[name=handler]', '李强');
  await page.fill('[data-testid=form-reply] textarea[name=actions_taken]', '更换损坏的低压电缆接头');
  await page.fill('[data-testid=form-reply] textarea[name=result_and_feedback]', '当晚 23 点恢复供电');
  await page.selectOption('[data-testid=form-reply] select[name=fault]', 'not_at_fault');
  await page.click('[data-testid=form-reply] button[type=submit]');
  assert.equal((await page.textContent('[data-testid=order-state]')).trim(), '待审核');
  await context.close();

  ({ context, page } = await signIn(browser, kefu.url, 'dispatcher1'));
  await page.goto(`${kefu.url}/ui/orders/${number}`);
  await page.click('[data-testid=form-review] button[type=submit]');
  assert.equal((await page.textContent('[data-testid=order-state]')).trim(), '待回访');
  await context.close();
});

test('the customer sees the answer and rates it; the staff see the rating', async () => {
  const { context, page } = await phone();
  await page.goto(`${kefu.url}/self`);
  await page.fill('#track-number', number);
  await page.fill('#track-phone', PHONE);
  await page.click('[data-testid=form-track] button[type=submit]');
  assert.equal((await page.textContent('[data-testid=found-status]')).trim(), '已答复');
  const answer = await page.textContent('[data-testid=answer]');
  assert.match(answer, /恢复供电/);
  assert.doesNotMatch(answer, /李强/, 'no staff names');
  assert.match(await page.textContent('[data-testid=steps]'), /已转交供电单位处理[\s\S]*处理结果已答复/);
  await checkPhoneLayout(page, 'progress-answered');

  // Rating needs a choice; the keyboard reaches the radio buttons.
  await page.click('[data-testid=form-rate] button[type=submit]');
  assert.ok(await page.$('[data-testid=form-rate]'), 'a rating must be chosen (the browser holds the form)');
  await page.check('[data-testid=form-rate] input[name=satisfaction][value="4"]');
  await page.fill('#rate-comment', '抢修很快，但希望提前通知');
  await page.click('[data-testid=form-rate] button[type=submit]');
  assert.match(await page.textContent('[data-testid=thanks]'), /感谢/);
  assert.match(await page.textContent('[data-testid=rating]'), /满意/);
  assert.equal(await page.$('[data-testid=form-rate]'), null, 'rated once');
  await checkPhoneLayout(page, 'rated');
  await context.close();

  const staff = await signIn(browser, kefu.url, 'agent1');
  await staff.page.goto(`${kefu.url}/ui/orders/${number}`);
  assert.match(await staff.page.textContent('[data-testid=customer-rating]'), /满意 · 抢修很快/);
  assert.match(await staff.page.textContent('[data-testid=timeline]'), /客户评价/);
  await staff.page.screenshot({ path: screenshotPath('order-customer-rated'), fullPage: true });
  await staff.context.close();
});

test('the self-service page speaks English', async () => {
  const { context, page } = await phone('en');
  await page.goto(`${kefu.url}/self`);
  await page.click('[data-testid=switch-lang]');
  if (!(await page.textContent('h1#submit-heading')).includes('Submit')) {
    await page.click('[data-testid=switch-lang]');
  }
  assert.match(await page.textContent('h1#submit-heading'), /Submit an appeal/);
  await page.fill('#track-number', number);
  await page.fill('#track-phone', PHONE);
  await page.click('[data-testid=form-track] button[type=submit]');
  assert.equal((await page.textContent('[data-testid=found-status]')).trim(), 'Answered');
  assert.match(await page.textContent('[data-testid=steps]'), /Appeal received/);
  assert.match(await page.textContent('[data-testid=rating]'), /Satisfied/);
  await checkPhoneLayout(page, 'english');
  await context.close();
});
