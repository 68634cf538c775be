// Customer import by upload from the page: an all-or-nothing upload with a bad row stores
// nothing and says so; a file with the billing system's other headers goes in with a column
// mapping typed on the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKefu, startBrowser, screenshotPath, signIn } from '../lib/kefu.js';

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

const TAIL = '13800138000,杭州市西湖区文三路1号,330106,城网,居民生活,220V';

async function uploadFile(page, name, text) {
  await page.goto(`${kefu.url}/ui/imports`);
  await page.setInputFiles('[data-testid=import-form] input[name=file]', {
    name,
    mimeType: 'text/csv',
    buffer: Buffer.from(text, 'utf8'),
  });
}

async function finishedJob(page) {
  await page.waitForURL(/\/ui\/imports\/\d+$/);
  await page.waitForSelector('[data-testid=report-link]', { timeout: 20000 });
  return {
    state: (await page.textContent('[data-testid=import-state]')).trim(),
    stored: (await page.textContent('[data-testid=rows-stored]')).trim(),
    bad: (await page.textContent('[data-testid=rows-bad]')).trim(),
    text: await page.textContent('[data-testid=import-job]'),
  };
}

test('an all-or-nothing upload with a bad row stores no row and says why', async () => {
  const { context, page } = await signIn(browser, kefu.url, 'manager1');
  const file = '户号,户名,证件号码,联系电话,用电地址,供电单位,城乡,用电类别,电压等级\n'
    + `3301069001,王秀英,11010519491231002X,${TAIL}\n`
    + `3301069002,李建国,110105194912310021,${TAIL}\n`;
  await uploadFile(page, '全部或全不.csv', file);
  await page.check('[data-testid=import-all-or-nothing]');
  await page.click('[data-testid=import-form] button[type=submit]');
  const job = await finishedJob(page);
  assert.match(job.state, /失败/);
  assert.equal(job.stored, '0');
  assert.equal(job.bad, '1');
  assert.match(job.text, /未存储任何行/);
  await page.screenshot({ path: screenshotPath('import-all-or-nothing') });
  await context.close();
});

test('a file with other headers is imported with a mapping typed on the page', async () => {
  const { context, page } = await signIn(browser, kefu.url, 'manager1');
  const file = 'CONS_NO,CONS_NAME,证件号码,联系电话,用电地址,供电单位,城乡,用电类别,电压等级\n'
    + `3301069003,赵丽,,${TAIL}\n`;
  await uploadFile(page, '其他表头.csv', file);
  await page.click('[data-testid=import-form] summary');
  await page.fill('[data-testid=import-mapping]', '"CONS_NO" = "account_number"\n"CONS_NAME" = "name"');
  await page.screenshot({ path: screenshotPath('import-form-mapping') });
  await page.click('[data-testid=import-form] button[type=submit]');
  const job = await finishedJob(page);
  assert.match(job.state, /完成/);
  assert.equal(job.stored, '1');
  assert.equal(job.bad, '0');
  await context.close();
});
