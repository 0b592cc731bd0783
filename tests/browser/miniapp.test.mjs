// The Mini App and the site in a real browser (Debian's chromium driven by playwright-core),
// against the stack that scripts/test-integration.sh started (var/test/stack.env exported).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const base = process.env.QUANTOR_URL;
let browser;

before(async () => {
	assert.ok(base, 'QUANTOR_URL is not set: run through scripts/test-integration.sh');
	browser = await chromium.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
			'--disable-background-networking', '--disable-component-update', '--disable-sync'],
	});
});

after(async () => {
	if (browser) await browser.close();
});

async function page() {
	const ctx = await browser.newContext();
	const p = await ctx.newPage();
	const errors = [];
	p.on('pageerror', (e) => errors.push(String(e)));
	// telegram.org is out of reach here (and for tests it should be): fail that script fast.
	await p.route('https://telegram.org/**', (r) => r.abort());
	return { p, errors };
}

test('the site shows the live service status', async () => {
	const { p, errors } = await page();
	await p.goto(base + '/');
	await p.waitForSelector('#status.ok', { timeout: 10000 });
	assert.equal(await p.textContent('#status'), 'All systems operational');
	assert.deepEqual(errors, []);
});

test('in a browser the Mini App signs in a dev user and shows their plan', async () => {
	const { p, errors } = await page();
	const id = String(5500000 + Math.floor(Math.random() * 100000));
	await p.goto(base + '/app/');
	await p.waitForSelector('#dev-form:not([hidden])', { timeout: 10000 });
	await p.fill('#dev-id', id);
	await p.fill('#dev-name', 'Browser');
	await p.click('#dev-form button[type=submit]');
	await p.waitForSelector('#home:not([hidden])', { timeout: 10000 });
	assert.equal(await p.textContent('#hello'), 'Hello, Browser');
	assert.match(await p.textContent('#plan'), /^Free/);
	assert.equal(await p.textContent('#bots'), '0 of 1');
	assert.equal(await p.textContent('#linked'), 'not started yet');
	assert.equal(await p.isVisible('#link-hint'), true);
	// The session survives a reload (the initData is kept for this tab only).
	await p.reload();
	await p.waitForSelector('#home:not([hidden])', { timeout: 10000 });
	assert.equal(await p.textContent('#hello'), 'Hello, Browser');
	// Signing out returns to the sign-in form.
	await p.click('#signout');
	await p.waitForSelector('#signin:not([hidden])');
	assert.deepEqual(errors, []);
});

test('a bad sign-in is explained, not swallowed', async () => {
	const { p } = await page();
	await p.goto(base + '/app/');
	await p.waitForSelector('#dev-form:not([hidden])', { timeout: 10000 });
	await p.fill('#dev-id', '0');
	// Bypass the form's own min=1 check to see the server's answer.
	await p.evaluate(() => { document.getElementById('dev-id').removeAttribute('min'); });
	await p.click('#dev-form button[type=submit]');
	await p.waitForFunction(() => document.getElementById('signin-error').textContent.length > 0);
	assert.match(await p.textContent('#signin-error'), /id/);
	assert.equal(await p.isHidden('#home'), true);
});
