/**
 * The discovery console's page. Its script and stylesheet are files of their own under `console/` (relative
 * URLs, so the page works under an API Gateway stage prefix and behind `registrar console`); nothing inline, so
 * the Content-Security-Policy can refuse every inline script and style. The icon is an empty `data:` URL, so the
 * browser asks for no /favicon.ico (a 404 there would be a console error).
 */
export function consolePage(scriptFile: string, styleFile: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Discovery console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="console/${styleFile}">
<script src="console/${scriptFile}" defer></script>
</head>
<body>
<header class="top">
<h1>Discovery console</h1>
<p id="status" class="status">Loading&hellip;</p>
</header>
<main>
<p id="error" class="error" role="alert" hidden></p>
<div class="toolbar">
<label for="filter">Filter</label>
<input id="filter" type="search" autocomplete="off" spellcheck="false" aria-describedby="filter-help filter-result">
<span id="filter-help" class="hint">by service, address, instance, zone, cluster, revision, version or health; all words must match</span>
<span id="filter-result" class="hint" aria-live="polite"></span>
</div>
<ul id="totals" class="totals" aria-label="Instances by health"></ul>
<div id="namespaces"></div>
<section class="changes" aria-labelledby="changes-title">
<h2 id="changes-title">Recent changes</h2>
<ol id="changes" aria-live="polite"></ol>
</section>
<noscript><p class="error">The console needs JavaScript; the JSON routes (/namespaces, /services) work without it.</p></noscript>
</main>
</body>
</html>
`;
}
