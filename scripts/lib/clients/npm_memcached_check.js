// Whack as the npm `memcached` client sees it: JSON documents that are not profiles are kept as
// they were sent (issue 12), whether the app hands the client a string (stored with flags 0) or
// an object (JSON.stringify'd, flags 2, parsed again on a get); a valid profile is still a
// profile. Run by scripts/client-tests against a node, with the client installed in NODE_PATH:
//
//     node scripts/lib/clients/npm_memcached_check.js PORT
//
// Prints each failed check and a closing "N passed, N failed" line; exits 1 on any failure.
'use strict';
const assert = require('node:assert');
const Memcached = require('memcached');

const DOCUMENTS = ['{"a":{"b":1}}', '{"a":null}', '{"ids":[1,2,3]}', '{ "a": {"b": [true, "x"]} }\n'];
let passed = 0;
let failed = 0;

function check(name, got, expected) {
  try {
    assert.deepStrictEqual(got, expected);
    passed++;
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: got ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
  }
}

function call(client, method, ...args) {
  return new Promise((resolve, reject) =>
    client[method](...args, (err, result) => (err ? reject(err) : resolve(result))));
}

async function main(port) {
  const client = new Memcached(`127.0.0.1:${port}`, { retries: 0, timeout: 10000, idle: 1000 });
  try {
    for (const [i, doc] of DOCUMENTS.entries()) {
      const key = `npm:string:${i}`;
      check(`set of the string ${doc}`, await call(client, 'set', key, doc, 600), true);
      check(`get of the string ${doc}`, await call(client, 'get', key), doc);
      check(`add over ${doc}`, await call(client, 'add', key, doc, 600).catch(() => false), false);
      check(`replace of ${doc}`, await call(client, 'replace', key, doc, 600), true);
      const gets = await call(client, 'gets', key);
      check(`gets of ${doc}`, gets[key], doc);
      check(`cas of ${doc}`, await call(client, 'cas', key, doc, gets.cas, 600), true);
      check(`getMulti of ${doc}`, await call(client, 'getMulti', [key]), { [key]: doc });

      const object = JSON.parse(doc);
      const objectKey = `npm:object:${i}`;
      check(`set of the object ${doc}`, await call(client, 'set', objectKey, object, 600), true);
      check(`get of the object ${doc}`, await call(client, 'get', objectKey), object);
    }
    // A valid profile is still a profile: it reads back as canonical Profile JSON.
    check('set of a profile', await call(client, 'set', 'npm:profile', '{"country": "DK"}', 600), true);
    check('get of a profile', await call(client, 'get', 'npm:profile'), '{"country":"DK"}');
  } finally {
    client.end();
  }
}

main(Number(process.argv[2]))
  .catch((e) => {
    failed++;
    console.log(`FAIL npm memcached: ${e && e.stack ? e.stack : e}`);
  })
  .finally(() => {
    console.log(`npm memcached: ${passed} passed, ${failed} failed`);
    process.exitCode = failed ? 1 : 0;
  });
