/**
 * The discovery console's stylesheet, served as `/console/console.<hash>.css` (a file, never inline: the page's
 * Content-Security-Policy allows styles from 'self' only). Colours meet WCAG AA contrast on their backgrounds;
 * health is said in words as well as colour; motion stops under prefers-reduced-motion.
 */
export const CONSOLE_STYLE = String.raw`:root {
  color-scheme: light;
  --fg: #1b1f24;
  --muted: #4b5563;
  --bg: #ffffff;
  --panel: #f4f6f8;
  --line: #d0d7de;
  --focus: #0b5cad;
  --healthy: #116329;
  --healthy-bg: #dafbe1;
  --unhealthy: #a40e26;
  --unhealthy-bg: #ffebe9;
  --unknown: #6e4600;
  --unknown-bg: #fff5d6;
  --new-bg: #fff1a8;
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header.top { display: flex; align-items: baseline; gap: 1rem; padding: 0.75rem 1.25rem; border-bottom: 1px solid var(--line); background: var(--panel); }
h1 { font-size: 1.25rem; margin: 0; }
h2 { font-size: 1.05rem; margin: 1rem 0 0.5rem; }
h3 { font-size: 1rem; margin: 0; }
main { padding: 0.75rem 1.25rem 2rem; }
.status { margin: 0; color: var(--muted); }
.error { margin: 0.5rem 0; padding: 0.5rem 0.75rem; border: 1px solid var(--unhealthy); background: var(--unhealthy-bg); color: var(--unhealthy); border-radius: 4px; }
.toolbar { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 0.75rem; }
.toolbar label { font-weight: 600; }
.toolbar input { font: inherit; padding: 0.35rem 0.5rem; min-width: 22rem; border: 1px solid var(--muted); border-radius: 4px; }
.hint { color: var(--muted); font-size: 0.9em; }
.totals { list-style: none; display: flex; flex-wrap: wrap; gap: 0.5rem; padding: 0; margin: 0.75rem 0 0; }
.totals li { padding: 0.15rem 0.6rem; border-radius: 999px; border: 1px solid var(--line); background: var(--panel); }
.namespace { margin-top: 0.5rem; }
.default-tag { font-weight: normal; color: var(--muted); font-size: 0.9em; }
.service { border: 1px solid var(--line); border-radius: 6px; margin: 0.5rem 0; }
.service-head { display: flex; flex-wrap: wrap; align-items: center; gap: 0.25rem 1rem; padding: 0.35rem 0.5rem; background: var(--panel); border-radius: 6px 6px 0 0; }
.toggle { font: inherit; font-weight: 600; border: 1px solid transparent; background: none; color: var(--fg); padding: 0.15rem 0.35rem; border-radius: 4px; cursor: pointer; }
.toggle::before { content: "\25BE"; display: inline-block; width: 1.1em; }
.toggle[aria-expanded="false"]::before { content: "\25B8"; }
.counts { color: var(--muted); }
table { width: 100%; border-collapse: collapse; font-size: 0.92em; }
caption { text-align: left; }
th, td { text-align: left; padding: 0.3rem 0.5rem; border-top: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); }
td { white-space: nowrap; }
td.id { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; white-space: normal; word-break: break-all; }
td.addr { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; white-space: nowrap; }
.health { display: inline-block; padding: 0 0.45rem; border-radius: 999px; font-weight: 600; font-size: 0.85em; }
.health-HEALTHY { color: var(--healthy); background: var(--healthy-bg); }
.health-UNHEALTHY { color: var(--unhealthy); background: var(--unhealthy-bg); }
.health-UNKNOWN { color: var(--unknown); background: var(--unknown-bg); }
.badge { display: inline-block; margin-left: 0.4rem; padding: 0 0.35rem; border-radius: 3px; font-size: 0.78em; font-weight: 700; text-transform: uppercase; background: var(--fg); color: var(--bg); }
tr.is-new, tr.is-changed { animation: flash 6s ease-out; }
tr.is-new > td, tr.is-changed > td { background: var(--new-bg); }
tr.is-removed { opacity: 0.35; transition: opacity 3s ease-in; text-decoration: line-through; }
tr.is-removed.gone { opacity: 0; }
@keyframes flash { from { background: var(--new-bg); } to { background: transparent; } }
.empty { color: var(--muted); padding: 0.4rem 0.5rem; margin: 0; }
.changes ol { margin: 0; padding-left: 1.25rem; color: var(--muted); }
.visually-hidden { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
[hidden] { display: none !important; }
@media (prefers-reduced-motion: reduce) {
  tr.is-new, tr.is-changed { animation: none; }
  tr.is-removed { transition: none; }
}
`;
