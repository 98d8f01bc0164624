/**
 * The discovery console's script, served as `/console/console.<hash>.js`. Plain browser JavaScript (no framework,
 * no build step): it reads the lookup's JSON routes relative to the page (`namespaces`,
 * `namespaces/{ns}/services`, `namespaces/{ns}/services/{svc}?health=all`), polls them every `refresh` seconds
 * (the page's query parameter, 1 to 60, default 2) with If-None-Match so that an unchanged answer is a 304, and
 * updates the tables in place: new instances and health changes are highlighted, removed ones fade out, and each
 * change is announced in an aria-live list. Every value from Cloud Map reaches the page as text
 * (`textContent`), never as markup.
 */
export const CONSOLE_SCRIPT = String.raw`(() => {
  'use strict';
  const params = new URLSearchParams(location.search);
  const refreshSeconds = Math.min(60, Math.max(1, Math.floor(Number(params.get('refresh'))) || 2));
  const HIGHLIGHT_MS = 8000;
  const REMOVED_MS = 4000;
  const MAX_CHANGES = 20;
  const DASH = '\u2014';
  const COLUMNS = ['Instance', 'Address', 'Health', 'Zone', 'ECS cluster', 'ECS service', 'Task definition revision', 'Task version', 'Registered'];
  const HEALTHS = ['HEALTHY', 'UNHEALTHY', 'UNKNOWN'];

  const byId = (id) => document.getElementById(id);
  const statusEl = byId('status');
  const errorEl = byId('error');
  const filterEl = byId('filter');
  const filterResultEl = byId('filter-result');
  const totalsEl = byId('totals');
  const rootEl = byId('namespaces');
  const changesEl = byId('changes');

  const etags = new Map();
  const bodies = new Map();
  const namespaces = new Map();
  let nextId = 0;
  let firstLoad = true;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  /** GET a JSON route; with the ETag of the last answer, an unchanged one is a 304 and the last body is reused. */
  async function getJson(path) {
    const headers = { accept: 'application/json' };
    if (etags.has(path) && bodies.has(path)) headers['if-none-match'] = etags.get(path);
    const response = await fetch(path, { headers, cache: 'no-store' });
    if (response.status === 304 && bodies.has(path)) {
      // Read to its (empty) end: a response left unread is aborted, which the browser logs as a failed request.
      await response.text();
      return { changed: false, body: bodies.get(path) };
    }
    if (!response.ok) {
      let message = 'HTTP ' + response.status;
      try {
        const problem = await response.json();
        if (problem && typeof problem.message === 'string') message = problem.message + ' (' + response.status + ' ' + problem.error + ')';
      } catch (_) {
        // Not one of the lookup's answers (API Gateway's own 403 or 429, a proxy): the status says enough.
      }
      throw new ApiError(response.status, message);
    }
    const body = await response.json();
    const etag = response.headers.get('etag');
    if (etag) etags.set(path, etag);
    else etags.delete(path);
    bodies.set(path, body);
    return { changed: true, body };
  }

  function attribute(instance, key) {
    const attributes = instance.attributes || {};
    const value = Object.prototype.hasOwnProperty.call(attributes, key) ? attributes[key] : undefined;
    return typeof value === 'string' && value !== '' ? value : DASH;
  }

  function address(instance) {
    const host = instance.ipv4 || (instance.ipv6 ? '[' + instance.ipv6 + ']' : '');
    if (!host) return DASH;
    return instance.port === undefined ? host : host + ':' + instance.port;
  }

  function ago(iso, now) {
    const at = Date.parse(iso);
    if (!Number.isFinite(at)) return DASH;
    const seconds = Math.max(0, Math.round((now - at) / 1000));
    if (seconds < 60) return seconds + ' s ago';
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + ' min ago';
    const hours = Math.floor(minutes / 60);
    if (hours < 48) return hours + ' h ' + (minutes % 60) + ' min ago';
    return Math.floor(hours / 24) + ' days ago';
  }

  function compareInstances(a, b) {
    const x = address(a);
    const y = address(b);
    if (x !== y) return x < y ? -1 : 1;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  }

  /** Moves children into the given order, touching the DOM only when it differs (a moved node loses focus). */
  function order(parent, nodes) {
    const current = Array.from(parent.children);
    if (current.length === nodes.length && current.every((node, i) => node === nodes[i])) return;
    for (const node of nodes) parent.appendChild(node);
  }

  function createNamespace(entry) {
    const id = 'ns-' + ++nextId;
    const section = el('section', 'namespace');
    section.setAttribute('aria-labelledby', id);
    const heading = el('h2');
    heading.id = id;
    const title = el('span', '', entry.name);
    heading.append(title);
    if (entry.default) heading.append(' ', el('span', 'default-tag', '(default)'));
    const list = el('div', 'services');
    const empty = el('p', 'empty', 'No services.');
    empty.hidden = true;
    section.append(heading, list, empty);
    const view = { name: entry.name, title, section, list, empty, services: new Map(), loaded: false };
    namespaces.set(entry.name, view);
    return view;
  }

  function createService(ns, name) {
    const id = 'svc-' + ++nextId;
    const section = el('section', 'service');
    section.dataset.service = name;
    const head = el('div', 'service-head');
    const heading = el('h3');
    const toggle = el('button', 'toggle', name);
    toggle.type = 'button';
    toggle.setAttribute('aria-expanded', 'true');
    toggle.setAttribute('aria-controls', id);
    heading.append(toggle);
    const counts = el('span', 'counts');
    head.append(heading, counts);
    const body = el('div', 'service-body');
    body.id = id;
    const table = el('table');
    const caption = el('caption', 'visually-hidden', 'Instances of ' + name + ' in ' + ns.name);
    const thead = el('thead');
    const headRow = el('tr');
    for (const column of COLUMNS) {
      const th = el('th', '', column);
      th.scope = 'col';
      headRow.append(th);
    }
    thead.append(headRow);
    const tbody = el('tbody');
    table.append(caption, thead, tbody);
    const empty = el('p', 'empty', 'No instances.');
    empty.hidden = true;
    body.append(table, empty);
    section.append(head, body);
    const view = { ns, name, section, toggle, counts, body, table, tbody, empty, rows: new Map(), loaded: false };
    toggle.addEventListener('click', () => {
      const expanded = toggle.getAttribute('aria-expanded') !== 'true';
      toggle.setAttribute('aria-expanded', String(expanded));
      body.hidden = !expanded;
    });
    ns.services.set(name, view);
    return view;
  }

  function createRow() {
    const tr = el('tr');
    const cells = {};
    for (const key of ['id', 'addr', 'health', 'zone', 'cluster', 'service', 'revision', 'version', 'registered']) {
      cells[key] = el('td', key === 'id' || key === 'addr' ? key : '');
      tr.append(cells[key]);
    }
    return { tr, cells, instance: undefined, removed: false, search: '', timer: undefined };
  }

  function fillRow(view, row, now) {
    const i = row.instance;
    const { cells } = row;
    const badge = cells.id.querySelector('.badge');
    cells.id.textContent = i.id;
    if (badge) cells.id.append(badge);
    cells.addr.textContent = address(i);
    const health = el('span', 'health health-' + (HEALTHS.includes(i.health) ? i.health : 'UNKNOWN'), i.health);
    cells.health.replaceChildren(health);
    cells.zone.textContent = attribute(i, 'AVAILABILITY_ZONE');
    cells.cluster.textContent = attribute(i, 'ECS_CLUSTER_NAME');
    cells.service.textContent = attribute(i, 'ECS_SERVICE_NAME');
    cells.revision.textContent = attribute(i, 'ECS_TASK_DEFINITION_REVISION');
    cells.version.textContent = attribute(i, 'ECS_TASK_VERSION');
    const registeredAt = attribute(i, 'REGISTRAR_REGISTERED_AT');
    if (registeredAt === DASH) {
      cells.registered.textContent = DASH;
    } else {
      const time = el('time', '', ago(registeredAt, now));
      time.dateTime = registeredAt;
      time.title = registeredAt;
      cells.registered.replaceChildren(time);
    }
    row.search = [view.ns.name, view.name, i.id, address(i), i.health, cells.zone.textContent, cells.cluster.textContent,
      cells.service.textContent, cells.revision.textContent, cells.version.textContent].join(' ').toLowerCase();
  }

  function setBadge(row, text) {
    const old = row.cells.id.querySelector('.badge');
    if (old) old.remove();
    if (text) row.cells.id.append(el('span', 'badge', text));
  }

  /** Highlights a row for a while; restarting the animation when it is highlighted again. */
  function highlight(row, className, badge) {
    row.tr.classList.remove('is-new', 'is-changed');
    void row.tr.offsetWidth;
    row.tr.classList.add(className);
    setBadge(row, badge);
    clearTimeout(row.timer);
    row.timer = setTimeout(() => {
      row.tr.classList.remove(className);
      setBadge(row, '');
    }, HIGHLIGHT_MS);
  }

  function removeRow(view, id, row) {
    row.removed = true;
    clearTimeout(row.timer);
    row.tr.classList.remove('is-new', 'is-changed');
    row.tr.classList.add('is-removed');
    setBadge(row, 'removed');
    setTimeout(() => row.tr.classList.add('gone'), 50);
    row.timer = setTimeout(() => {
      row.tr.remove();
      if (view.rows.get(id) === row) view.rows.delete(id);
      updateCounts(view);
      renderTotals();
      applyFilter();
    }, REMOVED_MS);
  }

  /** Applies one answer of a service: returns the changes to announce (none on its first answer). */
  function updateService(view, instances, now) {
    const changes = [];
    const seen = new Set();
    const live = [];
    for (const instance of instances.slice().sort(compareInstances)) {
      seen.add(instance.id);
      let row = view.rows.get(instance.id);
      const before = row && !row.removed ? row.instance : undefined;
      if (!before) {
        if (row) {
          clearTimeout(row.timer);
          row.tr.remove();
        }
        row = createRow();
        view.rows.set(instance.id, row);
      }
      row.instance = instance;
      fillRow(view, row, now);
      if (view.loaded && !before) {
        highlight(row, 'is-new', 'new');
        changes.push(view.name + ': new instance ' + address(instance) + ', ' + instance.health);
      } else if (before && before.health !== instance.health) {
        highlight(row, 'is-changed', 'health changed');
        changes.push(view.name + ': ' + address(instance) + ' is now ' + instance.health + ' (was ' + before.health + ')');
      }
      live.push(row.tr);
    }
    const leaving = [];
    for (const [id, row] of view.rows) {
      if (seen.has(id)) continue;
      if (!row.removed) {
        removeRow(view, id, row);
        changes.push(view.name + ': instance ' + address(row.instance) + ' removed');
      }
      leaving.push(row.tr);
    }
    order(view.tbody, live.concat(leaving));
    view.loaded = true;
    updateCounts(view);
    return changes;
  }

  function liveRows(view) {
    return Array.from(view.rows.values()).filter((row) => !row.removed);
  }

  function healthCounts(rows) {
    const counts = { HEALTHY: 0, UNHEALTHY: 0, UNKNOWN: 0 };
    for (const row of rows) counts[HEALTHS.includes(row.instance.health) ? row.instance.health : 'UNKNOWN'] += 1;
    return counts;
  }

  function plural(n, word) {
    return n + ' ' + word + (n === 1 ? '' : 's');
  }

  function updateCounts(view) {
    const rows = liveRows(view);
    const counts = healthCounts(rows);
    const parts = [plural(rows.length, 'instance')];
    for (const health of HEALTHS) if (counts[health] > 0) parts.push(counts[health] + ' ' + health.toLowerCase());
    view.counts.textContent = parts.join(' \u00b7 ');
    view.empty.hidden = view.rows.size > 0;
    view.table.hidden = view.rows.size === 0;
  }

  function renderTotals() {
    let services = 0;
    const rows = [];
    for (const ns of namespaces.values()) {
      for (const view of ns.services.values()) {
        services += 1;
        rows.push(...liveRows(view));
      }
    }
    const counts = healthCounts(rows);
    const items = [plural(services, 'service'), plural(rows.length, 'instance')];
    for (const health of HEALTHS) items.push(counts[health] + ' ' + health.toLowerCase());
    const nodes = items.map((text) => el('li', '', text));
    totalsEl.replaceChildren(...nodes);
  }

  /** Shows the rows whose text holds every word of the filter, and the services with such rows. */
  function applyFilter() {
    const words = filterEl.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    let total = 0;
    for (const ns of namespaces.values()) {
      let nsShown = 0;
      for (const view of ns.services.values()) {
        let visible = 0;
        for (const row of view.rows.values()) {
          const match = words.every((word) => row.search.includes(word));
          row.tr.hidden = !match;
          if (row.removed) continue;
          total += 1;
          if (match) visible += 1;
        }
        shown += visible;
        const nameMatches = words.every((word) => (ns.name + ' ' + view.name).toLowerCase().includes(word));
        view.section.hidden = words.length > 0 && visible === 0 && !(view.rows.size === 0 && nameMatches);
        if (!view.section.hidden) nsShown += 1;
      }
      ns.empty.hidden = ns.services.size > 0;
      ns.section.hidden = words.length > 0 && nsShown === 0;
    }
    filterResultEl.textContent = words.length > 0 ? shown + ' of ' + plural(total, 'instance') + ' match' : '';
  }

  function announce(changes) {
    const time = new Date().toLocaleTimeString();
    for (const change of changes) changesEl.prepend(el('li', '', time + ' ' + change));
    while (changesEl.children.length > MAX_CHANGES) changesEl.lastElementChild.remove();
  }

  function servicePath(ns, service) {
    return 'namespaces/' + encodeURIComponent(ns) + '/services' + (service === undefined ? '' : '/' + encodeURIComponent(service));
  }

  async function pollService(view, now, changes) {
    let instances;
    try {
      const answer = await getJson(servicePath(view.ns.name, view.name) + '?health=all');
      if (!answer.changed && view.loaded) return;
      instances = answer.body.instances;
    } catch (error) {
      // Deleted since the list was read: no instances now; the next list drops it.
      if (!(error instanceof ApiError && error.status === 404)) throw error;
      instances = [];
    }
    changes.push(...updateService(view, instances, now));
  }

  async function pollNamespace(entry, now, changes) {
    const ns = namespaces.get(entry.name) || createNamespace(entry);
    const { body } = await getJson(servicePath(entry.name));
    // A namespace listed by its id (configured by id or ARN) is shown by its name, the id beside it.
    if (typeof body.namespace === 'string' && body.namespace !== entry.name) {
      ns.title.textContent = body.namespace + ' (' + entry.name + ')';
    }
    const names = body.services.map((service) => service.name);
    for (const [name, view] of ns.services) {
      if (names.includes(name)) continue;
      view.section.remove();
      ns.services.delete(name);
      const path = servicePath(ns.name, name) + '?health=all';
      etags.delete(path);
      bodies.delete(path);
      changes.push(name + ': service removed');
    }
    const views = names.map((name) => {
      const known = ns.services.get(name);
      if (known) return known;
      if (ns.loaded) changes.push(name + ': new service');
      return createService(ns, name);
    });
    order(ns.list, views.map((view) => view.section));
    ns.loaded = true;
    const results = await Promise.allSettled(views.map((view) => pollService(view, now, changes)));
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  }

  function refreshTimes(now) {
    for (const time of rootEl.querySelectorAll('time')) time.textContent = ago(time.dateTime, now);
  }

  function showError(message) {
    if (message === undefined) {
      errorEl.hidden = true;
      errorEl.textContent = '';
      return;
    }
    if (errorEl.textContent !== message) errorEl.textContent = message;
    errorEl.hidden = false;
  }

  async function poll() {
    const now = Date.now();
    const changes = [];
    try {
      const { body } = await getJson('namespaces');
      const entries = body.namespaces;
      const results = await Promise.allSettled(entries.map((entry) => pollNamespace(entry, now, changes)));
      for (const [name, ns] of namespaces) {
        if (entries.some((entry) => entry.name === name)) continue;
        ns.section.remove();
        namespaces.delete(name);
      }
      order(rootEl, entries.map((entry) => namespaces.get(entry.name).section));
      const failed = results.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
      showError(undefined);
      statusEl.textContent = 'Updated ' + new Date().toLocaleTimeString() + ', every ' + plural(refreshSeconds, 'second');
    } catch (error) {
      showError('The lookup API did not answer: ' + (error && error.message ? error.message : String(error)));
      statusEl.textContent = 'Retrying every ' + plural(refreshSeconds, 'second');
    }
    refreshTimes(now);
    renderTotals();
    applyFilter();
    if (!firstLoad) announce(changes);
    firstLoad = false;
    document.body.dataset.polls = String(Number(document.body.dataset.polls || 0) + 1);
  }

  async function loop() {
    if (!document.hidden) await poll();
    setTimeout(loop, refreshSeconds * 1000);
  }

  filterEl.addEventListener('input', applyFilter);
  loop();
})();
`;
