"""Whack as pymemcache (Debian's python3-pymemcache) sees it: JSON documents that are not
profiles are kept byte for byte, with pymemcache's default noreply as with replies (issue 12),
and a valid profile still becomes a profile. Run by scripts/client-tests against a node:

    python3 scripts/lib/clients/pymemcache_check.py PORT

Prints each failed check and a closing "N passed, N failed" line; exits 1 on any failure.
"""
import sys

from pymemcache.client.base import Client

DOCUMENTS = [b'{"a":{"b":1}}', b'{"a":null}', b'{"ids":[1,2,3]}', b'{ "a": {"b": [true, "x"]} }\n']

passed = 0
failed = 0


def check(name, got, expected):
    global passed, failed
    if got == expected:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name}: got {got!r}, expected {expected!r}", flush=True)


def main(port):
    # pymemcache's defaults: a set is sent with noreply and nothing is read back.
    client = Client(("127.0.0.1", port), connect_timeout=10, timeout=10)
    for i, doc in enumerate(DOCUMENTS):
        key = f"py:noreply:{i}"
        client.set(key, doc)
        check(f"set with noreply then get of {doc!r}", client.get(key), doc)
        client.set(key, doc.decode("utf-8"))  # a str goes as its UTF-8 bytes
        check(f"set of a str then get of {doc!r}", client.get(key), doc)

    replying = Client(("127.0.0.1", port), default_noreply=False, connect_timeout=10, timeout=10)
    for i, doc in enumerate(DOCUMENTS):
        key = f"py:reply:{i}"
        check(f"set of {doc!r}", replying.set(key, doc, expire=600, flags=5), True)
        check(f"add over {doc!r}", replying.add(key, doc), False)
        check(f"replace of {doc!r}", replying.replace(key, doc, flags=6), True)
        value, cas = replying.gets(key)
        check(f"gets of {doc!r}", value, doc)
        check(f"cas of {doc!r}", replying.cas(key, doc, cas), True)
        check(f"get of {doc!r} after cas", replying.get(key), doc)
        check(f"get_many of {doc!r}", replying.get_many([key]), {key: doc})

    # A valid profile is still a profile: it reads back as canonical Profile JSON.
    check("set of a profile", replying.set("py:profile", b'{"country": "DK", "age": 31}'), True)
    check("get of a profile", replying.get("py:profile"), b'{"country":"DK","age":31}')

    stats = replying.stats()
    stored = int(stats.get(b"opaque_json_stores", b"-1"))
    check("stats opaque_json_stores counts the documents", stored >= 3 * len(DOCUMENTS), True)
    client.close()
    replying.close()


if __name__ == "__main__":
    try:
        main(int(sys.argv[1]))
    except Exception as e:  # a broken conversation is a failure, with what it was
        failed += 1
        print(f"FAIL pymemcache: {type(e).__name__}: {e}", flush=True)
    print(f"pymemcache: {passed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed else 0)
