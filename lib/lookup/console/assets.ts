import { createHash } from 'node:crypto';
import { RouteNotFoundError } from '../../errors';
import { matchesIfNoneMatch } from '../answers';
import type { HttpResponse } from '../types';
import { consolePage } from './page';
import { CONSOLE_SCRIPT } from './script';
import { CONSOLE_STYLE } from './style';

/**
 * The discovery console's three files, as the lookup API (and `registrar console`) serves them: `/console`, the
 * page, and its script and stylesheet under `/console/`, named by a hash of their content so that they can be
 * cached for a year and a new version is a new URL. Every answer carries a strict Content-Security-Policy: only
 * this origin's script, style and JSON; no inline script or style, no plugin, no frame, no form, no base URL.
 */

/** The policy of every console answer (and of `registrar console`'s). */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

/** Headers of every console answer besides its type and caching. */
export const CONSOLE_HEADERS = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

/** The page itself is revalidated on every load (a new deploy shows at once); 304 while it is the same. */
const PAGE_CACHE_CONTROL = 'no-cache';
/** A hashed asset never changes under its name. */
const ASSET_CACHE_CONTROL = 'public, max-age=31536000, immutable';

interface ConsoleFile {
  body: string;
  headers: Record<string, string>;
}

interface ConsoleFiles {
  page: ConsoleFile;
  assets: Map<string, ConsoleFile>;
}

function hashOf(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

function file(body: string, contentType: string, cacheControl: string): ConsoleFile {
  return {
    body,
    headers: {
      'content-type': contentType,
      'cache-control': cacheControl,
      etag: `"${hashOf(body)}"`,
      ...CONSOLE_HEADERS,
    },
  };
}

let built: ConsoleFiles | undefined;

/** Built at the first console request, not while the function loads: most containers never serve one. */
function consoleFiles(): ConsoleFiles {
  if (built) return built;
  const script = `console.${hashOf(CONSOLE_SCRIPT)}.js`;
  const style = `console.${hashOf(CONSOLE_STYLE)}.css`;
  built = {
    page: file(consolePage(script, style), 'text/html; charset=utf-8', PAGE_CACHE_CONTROL),
    assets: new Map([
      [script, file(CONSOLE_SCRIPT, 'text/javascript; charset=utf-8', ASSET_CACHE_CONTROL)],
      [style, file(CONSOLE_STYLE, 'text/css; charset=utf-8', ASSET_CACHE_CONTROL)],
    ]),
  };
  return built;
}

/** The names of the console's script and stylesheet, as the page links them (under `console/`). */
export function consoleAssetNames(): string[] {
  return [...consoleFiles().assets.keys()];
}

/**
 * The answer to `/console` (no `file`) or `/console/FILE`: 200 with the file, or 304 when If-None-Match names
 * its ETag. An unknown file (an older hash included) is RouteNotFoundError, a 404 like any unknown path.
 */
export function consoleResponse(fileName: string | undefined, ifNoneMatch: string | undefined): HttpResponse {
  const files = consoleFiles();
  const found = fileName === undefined ? files.page : files.assets.get(fileName);
  if (!found) throw new RouteNotFoundError();
  const etag = found.headers.etag as string;
  if (matchesIfNoneMatch(ifNoneMatch, etag)) return { statusCode: 304, headers: { ...found.headers }, body: '' };
  return { statusCode: 200, headers: { ...found.headers }, body: found.body };
}
