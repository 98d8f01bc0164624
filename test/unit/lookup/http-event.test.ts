import { parseLookupEvent } from '../../../lib/lookup/http-event';
import { v1Event, v2Event } from './helpers';

describe('parseLookupEvent', () => {
  it('reads an HTTP API v2 event, keeping repeated query names apart', () => {
    const request = parseLookupEvent(
      v2Event('/services/api', 'attr.v=1&attr.v=2&health=ALL', { 'If-None-Match': 'W/"x"' }),
    );
    expect(request).toEqual({
      method: 'GET',
      path: '/services/api',
      query: [
        ['attr.v', '1'],
        ['attr.v', '2'],
        ['health', 'ALL'],
      ],
      headers: { 'if-none-match': 'W/"x"' },
    });
  });

  it('decodes the v2 query string as a browser would', () => {
    expect(parseLookupEvent(v2Event('/services/api', 'attr.team=red%20team&attr.x=a+b')).query).toEqual([
      ['attr.team', 'red team'],
      ['attr.x', 'a b'],
    ]);
  });

  it('reads a REST API v1 event from its multi-value query parameters', () => {
    const request = parseLookupEvent(
      v1Event(
        '/resolve/api.kudos.local',
        [
          ['max', '1'],
          ['max', '2'],
        ],
        { 'IF-NONE-MATCH': '*' },
      ),
    );
    expect(request).toEqual({
      method: 'GET',
      path: '/resolve/api.kudos.local',
      query: [
        ['max', '1'],
        ['max', '2'],
      ],
      headers: { 'if-none-match': '*' },
    });
  });

  it('reads a v1 event without multi-value parameters from its single-value ones', () => {
    const event = v1Event('/services/api');
    event.queryStringParameters = { health: 'all' };
    expect(parseLookupEvent(event).query).toEqual([['health', 'all']]);
  });

  it('leaves the $default stage path as it is and strips a named stage', () => {
    expect(parseLookupEvent(v2Event('/services/api')).path).toBe('/services/api');
    const staged = v2Event('/prod/services/api');
    staged.requestContext.stage = 'prod';
    expect(parseLookupEvent(staged).path).toBe('/services/api');
  });

  it('refuses an event that is neither payload', () => {
    expect(() => parseLookupEvent({} as never)).toThrow(/not an API Gateway HTTP request/);
  });
});
