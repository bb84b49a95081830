// The map page's interactions in Chromium, timed inside the page (performance.now()): the table's
// first page, each filter change (table and map redrawn), a date change (choropleth redrawn), and the
// time to first choropleth. Driven by the Playwright package that Microsoft.Playwright ships in the
// test output (.playwright/package). Cold browser cache per run.
// Usage: node page-interactions.js <playwright package dir> <url> <runs>
const [pkg, url, runsArg] = process.argv.slice(2);
const { chromium } = require(pkg);

const median = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];
const max = (a) => Math.max(...a);

(async () => {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
    args: ['--disable-background-networking', '--disable-component-update', '--no-sandbox'] });
  const first = [], table = [], filters = [], dates = [];
  for (let i = 0; i < Number(runsArg || 5); i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForSelector("#map[data-ready='1']", { timeout: 30000 });
    await page.waitForSelector('#table-section[data-ready]', { timeout: 30000 });
    await page.waitForSelector('#date-pick option:nth-child(3)', { state: 'attached', timeout: 30000 });
    first.push(await page.evaluate(() => performance.getEntriesByName('first-choropleth')[0].startTime));
    table.push(await page.evaluate(() => Number(document.querySelector('#table-section').dataset.loadedMs)));
    // Each filter change: from the change event to the table's page and the map both redrawn.
    for (const band of ['3500-9999', '>=100000', '<500', '']) {
      filters.push(await page.evaluate(async (band) => {
        const tableBox = document.querySelector('#table-section'), map = document.querySelector('#map');
        const seq = tableBox.dataset.ready, drawn = map.dataset.drawnAt, t0 = performance.now();
        const select = document.querySelector('#f-band');
        select.value = band; select.dispatchEvent(new Event('change'));
        while (!(tableBox.dataset.ready !== seq && map.dataset.drawnAt !== drawn && map.dataset.ready === '1')) await new Promise(requestAnimationFrame);
        return performance.now() - t0;
      }, band));
    }
    // A date change: from the change event to the choropleth redrawn for that date.
    for (const pick of [2, 1]) {
      dates.push(await page.evaluate(async (pick) => {
        const map = document.querySelector('#map'), drawn = map.dataset.drawnAt, t0 = performance.now();
        const select = document.querySelector('#date-pick');
        select.selectedIndex = pick; select.dispatchEvent(new Event('change'));
        while (!(map.dataset.drawnAt !== drawn && map.dataset.ready === '1')) await new Promise(requestAnimationFrame);
        return performance.now() - t0;
      }, pick));
    }
    await context.close();
  }
  await browser.close();
  const f = (a) => `median_ms=${median(a).toFixed(0)} max_ms=${max(a).toFixed(0)} n=${a.length}`;
  console.log(`RESULT first ${f(first)}`);
  console.log(`RESULT table ${f(table)}`);
  console.log(`RESULT filter ${f(filters)}`);
  console.log(`RESULT date ${f(dates)}`);
})().catch((e) => { console.error(e); process.exit(1); });
