/**
 * The HTML cost report renders in headless Chromium: the SVG bars get a real size (measured in the page and read
 * back with --dump-dom) and a screenshot shows the bar colours inside the chart area; the same for the reconciliation
 * page (billed beside estimated). Skips loudly without Chromium
 * outside CI; fails in CI (.ci/run installs it).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { inflateSync } from 'node:zlib';
import { type BillLine, billingDayPeriod } from '../../../shared/domain/bill.js';
import { parseMoney } from '../../../shared/domain/billing.js';
import { namespaceColour, renderCostPage } from '../../../scripts/lib/billing-html.js';
import { defaultPriceTables, priceTableFor } from '../../../shared/domain/prices.js';
import { reconcileDay } from '../../../shared/domain/reconcile.js';
import { BILLED_COLOUR, ESTIMATED_COLOUR, renderReconcilePage } from '../../../scripts/lib/reconcile-html.js';
import { billLine, groupEstimate, reconcileInput } from '../../helpers/reconcile.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p));
const dir = mkdtempSync(join(tmpdir(), 'cost-html-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function chromium(args: string[]): string {
  const profile = mkdtempSync(join(dir, 'profile-'));
  const res = spawnSync(
    CHROMIUM as string,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--hide-scrollbars',
      `--user-data-dir=${profile}`,
      '--window-size=1000,900',
      ...args,
    ],
    { encoding: 'utf8', timeout: 90_000, killSignal: 'SIGKILL' },
  );
  if (res.error) throw res.error;
  assert.equal(res.status, 0, `chromium failed: ${res.stderr.slice(-2000)}`);
  return res.stdout;
}

/** Decodes an 8-bit RGB/RGBA PNG into rows of pixels (enough for Chromium's screenshots). */
function decodePng(buf: Buffer): { width: number; height: number; pixel(x: number, y: number): [number, number, number] } {
  assert.equal(buf.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', 'not a PNG');
  let off = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('ascii', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.equal(data[8], 8, 'bit depth 8');
      channels = data[9] === 6 ? 4 : data[9] === 2 ? 3 : 0;
      assert.ok(channels, `colour type ${data[9]}`);
    } else if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const img = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let i = 0; i < stride; i++) {
      const x = raw[y * (stride + 1) + 1 + i] ?? 0;
      const a = i >= channels ? (img[y * stride + i - channels] ?? 0) : 0;
      const b = y > 0 ? (img[(y - 1) * stride + i] ?? 0) : 0;
      const c = y > 0 && i >= channels ? (img[(y - 1) * stride + i - channels] ?? 0) : 0;
      let v = x;
      if (filter === 1) v = x + a;
      else if (filter === 2) v = x + b;
      else if (filter === 3) v = x + ((a + b) >> 1);
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v = x + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      }
      img[y * stride + i] = v & 0xff;
    }
  }
  return {
    width,
    height,
    pixel: (x, y) => {
      const o = y * stride + x * channels;
      return [img[o] ?? 0, img[o + 1] ?? 0, img[o + 2] ?? 0];
    },
  };
}

const hex = (c: string): [number, number, number] => [
  Number.parseInt(c.slice(1, 3), 16),
  Number.parseInt(c.slice(3, 5), 16),
  Number.parseInt(c.slice(5, 7), 16),
];

describe('HTML cost report in headless Chromium', () => {
  const days = ['2024-05-01', '2024-05-02', '2024-05-03'];
  const cells = new Map([
    ['2024-05-01', new Map([['shop', parseMoney('10.5')], ['jobs', parseMoney('2.25')]])],
    ['2024-05-02', new Map([['shop', parseMoney('8')]])],
    ['2024-05-03', new Map([['shop', parseMoney('12')], ['jobs', parseMoney('6')]])],
  ]);
  const html = renderCostPage({ title: 'ECI cost of cluster test', currency: 'CNY', days, cells, notes: ['3 days'] });

  it('renders the bar chart: bars with real size, bar colours in the screenshot', (t) => {
    if (!CHROMIUM) {
      if (process.env.CI) assert.fail('chromium is required in CI (.ci/run installs it with apt-get install -y chromium)');
      process.stderr.write('\n######## SKIPPED: chromium not found; install it with `apt-get install -y chromium` ########\n\n');
      t.skip('chromium not installed');
      return;
    }
    // Prepare: the page as shipped, and a copy with a probe that measures the rendered bars
    const page = join(dir, 'report.html');
    writeFileSync(page, html);
    const probe = join(dir, 'probe.html');
    const script = `<script>
const bars=[...document.querySelectorAll('rect.bar')].map(r=>{const b=r.getBoundingClientRect();return {ns:r.dataset.ns,day:r.dataset.day,w:b.width,h:b.height}});
const c=document.getElementById('chart').getBoundingClientRect();
const pre=document.createElement('pre');pre.id='probe';pre.textContent=JSON.stringify({bars,chart:{x:c.x,y:c.y,w:c.width,h:c.height}});document.body.appendChild(pre);
</script>`;
    writeFileSync(probe, html.replace('</body>', `${script}</body>`));

    // Act
    const dom = chromium(['--dump-dom', `file://${probe}`]);
    const shot = join(dir, 'shot.png');
    chromium([`--screenshot=${shot}`, `file://${page}`]);

    // Assess: five bars, each drawn with a non-zero size; taller bar for the larger cost
    const m = /<pre id="probe">([^<]*)<\/pre>/.exec(dom);
    assert.ok(m?.[1], 'probe output missing from the DOM');
    const measured = JSON.parse(m[1].replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as {
      bars: { ns: string; day: string; w: number; h: number }[];
      chart: { x: number; y: number; w: number; h: number };
    };
    assert.equal(measured.bars.length, 5);
    for (const b of measured.bars) assert.ok(b.w > 0 && b.h > 0, `bar ${b.ns} ${b.day} has no size`);
    const h = (ns: string, day: string) => measured.bars.find((b) => b.ns === ns && b.day === day)?.h ?? 0;
    assert.ok(h('shop', '2024-05-03') > h('shop', '2024-05-02'), '12 CNY draws taller than 8 CNY');
    assert.ok(measured.chart.w > 0 && measured.chart.h > 0);

    // the screenshot shows both namespace colours inside the chart area
    const png = decodePng(readFileSync(shot));
    const counts = new Map<string, number>();
    const colours = [namespaceColour(0), namespaceColour(1)]; // jobs, shop (sorted)
    for (let y = Math.floor(measured.chart.y); y < Math.min(png.height, measured.chart.y + measured.chart.h); y++) {
      for (let x = Math.floor(measured.chart.x); x < Math.min(png.width, measured.chart.x + measured.chart.w); x++) {
        const [r, g, b] = png.pixel(x, y);
        for (const c of colours) {
          const [cr, cg, cb] = hex(c);
          if (Math.abs(r - cr) + Math.abs(g - cg) + Math.abs(b - cb) < 12) counts.set(c, (counts.get(c) ?? 0) + 1);
        }
      }
    }
    for (const c of colours) assert.ok((counts.get(c) ?? 0) > 500, `colour ${c} barely visible: ${counts.get(c) ?? 0} px`);
  });
});

describe('HTML reconciliation page in headless Chromium', () => {
  const p = billingDayPeriod('2024-05-01', 8);
  // a bill line without a namespace is the bridge's own (FC); the estimates are bare pods named by their group
  const line = (id: string, amount: string, ns?: string): BillLine => billLine(id, amount, { productCode: ns === undefined ? 'fc' : 'eci' });
  const est = (id: string, ns: string, fee: string) => groupEstimate(id, fee, { uid: id, namespace: ns, pod: id, owner: `${ns}/Pod/${id}` });
  const rec = reconcileDay(
    reconcileInput({
      period: p,
      table: priceTableFor('cn-hangzhou', defaultPriceTables()),
      lines: [line('g1', '12', 'shop'), line('g2', '3', 'jobs'), line('stray', '5', 'x'), line('fn', '1')],
      estimates: [est('g1', 'shop', '10'), est('g2', 'jobs', '3')],
    }),
  );
  const html = renderReconcilePage(rec, 'test');

  it('draws billed beside estimated per namespace, the leak and the bridge as billed bars, both colours visible', (t) => {
    if (!CHROMIUM) {
      if (process.env.CI) assert.fail('chromium is required in CI (.ci/run installs it with apt-get install -y chromium)');
      process.stderr.write('\n######## SKIPPED: chromium not found; install it with `apt-get install -y chromium` ########\n\n');
      t.skip('chromium not installed');
      return;
    }
    const page = join(dir, 'reconcile.html');
    writeFileSync(page, html);
    const probe = join(dir, 'reconcile-probe.html');
    const script = `<script>
const bars=[...document.querySelectorAll('rect.bar')].map(r=>{const b=r.getBoundingClientRect();return {kind:r.dataset.kind,key:r.dataset.key,w:b.width,h:b.height}});
const c=document.getElementById('chart').getBoundingClientRect();
const pre=document.createElement('pre');pre.id='probe';pre.textContent=JSON.stringify({bars,chart:{x:c.x,y:c.y,w:c.width,h:c.height}});document.body.appendChild(pre);
</script>`;
    writeFileSync(probe, html.replace('</body>', `${script}</body>`));
    const dom = chromium(['--dump-dom', `file://${probe}`]);
    const shot = join(dir, 'reconcile.png');
    chromium([`--screenshot=${shot}`, `file://${page}`]);
    const m = /<pre id="probe">([^<]*)<\/pre>/.exec(dom);
    assert.ok(m?.[1], 'probe output missing from the DOM');
    const measured = JSON.parse(m[1].replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as {
      bars: { kind: string; key: string; w: number; h: number }[];
      chart: { x: number; y: number; w: number; h: number };
    };
    // shop and jobs: billed + estimated; the leak and the bridge: billed only
    assert.deepEqual(measured.bars.map((b) => `${b.key}:${b.kind}`).sort(), [
      '(bridge: FC + MNS):billed',
      '(leaked groups):billed',
      'jobs:billed',
      'jobs:estimated',
      'shop:billed',
      'shop:estimated',
    ]);
    for (const b of measured.bars) assert.ok(b.w > 0 && b.h > 0, `bar ${b.key} ${b.kind} has no size`);
    const h = (key: string, kind: string) => measured.bars.find((b) => b.key === key && b.kind === kind)?.h ?? 0;
    assert.ok(h('shop', 'billed') > h('shop', 'estimated'), '12 billed draws taller than 10 estimated');
    const png = decodePng(readFileSync(shot));
    const counts = new Map<string, number>();
    for (let y = Math.floor(measured.chart.y); y < Math.min(png.height, measured.chart.y + measured.chart.h); y++) {
      for (let x = Math.floor(measured.chart.x); x < Math.min(png.width, measured.chart.x + measured.chart.w); x++) {
        const [r, g, b] = png.pixel(x, y);
        for (const c of [BILLED_COLOUR, ESTIMATED_COLOUR]) {
          const [cr, cg, cb] = hex(c);
          if (Math.abs(r - cr) + Math.abs(g - cg) + Math.abs(b - cb) < 12) counts.set(c, (counts.get(c) ?? 0) + 1);
        }
      }
    }
    for (const c of [BILLED_COLOUR, ESTIMATED_COLOUR]) assert.ok((counts.get(c) ?? 0) > 300, `colour ${c} barely visible: ${counts.get(c) ?? 0} px`);
  });

  it('labels the figures and lists the leak (no browser needed)', () => {
    assert.match(html, /billed = real charge/);
    assert.match(html, /estimated = estimate/);
    assert.match(html, /comparison: an ECI VNode/);
    assert.match(html, /<td>stray<\/td><td>5\.00<\/td><td>unknown<\/td>/);
    assert.doesNotMatch(html, /<script/);
  });
});
