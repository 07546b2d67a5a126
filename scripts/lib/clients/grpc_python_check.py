"""Whack's gRPC service as a Python client sees it (issue 17), with Debian's python3-grpcio and
stubs generated from proto/ at run time into a temporary folder (never kept). Run by
scripts/client-tests against a fresh node with a gRPC port (it counts what it wrote):

    python3 scripts/lib/clients/grpc_python_check.py GRPC_PORT

First runs the example of docs/grpc.md ("From Python") as written there, which must end well and
count its segment; then the same calls with their answers checked one by one: a segment defined,
updates and profiles streamed through Ingest (refusals named by id, a producer's replay applied
once), Count, GetProfiles, SegmentsOf, ListSegments, Subscribe (the snapshot,
then a profile entering) and DropSegment.

Prints each failed check and a closing "N passed, N failed" line; exits 1 on any failure.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PROTO_DIR = os.path.join(ROOT, "proto", "src", "main", "proto")
DOC = os.path.join(ROOT, "docs", "grpc.md")
TIMEOUT_S = 30

passed = 0
failed = 0


def check(name, got, expected):
    global passed, failed
    if got == expected:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name}: got {got!r}, expected {expected!r}", flush=True)


def generate_stubs(out):
    """The command docs/grpc.md gives: Debian 12's grpc_tools is too old for proto3 optional."""
    subprocess.run(
        ["protoc", "-I", PROTO_DIR, f"--python_out={out}", f"--grpc_python_out={out}",
         "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin",
         "whack.proto", "whack_service.proto"],
        check=True)


def documented_example():
    """The first Python block after "## From Python" in docs/grpc.md."""
    text = open(DOC, encoding="utf-8").read()
    found = re.search(r"^## From Python$.*?^```python\n(.*?)^```$", text, re.M | re.S)
    if not found:
        raise RuntimeError(f"{DOC} has no Python block under '## From Python'")
    return found.group(1)


def run_documented_example(stubs, address):
    script = os.path.join(stubs, "whack_example.py")
    with open(script, "w", encoding="utf-8") as f:
        f.write(documented_example())
    run = subprocess.run([sys.executable, script, address], cwd=stubs, capture_output=True,
                         text=True, timeout=TIMEOUT_S)
    check("docs/grpc.md's example exits 0", run.returncode, 0)
    if run.returncode != 0:
        print(run.stderr, end="", flush=True)
    lines = run.stdout.splitlines()
    acked = []  # the ids of every "acked first..last" line, however the node grouped them
    for line in lines:
        if line.startswith("acked "):
            first, last = line[len("acked "):].split("..")
            acked.extend(range(int(first), int(last) + 1))
    check("docs/grpc.md's example acknowledges its three updates", sorted(acked), [1, 2, 3])
    check("docs/grpc.md's example counts its segment", "dk_buyers: 2" in lines, True)


def acked_ids(reply):
    return [i for r in reply.acked for i in range(r.first, r.last + 1)]


def main(port):
    import grpc  # here, with the stubs: they exist only once generate_stubs has run

    import whack_pb2 as pb
    import whack_service_pb2 as svc
    import whack_service_pb2_grpc as svc_grpc

    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    whack = svc_grpc.WhackStub(channel)

    def status_of(call):
        try:
            call()
            return "OK"
        except grpc.RpcError as e:
            return e.code().name

    def text(value):
        return pb.Value(string_value=value)

    segment = "grpc_py_dk_buyers"
    expression = 'source == "grpc-py" and country == "DK" and count(purchase, 30d) >= 1'
    defined = whack.DefineSegment(svc.DefineSegmentRequest(
        segment=pb.SegmentDefinition(name=segment, expression=expression)), timeout=TIMEOUT_S)
    check("DefineSegment on no matching profile: size", defined.size, 0)
    check("DefineSegment of a bad expression",
          status_of(lambda: whack.DefineSegment(svc.DefineSegmentRequest(
              segment=pb.SegmentDefinition(name="grpc_py_bad", expression="country ==")),
              timeout=TIMEOUT_S)),
          "INVALID_ARGUMENT")

    # 200 updates, every third in Denmark; items 201.. are the awkward ones.
    keys = [f"grpc-py:{i}" for i in range(1, 201)]
    danes = {key for i, key in enumerate(keys, 1) if i % 3 == 0}
    items = [svc.IngestRequest(id=i, update=pb.Update(
        key=key,
        set=[pb.Attribute(name="source", value=text("grpc-py")),
             pb.Attribute(name="country", value=text("DK" if key in danes else "SE"))],
        incr=[pb.Increment(name="visits", int_delta=1)],
        events=[pb.Event(name="purchase", value=49.5)])) for i, key in enumerate(keys, 1)]
    replay = pb.Update(key="grpc-py:replayed", producer="py-check", seq=7,
                       set=[pb.Attribute(name="source", value=text("grpc-py"))],
                       incr=[pb.Increment(name="visits", int_delta=1)])
    awkward = [
        (pb.Update(key="has space"), "INVALID_ARGUMENT"),
        (pb.Update(key=""), "INVALID_ARGUMENT"),
        (pb.Update(key="k" * 251), "INVALID_ARGUMENT"),
        (pb.Update(key="_whack/x", set=[pb.Attribute(name="a", value=text("b"))]),
         "INVALID_ARGUMENT"),
        (pb.Update(key="grpc-py:untyped", set=[pb.Attribute(name="a")]), "INVALID_ARGUMENT"),
        (replay, None),
        (replay, None),  # acknowledged and ignored: its producer's mark is already at seq 7
    ]
    for id_, (update, _) in enumerate(awkward, 201):
        items.append(svc.IngestRequest(id=id_, update=update))
    items.append(svc.IngestRequest(id=208))  # neither an update nor a profile
    items.append(svc.IngestRequest(id=209, profile=pb.Profile(
        key="grpc-py:whole",
        attributes=[pb.Attribute(name="source", value=text("grpc-py")),
                    pb.Attribute(name="country", value=text("DK"))])))

    acked, refused, replies = [], {}, 0
    for reply in whack.Ingest(iter(items), timeout=TIMEOUT_S):
        replies += 1
        acked += acked_ids(reply)
        refused.update({e.id: e.code for e in reply.errors})
    expected_refused = {i: code for i, (_, code) in enumerate(awkward, 201) if code}
    expected_refused[208] = "INVALID_ARGUMENT"
    check("Ingest acknowledges every good item once, in order", acked,
          [i for i in range(1, 210) if i not in expected_refused])
    check("Ingest refuses each bad item by id, with its code", refused, expected_refused)
    check("Ingest answers every item", replies >= 1 and len(acked) + len(refused) == 209, True)

    check(f"Count {segment}",
          whack.Count(svc.CountRequest(expression=segment), timeout=TIMEOUT_S).count,
          len(danes))
    check("Count of a filter",
          whack.Count(svc.CountRequest(expression='source == "grpc-py"', filter=True),
                      timeout=TIMEOUT_S).count,
          len(keys) + 2)  # the replayed key and the whole profile
    check("Count of an unknown segment",
          status_of(lambda: whack.Count(svc.CountRequest(expression="grpc_py_none"),
                                        timeout=TIMEOUT_S)),
          "NOT_FOUND")
    check("Count of a bad filter",
          status_of(lambda: whack.Count(svc.CountRequest(expression="visits >", filter=True),
                                        timeout=TIMEOUT_S)),
          "INVALID_ARGUMENT")

    asked = ["grpc-py:3", "grpc-py:nobody", "grpc-py:replayed", "grpc-py:whole"]
    profiles = whack.GetProfiles(svc.GetProfilesRequest(keys=asked), timeout=TIMEOUT_S).profiles
    check("GetProfiles answers in the order asked", [p.key for p in profiles], asked)
    check("GetProfiles found", [p.found for p in profiles], [True, False, True, True])
    dane = json.loads(profiles[0].json)
    check("GetProfiles: the update's attributes",
          {k: dane.get(k) for k in ("source", "country", "visits")},
          {"source": "grpc-py", "country": "DK", "visits": 1})
    check("GetProfiles: the event's day bucket (count, sum, sum of squares)",
          [b for day, b in dane.get("$events", {}).get("purchase", {}).items()
           if not day.startswith("$")], [[1, 49.5, 2450.25]])
    check("GetProfiles: a missing key has no JSON", profiles[1].json, "")
    replayed = json.loads(profiles[2].json)
    check("a producer's replay applies once", replayed.get("visits"), 1)
    check("the producer's mark", replayed.get("$producers"), {"py-check": 7})
    check("a whole profile through Ingest", json.loads(profiles[3].json),
          {"source": "grpc-py", "country": "DK"})

    def segments_of(key):  # the example's dk_buyers holds our Danes too
        return whack.SegmentsOf(svc.SegmentsOfRequest(key=key), timeout=TIMEOUT_S).segments

    check("SegmentsOf a member", segment in segments_of("grpc-py:3"), True)
    check("SegmentsOf one that is not", segment in segments_of("grpc-py:1"), False)
    check("SegmentsOf a key without a profile", list(segments_of("grpc-py:nobody")), [])
    check("SegmentsOf a bad key",
          status_of(lambda: whack.SegmentsOf(svc.SegmentsOfRequest(key="has space"),
                                             timeout=TIMEOUT_S)),
          "INVALID_ARGUMENT")
    listed = {s.name: (s.expression, s.size) for s in
              whack.ListSegments(svc.ListSegmentsRequest(), timeout=TIMEOUT_S).segments}
    check("ListSegments", listed.get(segment), (expression, len(danes)))

    subscribe(whack, grpc, pb, svc, segment, danes)

    whack.DropSegment(svc.DropSegmentRequest(name=segment), timeout=TIMEOUT_S)
    check("Count after DropSegment",
          status_of(lambda: whack.Count(svc.CountRequest(expression=segment), timeout=TIMEOUT_S)),
          "NOT_FOUND")
    check("DropSegment of no segment",
          status_of(lambda: whack.DropSegment(svc.DropSegmentRequest(name=segment),
                                              timeout=TIMEOUT_S)),
          "NOT_FOUND")
    channel.close()


def subscribe(whack, grpc, pb, svc, segment, members):
    """The segment's members as a snapshot, then a profile that enters it."""
    call = whack.Subscribe(svc.SubscribeRequest(segments=[segment], snapshot=True),
                           timeout=TIMEOUT_S)
    snapshot, entered = set(), None
    try:
        for reply in call:
            for part in reply.snapshot:
                check("Subscribe's snapshot names the segment", part.segment, segment)
                snapshot.update(part.keys)
            if reply.snapshot_done:
                check("Subscribe's snapshot", snapshot, members)
                update = pb.Update(key="grpc-py:newcomer", set=[
                    pb.Attribute(name="source", value=pb.Value(string_value="grpc-py")),
                    pb.Attribute(name="country", value=pb.Value(string_value="DK"))],
                    events=[pb.Event(name="purchase")])
                for ack in whack.Ingest(iter([svc.IngestRequest(id=1, update=update)]),
                                        timeout=TIMEOUT_S):
                    check("Ingest while subscribed", list(ack.errors), [])
            for change in reply.changes:
                if change.key == "grpc-py:newcomer":
                    entered = (pb.SegmentChange.Kind.Name(change.kind), change.segment)
            if entered:
                break
        check("Subscribe tells of a profile entering", entered, ("ENTER", segment))
    finally:
        call.cancel()


if __name__ == "__main__":
    try:
        with tempfile.TemporaryDirectory(prefix="whack-grpc-python.") as stubs:
            generate_stubs(stubs)
            sys.path.insert(0, stubs)
            run_documented_example(stubs, f"127.0.0.1:{int(sys.argv[1])}")
            main(int(sys.argv[1]))
    except Exception as e:  # a broken conversation is a failure, with what it was
        failed += 1
        print(f"FAIL grpc-python: {type(e).__name__}: {e}", flush=True)
    print(f"grpc-python: {passed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed else 0)
