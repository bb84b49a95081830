// Time to first choropleth in Chromium, driven by the Playwright package that Microsoft.Playwright
// ships in the test output (.playwright/package), so nothing more is installed. Cold cache each run.
// Usage: node first-choropleth.js <playwright package dir> <url> <runs>
const [pkg, url, runsArg] = process.argv.slice(2);
const { chromium } = require(pkg);
(async () => {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
    args: ['--disable-background-networking', '--disable-component-update', '--no-sandbox'] });
  const times = [];
  for (let i = 0; i < Number(runsArg || 5); i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForSelector("#map[data-ready='1']", { timeout: 30000 });
    times.push(await page.evaluate(() => performance.getEntriesByName('first-choropleth')[0].startTime));
    await context.close();
  }
  await browser.close();
  times.sort((a, b) => a - b);
  console.log(`RESULT runs=${times.length} median_ms=${times[Math.floor(times.length / 2)].toFixed(0)} min_ms=${times[0].toFixed(0)} max_ms=${times[times.length - 1].toFixed(0)}`);
})().catch(e => { console.error(e); process.exit(1); });
