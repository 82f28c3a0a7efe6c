// The JavaScript OpenFeature OFREP providers against a real `burgee-sidecar serve`:
// the server SDK with OFREPProvider (one POST per evaluation) and the web SDK
// with OFREPWebProvider (one bulk POST per context, then polling with ETag).
//
// Every expectation comes from `burgee-sidecar eval` run on the same flags file
// with the same flag, environment and context.
//
// Run: node --test (from this folder). BURGEE_SIDECAR names the binary
// (default: target/debug/burgee-sidecar under the repo root).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { OpenFeature as ServerOpenFeature } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { OpenFeature as WebOpenFeature } from '@openfeature/web-sdk';
import { OFREPWebProvider } from '@openfeature/ofrep-web-provider';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..', '..');
const FLAGS = path.join(REPO, 'tests', 'clients', 'flags.json');
const BINARY = path.resolve(REPO, process.env.BURGEE_SIDECAR || 'target/debug/burgee-sidecar');
const FIRST_ENV = 'production'; // the file's first environment: served when no header names one
const STAGING = 'staging'; // picked with the X-Burgee-Environment header

if (!existsSync(BINARY)) {
  throw new Error(`burgee-sidecar binary not found at ${BINARY} (build it or set BURGEE_SIDECAR)`);
}

// --- the reference: burgee-sidecar eval ----------------------------------------

function reference(flag, context, environment = FIRST_ENV) {
  const args = ['eval', FLAGS, '--flag', flag, '--environment', environment, '--context', JSON.stringify(context)];
  let stdout;
  let status = 0;
  try {
    stdout = execFileSync(BINARY, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    // eval exits 1 when it prints an OFREP error object
    if (err.status !== 1) throw err;
    stdout = err.stdout;
    status = 1;
  }
  const result = JSON.parse(stdout);
  assert.equal(status === 0, !('errorCode' in result), `eval exit ${status} for ${stdout}`);
  return result;
}

// What the OFREP providers keep of OFREP metadata: primitive values only.
function primitiveMetadata(metadata) {
  return Object.fromEntries(
    Object.entries(metadata ?? {}).filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v)),
  );
}

function assertSameAsEval(details, ref) {
  assert.ok(!('errorCode' in ref), `eval answered an error: ${JSON.stringify(ref)}`);
  assert.equal(details.errorCode, undefined, `client error ${details.errorCode}: ${details.errorMessage}`);
  assert.deepEqual(details.value, ref.value);
  assert.equal(details.variant, ref.variant);
  assert.equal(details.reason, ref.reason);
  assert.deepEqual({ ...details.flagMetadata }, primitiveMetadata(ref.metadata));
}

function assertErrorLikeEval(details, ref, defaultValue) {
  assert.ok('errorCode' in ref, `eval answered a value: ${JSON.stringify(ref)}`);
  assert.deepEqual(details.value, defaultValue);
  assert.equal(details.errorCode, ref.errorCode);
  assert.equal(details.reason, 'ERROR');
}

// --- the server -------------------------------------------------------------------

let server;
let baseUrl;
let stderrText = '';

async function startServer() {
  const child = spawn(BINARY, ['serve', '--file', FLAGS, '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr.on('data', (chunk) => {
    stderrText += chunk;
  });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start line; stderr: ${stderrText}`)), 20000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    child.once('exit', (code) => reject(new Error(`burgee-sidecar exited ${code}; stderr: ${stderrText}`)));
  });
  const match = /^burgee-sidecar listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(first.trim());
  assert.ok(match, `unexpected start line ${JSON.stringify(first)}`);
  lines.on('line', () => {}); // keep draining stdout
  const url = match[1];

  const deadline = Date.now() + 20000;
  for (;;) {
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`/readyz never answered 200; stderr: ${stderrText}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, url };
}

async function stopServer(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
  await exited;
  clearTimeout(timer);
}

before(async () => {
  ({ child: server, url: baseUrl } = await startServer());
});

after(async () => {
  await stopServer(server);
});

const USER = { targetingKey: 'user-1' };
const SPLIT_USERS = Array.from({ length: 8 }, (_, i) => `user-${i + 1}`);
const TARGETING_CONTEXTS = [
  { targetingKey: 'user-42' }, // the individual target
  { targetingKey: 'user-1' }, // nobody special: the default
  { targetingKey: 'user-1', plan: 'pro' }, // the rule
];

test('the fixture file has what the checks need (per eval)', () => {
  assert.equal(reference('beta-banner', { targetingKey: 'user-42' }).reason, 'TARGETING_MATCH');
  const variants = new Set(SPLIT_USERS.map((u) => reference('checkout-experiment', { targetingKey: u }).variant));
  assert.deepEqual([...variants].sort(), ['control', 'treatment']);
  assert.equal(reference('legacy-search', USER).reason, 'DISABLED');
  assert.equal(reference('no-such-flag', USER).errorCode, 'FLAG_NOT_FOUND');
});

// --- server SDK + OFREPProvider -----------------------------------------------------

describe('server SDK + OFREPProvider', () => {
  const clients = {};

  before(async () => {
    await ServerOpenFeature.setProviderAndWait(new OFREPProvider({ baseUrl }));
    await ServerOpenFeature.setProviderAndWait(
      STAGING,
      new OFREPProvider({ baseUrl, headers: { 'X-Burgee-Environment': STAGING } }),
    );
    clients[FIRST_ENV] = ServerOpenFeature.getClient();
    clients[STAGING] = ServerOpenFeature.getClient(STAGING);
  });

  after(async () => {
    await ServerOpenFeature.close();
  });

  for (const env of [FIRST_ENV, STAGING]) {
    test(`boolean (${env})`, async () => {
      const ref = reference('dark-mode', USER, env);
      assertSameAsEval(await clients[env].getBooleanDetails('dark-mode', !ref.value, USER), ref);
    });

    test(`number with float values (${env})`, async () => {
      const ref = reference('price-multiplier', USER, env);
      assertSameAsEval(await clients[env].getNumberDetails('price-multiplier', -1, USER), ref);
    });

    test(`integer number (${env})`, async () => {
      const ref = reference('max-items', USER, env);
      assertSameAsEval(await clients[env].getNumberDetails('max-items', -1, USER), ref);
    });

    test(`disabled flag (${env})`, async () => {
      const ref = reference('legacy-search', USER, env);
      const details = await clients[env].getStringDetails('legacy-search', 'fallback', USER);
      assertSameAsEval(details, ref);
      assert.equal(details.value, 'sql');
    });
  }

  test('string', async () => {
    const ref = reference('greeting', USER);
    assertSameAsEval(await clients[FIRST_ENV].getStringDetails('greeting', 'fallback', USER), ref);
  });

  test('object', async () => {
    const ref = reference('theme', USER);
    assertSameAsEval(await clients[FIRST_ENV].getObjectDetails('theme', { fallback: true }, USER), ref);
  });

  for (const context of TARGETING_CONTEXTS) {
    test(`targeting ${JSON.stringify(context)}`, async () => {
      const ref = reference('beta-banner', context);
      assertSameAsEval(await clients[FIRST_ENV].getBooleanDetails('beta-banner', !ref.value, context), ref);
    });
  }

  for (const user of SPLIT_USERS) {
    test(`split ${user}`, async () => {
      const context = { targetingKey: user };
      const ref = reference('checkout-experiment', context);
      assertSameAsEval(await clients[FIRST_ENV].getStringDetails('checkout-experiment', 'fallback', context), ref);
    });
  }

  test('split without a targeting key', async () => {
    const ref = reference('checkout-experiment', {});
    const details = await clients[FIRST_ENV].getStringDetails('checkout-experiment', 'fallback', {});
    assertErrorLikeEval(details, ref, 'fallback');
  });

  test('missing flag', async () => {
    const ref = reference('no-such-flag', USER);
    const details = await clients[FIRST_ENV].getBooleanDetails('no-such-flag', true, USER);
    assertErrorLikeEval(details, ref, true);
  });
});

// --- web SDK + OFREPWebProvider ---------------------------------------------------------

// A fetch that records what the provider sent and what it got back.
function recordingFetch(log) {
  return async (req, init) => {
    const res = await fetch(req, init);
    log.push({
      url: req.url,
      ifNoneMatch: req.headers.get('If-None-Match'),
      environment: req.headers.get('X-Burgee-Environment'),
      status: res.status,
      etag: res.headers.get('ETag'),
    });
    return res;
  };
}

describe('web SDK + OFREPWebProvider', () => {
  const clients = {};
  const requests = { [FIRST_ENV]: [], [STAGING]: [] };

  before(async () => {
    // No localStorage in Node: the provider's persistent cache is turned off.
    // No polling for these: contexts change through OpenFeature.setContext.
    await WebOpenFeature.setProviderAndWait(
      new OFREPWebProvider({
        baseUrl,
        cacheMode: 'disabled',
        pollInterval: 0,
        fetchImplementation: recordingFetch(requests[FIRST_ENV]),
      }),
      USER,
    );
    await WebOpenFeature.setProviderAndWait(
      STAGING,
      new OFREPWebProvider({
        baseUrl,
        cacheMode: 'disabled',
        pollInterval: 0,
        headers: [['X-Burgee-Environment', STAGING]],
        fetchImplementation: recordingFetch(requests[STAGING]),
      }),
      USER,
    );
    clients[FIRST_ENV] = WebOpenFeature.getClient();
    clients[STAGING] = WebOpenFeature.getClient(STAGING);
  });

  after(async () => {
    await WebOpenFeature.close();
  });

  // The global context (the staging domain keeps the USER context it was bound with).
  let current = USER;
  async function setContext(context) {
    const sent = requests[FIRST_ENV].length;
    await WebOpenFeature.setContext(context);
    if (JSON.stringify(context) !== JSON.stringify(current)) {
      // a new context is evaluated in bulk again before setContext resolves
      const fresh = requests[FIRST_ENV].slice(sent);
      assert.equal(fresh.length, 1, `one bulk request for ${JSON.stringify(context)}`);
      assert.equal(fresh[0].status, 200);
    }
    current = context;
  }

  test('it evaluated in bulk, once per provider', () => {
    for (const env of [FIRST_ENV, STAGING]) {
      assert.equal(requests[env].length, 1);
      assert.equal(requests[env][0].url, `${baseUrl}/ofrep/v1/evaluate/flags`);
      assert.equal(requests[env][0].status, 200);
      assert.ok(requests[env][0].etag, 'the bulk answer has an ETag');
    }
    assert.equal(requests[STAGING][0].environment, STAGING);
  });

  for (const env of [FIRST_ENV, STAGING]) {
    test(`boolean, number, integer, disabled (${env})`, async () => {
      await setContext(USER);
      const c = clients[env];
      let ref = reference('dark-mode', USER, env);
      assertSameAsEval(c.getBooleanDetails('dark-mode', !ref.value), ref);
      ref = reference('price-multiplier', USER, env);
      assertSameAsEval(c.getNumberDetails('price-multiplier', -1), ref);
      ref = reference('max-items', USER, env);
      assertSameAsEval(c.getNumberDetails('max-items', -1), ref);
      ref = reference('legacy-search', USER, env);
      const disabled = c.getStringDetails('legacy-search', 'fallback');
      assertSameAsEval(disabled, ref);
      assert.equal(disabled.value, 'sql');
    });
  }

  test('string', async () => {
    await setContext(USER);
    const ref = reference('greeting', USER);
    assertSameAsEval(clients[FIRST_ENV].getStringDetails('greeting', 'fallback'), ref);
  });

  test('object', async () => {
    await setContext(USER);
    const ref = reference('theme', USER);
    assertSameAsEval(clients[FIRST_ENV].getObjectDetails('theme', { fallback: true }), ref);
  });

  for (const context of TARGETING_CONTEXTS) {
    test(`targeting ${JSON.stringify(context)}`, async () => {
      await setContext(context);
      const ref = reference('beta-banner', context);
      assertSameAsEval(clients[FIRST_ENV].getBooleanDetails('beta-banner', !ref.value), ref);
    });
  }

  test('same targeting key, other attributes: the new context is evaluated, not a 304', async () => {
    // The provider keeps its ETag when the targeting key stays and sends it as
    // If-None-Match; the server's tag depends on the context, so it must answer 200.
    await setContext({ targetingKey: 'user-1', plan: 'free' });
    const before = requests[FIRST_ENV].length;
    const context = { targetingKey: 'user-1', plan: 'pro' };
    await setContext(context);
    const sent = requests[FIRST_ENV].slice(before);
    assert.equal(sent.length, 1);
    assert.ok(sent[0].ifNoneMatch, 'the provider sent If-None-Match');
    assert.equal(sent[0].status, 200);
    const ref = reference('beta-banner', context);
    assert.equal(ref.variant, 'on');
    assertSameAsEval(clients[FIRST_ENV].getBooleanDetails('beta-banner', false), ref);
  });

  for (const user of SPLIT_USERS) {
    test(`split ${user}`, async () => {
      const context = { targetingKey: user };
      await setContext(context);
      const ref = reference('checkout-experiment', context);
      assertSameAsEval(clients[FIRST_ENV].getStringDetails('checkout-experiment', 'fallback'), ref);
    });
  }

  test('split without a targeting key (an inline error in the bulk answer)', async () => {
    await setContext({});
    const ref = reference('checkout-experiment', {});
    assertErrorLikeEval(clients[FIRST_ENV].getStringDetails('checkout-experiment', 'fallback'), ref, 'fallback');
  });

  test('missing flag', async () => {
    await setContext(USER);
    const ref = reference('no-such-flag', USER);
    assertErrorLikeEval(clients[FIRST_ENV].getBooleanDetails('no-such-flag', true), ref, true);
  });
});

describe('web SDK + OFREPWebProvider polling with ETag', () => {
  const requests = [];
  let client;

  before(async () => {
    await WebOpenFeature.setProviderAndWait(
      'polling',
      new OFREPWebProvider({
        baseUrl,
        cacheMode: 'disabled',
        pollInterval: 100,
        changeDetection: 'polling',
        fetchImplementation: recordingFetch(requests),
      }),
      USER,
    );
    client = WebOpenFeature.getClient('polling');
  });

  after(async () => {
    await WebOpenFeature.close();
  });

  test('polls with If-None-Match, gets 304 and keeps its values', async () => {
    const deadline = Date.now() + 5000;
    while (requests.length < 4 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(requests.length >= 4, `only ${requests.length} requests in 5 s`);
    const [first, ...polls] = requests;
    assert.equal(first.status, 200);
    assert.equal(first.ifNoneMatch, null);
    assert.ok(first.etag);
    for (const poll of polls) {
      assert.equal(poll.ifNoneMatch, first.etag);
      assert.equal(poll.status, 304);
    }
    const ref = reference('dark-mode', USER);
    assertSameAsEval(client.getBooleanDetails('dark-mode', !ref.value), ref);
  });
});
