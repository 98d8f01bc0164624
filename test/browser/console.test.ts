/// <reference lib="dom" />
import { accessSync, constants, mkdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { CreateServiceCommand, RunTaskCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { type Browser, launch, type Page } from 'puppeteer-core';
import { createHandler } from '../../functions/lookup';
import { loadReconcileConfig } from '../../lib/config';
import { sweepHealth } from '../../lib/health-sweep';
import { createCloudMapLookupApp } from '../../lib/lookup/lookup-app';
import { createRegistrarDeps } from '../../lib/registrar-runtime';
import { fargateService, namedFargateTask, registerApp } from '../../support/ecs-setup';
import { type LocalHttpServer, startLocalHttpServer } from '../../support/http-api-server';
import { KUDOS_CLUSTER, pipelineForTests, withKudosApi } from '../helpers/pipeline-hooks';
import { lambdaContext, testConfig } from '../unit/lookup/helpers';

/**
 * The discovery console in a real browser: headless Chromium (Debian's `chromium` package) driven by
 * puppeteer-core, against the local pipeline (emulator, dynalite, the real register handler) and the real lookup
 * handler served over HTTP. The page polls every second (`?refresh=1`); the lookup's cache interval and health
 * max age are shortened so that a change reaches it within a poll or two.
 *
 * Set CONSOLE_SCREENSHOT=docs/console.png to write the README's screenshot from the populated page.
 */

const cluster = KUDOS_CLUSTER;
const WAIT = { timeout: 10_000, polling: 100 };

/** Debian's chromium, or CHROMIUM_PATH: never skipped, a missing browser fails naming the package. */
function chromiumPath(): string {
  const candidates = process.env.CHROMIUM_PATH
    ? [process.env.CHROMIUM_PATH]
    : (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'chromium'));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not this one
    }
  }
  throw new Error(
    'No Chromium found: install Debian\'s "chromium" package (apt-get install chromium) or set CHROMIUM_PATH',
  );
}

const pipeline = pipelineForTests(async (p) => {
  await withKudosApi(p);
  await registerApp(p.ecs, 'checked', {
    portMappings: [{ containerPort: 8080 }],
    healthCheck: { command: ['CMD-SHELL', 'curl -f http://localhost:8080/ || exit 1'], interval: 5, retries: 3 },
  });
});

let lookup: LocalHttpServer;
let browser: Browser;
let page: Page;
let checkedTaskArn = '';
/** What the lookup answered the page. */
const answered: { path: string; ifNoneMatch: string | undefined; status: number }[] = [];
/** Console errors, page errors and CSP violations, as the page reports them. */
const problems: string[] = [];

beforeAll(async () => {
  const { ecs, emulator } = pipeline;
  await ecs.send(
    new CreateServiceCommand(fargateService({ cluster, serviceName: 'api', taskDefinition: 'api', desiredCount: 2 })),
  );
  const run = await ecs.send(new RunTaskCommand(namedFargateTask(cluster, 'checked', 'checked')));
  checkedTaskArn = run.tasks?.[0]?.taskArn ?? '';
  await emulator.idle();

  const config = testConfig({ namespace: 'kudos.local', cacheIntervalMs: 100, healthMaxAgeMs: 200 });
  const handler = createHandler(createCloudMapLookupApp(config, pipeline.cloudMap));
  lookup = await startLocalHttpServer(async (event) => {
    const response = await handler(event, lambdaContext);
    answered.push({ path: event.rawPath, ifNoneMatch: event.headers['if-none-match'], status: response.statusCode });
    return response;
  });

  browser = await launch({
    executablePath: chromiumPath(),
    headless: true,
    // Chromium's sandbox cannot start as root (CI containers).
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
  page = await browser.newPage();
  await page.setViewport({ width: 1200, height: 700 });
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warn')
      problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${String(error)}`));
  page.on('requestfailed', (request) =>
    problems.push(`request failed: ${request.url()} ${request.failure()?.errorText} ${Date.now()}`),
  );
  // Injected by DevTools, so the page's CSP does not apply to this listener itself.
  await page.evaluateOnNewDocument(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  await page.goto(`${lookup.url}/console?refresh=1`, { waitUntil: 'load' });
  // Marks this document: still there later means the page was never reloaded.
  await page.evaluate(() => {
    (window as unknown as { marker: number }).marker = 42;
  });
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await lookup?.close();
});

/** The rows of a service's table: [id, address, health, zone, cluster, ECS service, revision, version, registered]. */
function rows(service: string): Promise<string[][]> {
  return page.$$eval(`section[data-service="${service}"] tbody tr:not(.is-removed)`, (trs) =>
    trs.map((tr) =>
      Array.from(tr.querySelectorAll('td'), (td) =>
        Array.from(td.childNodes)
          .filter((node) => !(node instanceof Element && node.classList.contains('badge')))
          .map((node) => node.textContent)
          .join(''),
      ),
    ),
  );
}

function waitForRows(service: string, count: number) {
  return page.waitForFunction(
    (s: string, n: number) =>
      document.querySelectorAll(`section[data-service="${s}"] tbody tr:not(.is-removed)`).length === n,
    WAIT,
    service,
    count,
  );
}

async function notReloaded(): Promise<void> {
  await expect(page.evaluate(() => (window as unknown as { marker?: number }).marker)).resolves.toBe(42);
}

describe('the discovery console in headless Chromium', () => {
  it("lists each service's instances with address, health, zone, cluster, service, revision, version and age", async () => {
    await waitForRows('api', 2);
    await waitForRows('checked', 1);

    const api = await rows('api');
    for (const [id, address, health, zone, ecsCluster, ecsService, revision, version, registered] of api) {
      expect(id).toMatch(/^[0-9a-f]{32}$/);
      expect(address).toMatch(/^127\.\d+\.\d+\.\d+:8080$/);
      expect(['HEALTHY', 'UNKNOWN']).toContain(health);
      expect(zone).toMatch(/^us-east-1[a-z]$/);
      expect([ecsCluster, ecsService, revision]).toEqual(['kudos', 'api', '1']);
      expect(version).toMatch(/^\d+$/);
      expect(registered).toMatch(/^\d+ s ago$/);
    }
    await expect(page.$eval('section[data-service="api"] .counts', (e) => e.textContent)).resolves.toMatch(
      /^2 instances · 2 (healthy|unknown)$/,
    );
    await expect(page.$$eval('#totals li', (lis) => lis.map((li) => li.textContent))).resolves.toEqual(
      expect.arrayContaining(['2 services', '3 instances']),
    );
    await expect(page.$eval('table caption', (e) => e.textContent)).resolves.toBe('Instances of api in kudos.local');
    await expect(
      page.$$eval('section[data-service="api"] thead th', (ths) => ths.map((th) => th.scope)),
    ).resolves.toEqual(Array(9).fill('col'));
  });

  it('polls with If-None-Match, so that an unchanged answer is a 304 with no body', async () => {
    const seen = answered.length;
    await page.waitForFunction(
      (n: number) => Number(document.body.dataset.polls) >= n,
      WAIT,
      Number(await page.evaluate(() => document.body.dataset.polls)) + 2,
    );

    const later = answered.slice(seen);
    expect(later.filter((a) => a.path === '/namespaces')).toEqual(
      expect.arrayContaining([{ path: '/namespaces', ifNoneMatch: expect.stringMatching(/^W\//), status: 304 }]),
    );
    expect(later.filter((a) => a.path === '/namespaces/kudos.local/services/api')).toContainEqual(
      expect.objectContaining({ status: 304 }),
    );
  });

  it('shows a scale-up without a reload, highlighted, and announces it', async () => {
    const before = new Set((await rows('api')).map(([id]) => id));

    await pipeline.ecs.send(new UpdateServiceCommand({ cluster, service: 'api', desiredCount: 3 }));
    await pipeline.emulator.idle();
    await waitForRows('api', 3);

    const added = (await rows('api')).filter(([id]) => !before.has(id));
    expect(added).toHaveLength(1);
    const highlighted = await page.$$eval('section[data-service="api"] tbody tr.is-new', (trs) =>
      trs.map((tr) => [tr.querySelector('td')?.firstChild?.textContent, tr.querySelector('.badge')?.textContent]),
    );
    expect(highlighted).toEqual([[added[0]?.[0], 'new']]);
    await expect(page.$eval('#changes', (e) => e.textContent)).resolves.toContain(`api: new instance ${added[0]?.[1]}`);
    await expect(page.$eval('#changes', (e) => e.getAttribute('aria-live'))).resolves.toBe('polite');
    await notReloaded();
  });

  it('shows a health change of a health-checked task without a reload', async () => {
    const id = checkedTaskArn.split('/').pop() ?? '';
    await expect(rows('checked')).resolves.toEqual([expect.arrayContaining([id, 'HEALTHY'])]);

    pipeline.emulator.setTaskHealth({ taskArn: checkedTaskArn, cluster }, 'UNHEALTHY');
    await expect(sweepHealth(createRegistrarDeps(loadReconcileConfig()), [cluster], new Date())).resolves.toMatchObject(
      {
        healthChanged: 1,
      },
    );
    await page.waitForFunction(
      () => document.querySelector('section[data-service="checked"] tbody tr .health')?.textContent === 'UNHEALTHY',
      WAIT,
    );

    await expect(
      page.$eval('section[data-service="checked"] tbody tr', (tr) => [
        tr.className,
        tr.querySelector('.badge')?.textContent,
      ]),
    ).resolves.toEqual(['is-changed', 'health changed']);
    await expect(page.$eval('section[data-service="checked"] .counts', (e) => e.textContent)).resolves.toBe(
      '1 instance · 1 unhealthy',
    );
    await expect(page.$eval('#changes', (e) => e.textContent)).resolves.toMatch(
      /checked: \S+ is now UNHEALTHY \(was HEALTHY\)/,
    );
    await notReloaded();
  });

  it('works by keyboard: Tab reaches the filter, then each service in order, with a visible focus; Enter and Space toggle', async () => {
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    const focused = () =>
      page.evaluate(() => {
        const e = document.activeElement as HTMLElement;
        const style = getComputedStyle(e);
        return {
          id: e.id,
          text: e.textContent,
          visible: style.outlineStyle !== 'none' && style.outlineWidth !== '0px',
        };
      });

    await page.keyboard.press('Tab');
    await expect(focused()).resolves.toMatchObject({ id: 'filter', visible: true });
    await page.keyboard.press('Tab');
    await expect(focused()).resolves.toMatchObject({ text: 'api', visible: true });
    await page.keyboard.press('Tab');
    await expect(focused()).resolves.toMatchObject({ text: 'checked', visible: true });

    const state = () =>
      page.$eval('section[data-service="checked"]', (s) => [
        s.querySelector('button')?.getAttribute('aria-expanded'),
        (s.querySelector('.service-body') as HTMLElement).hidden,
      ]);
    await page.keyboard.press('Enter');
    await expect(state()).resolves.toEqual(['false', true]);
    await page.keyboard.press('Space');
    await expect(state()).resolves.toEqual(['true', false]);
  });

  it('narrows the rows to those matching the filter', async () => {
    const [first] = await rows('api');
    const address = first?.[1] ?? '';

    await page.focus('#filter');
    await page.keyboard.type(address);

    const visible = await page.$$eval('tbody tr:not([hidden])', (trs) =>
      trs.map((tr) => tr.querySelectorAll('td')[1]?.textContent),
    );
    expect(visible).toEqual([address]);
    await expect(page.$eval('section[data-service="checked"]', (s) => (s as HTMLElement).hidden)).resolves.toBe(true);
    await expect(page.$eval('#filter-result', (e) => e.textContent)).resolves.toBe('1 of 4 instances match');

    await page.$eval('#filter', (input) => {
      (input as HTMLInputElement).value = 'unhealthy';
      input.dispatchEvent(new Event('input'));
    });
    await expect(page.$$eval('tbody tr:not([hidden])', (trs) => trs.length)).resolves.toBe(1);
    await expect(page.$eval('section[data-service="api"]', (s) => (s as HTMLElement).hidden)).resolves.toBe(true);

    await page.$eval('#filter', (input) => {
      (input as HTMLInputElement).value = '';
      input.dispatchEvent(new Event('input'));
    });
    await expect(page.$$eval('tbody tr:not([hidden])', (trs) => trs.length)).resolves.toBe(4);
    const screenshot = process.env.CONSOLE_SCREENSHOT;
    if (screenshot) {
      mkdirSync(dirname(screenshot), { recursive: true });
      await page.screenshot({ path: screenshot as `${string}.png` });
    }
  });

  it('fades out a removed instance, marked as removed, then drops it', async () => {
    await pipeline.ecs.send(new UpdateServiceCommand({ cluster, service: 'api', desiredCount: 2 }));
    await pipeline.emulator.idle();

    await page.waitForSelector('section[data-service="api"] tbody tr.is-removed', WAIT);
    await expect(
      page.$eval('section[data-service="api"] tbody tr.is-removed', (tr) => tr.querySelector('.badge')?.textContent),
    ).resolves.toBe('removed');
    await expect(page.$eval('section[data-service="api"] .counts', (e) => e.textContent)).resolves.toMatch(
      /^2 instances/,
    );
    await page.waitForFunction(
      () => document.querySelectorAll('section[data-service="api"] tbody tr').length === 2,
      WAIT,
    );
    await expect(page.$eval('#changes', (e) => e.textContent)).resolves.toMatch(/api: instance \S+ removed/);
    await notReloaded();
  });

  it('logged no console error, page error, failed request or CSP violation; a violation would be seen', async () => {
    expect(problems).toEqual([]);

    // An inline style is what the policy refuses: the listener must report it.
    const reported = new Promise<string>((resolve) => {
      page.on('console', (message) => {
        if (message.text().startsWith('CSP violation')) resolve(message.text());
      });
    });
    await page.evaluate(() => {
      const style = document.createElement('style');
      style.textContent = 'body { color: red; }';
      document.head.append(style);
    });
    await expect(reported).resolves.toMatch(/^CSP violation: style-src/);
  });
});
