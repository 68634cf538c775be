// Starts a throw-away `kefu serve --demo` on a free loopback port and a headless Chromium,
// so each test file drives a real server and a real browser.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const DEMO_PASSWORD = 'Kefu-demo-2026';

const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
];

export async function startKefu(options = {}) {
  const bin = process.env.KEFU_BIN;
  if (!bin) throw new Error('KEFU_BIN is not set; run the tests through e2e/run.sh');
  const data = mkdtempSync(join(tmpdir(), 'kefu-e2e-'));
  const child = spawn(bin, ['serve', '--demo', '--addr', '127.0.0.1:0', '--data', data], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: 'warn', ...(options.env || {}) },
  });
  let output = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kefu did not start in 120 s:\n${output}`)), 120_000);
    const onData = (chunk) => {
      output += chunk;
      const m = output.match(/kefu listening on (http:\/\/[0-9.:]+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`kefu exited ${code}:\n${output}`)); });
  });
  const stop = async () => {
    child.kill('SIGTERM');
    await new Promise((r) => { if (child.exitCode !== null) r(); else child.on('exit', r); });
    rmSync(data, { recursive: true, force: true });
  };
  return { url, stop, output: () => output };
}

export async function startBrowser() {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS, headless: true });
}

export function screenshotPath(name) {
  return join(process.env.KEFU_SCREENSHOTS || tmpdir(), `${name}.png`);
}

// Signs `username` in with the demo password in a new browser context (`lang`: zh-CN or en).
export async function signIn(browser, url, username, { lang = 'zh-CN', width = 1366, height = 768 } = {}) {
  const context = await browser.newContext({
    locale: lang,
    viewport: { width, height },
    extraHTTPHeaders: { 'Accept-Language': lang === 'en' ? 'en' : 'zh-CN' },
  });
  const page = await context.newPage();
  await page.goto(`${url}/ui/login`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', DEMO_PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForLoadState('load');
  return { context, page };
}

// Whether the page is wider than the window (a horizontal scrollbar at this width).
export async function overflowsX(page) {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
}
