package dev.whack.node.engine.json;

import static dev.whack.node.engine.json.UpdateDocuments.goodName;
import static dev.whack.node.engine.json.UpdateDocuments.member;
import static dev.whack.node.engine.json.UpdateDocuments.name;
import static dev.whack.node.engine.json.UpdateDocuments.number;
import static dev.whack.node.engine.json.UpdateDocuments.object;
import static dev.whack.node.engine.json.UpdateDocuments.pick;
import static dev.whack.node.engine.json.UpdateDocuments.quote;
import static dev.whack.node.engine.json.UpdateDocuments.value;
import static dev.whack.node.engine.json.UpdateDocuments.ws;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Random Profile JSON for the reader tests, in the spelling variety of {@link UpdateDocuments}
 * (whitespace, escapes, non-ASCII, every number form, member order): attributes of every value
 * kind, {@code $events} and {@code $producers}; {@code wild} mixes in names, values, days, buckets
 * and members the reference rejects (or accepts only in a form the fast reader declines). Days are
 * around 2026-11-20, the tests' clock.
 */
final class ProfileDocuments {
  private ProfileDocuments() {}

  private static final String[] EVENTS = {"view", "buy", "é", "a\"b", "😀"};

  private static final String[] WILD_DAYS = {
    "2026-11-25",
    "2026-02-30",
    "2026-1-1",
    "2026-11-20T10:00:00Z",
    "",
    "20261120",
    "2026-11-2x",
    "1900-01-01",
    "9999-12-31"
  };

  private static final String[] WILD_BUCKETS = {
    "[]", "[1,2]", "[-1]", "[1.5]", "[1, 1e400, 1]", "[1,2,3,4]", "[99999999999999999999]",
    "[1, 12345678901234567890, 1]", "[1, -0, 0]", "[null]", "[\"1\"]", "{}", "1", "[1,]"
  };

  /** A random Profile JSON document. */
  static String profile(Random r, boolean wild) {
    List<String> members = new ArrayList<>();
    List<String> used = new ArrayList<>();
    int attributes = r.nextInt(10) == 0 ? 20 + r.nextInt(30) : r.nextInt(8);
    for (int i = 0; i < attributes; i++) {
      String n = wild ? name(r) : i < 8 ? goodName(r) : "attr" + i;
      if (!wild && used.contains(n)) {
        continue;
      }
      used.add(n);
      members.add(member(r, n, r.nextInt(12) == 0 ? bigSet(r) : value(r, wild)));
    }
    if (r.nextInt(3) == 0) {
      members.add(member(r, "$events", events(r, wild)));
    }
    if (r.nextInt(4) == 0) {
      members.add(member(r, "$producers", producers(r, wild)));
    }
    if (wild && r.nextInt(10) == 0) {
      members.add(
          pick(
              r,
              new String[] {
                "\"$events\":{}",
                "\"$producers\":{}",
                "\"$x\":1",
                "\"$events\":[]",
                "\"$producers\":null",
                "\"$string\":\"a\"",
                "\"a\":{\"$string\":\"x\",\"b\":1}",
                "\"a\":{}",
                "\"a\":[\"x\",1]",
                "\"a\":null",
                "\"a\":{\"b\":{}}"
              }));
    }
    Collections.shuffle(members, r);
    return ws(r) + object(r, members) + ws(r);
  }

  /** A set of 10 to 30 elements with repeats (the writer's hashed de-duplication). */
  private static String bigSet(Random r) {
    List<String> items = new ArrayList<>();
    int n = 10 + r.nextInt(20);
    for (int i = 0; i < n; i++) {
      items.add(quote(r, "e" + r.nextInt(n)));
    }
    return "[" + String.join(",", items) + "]";
  }

  private static String events(Random r, boolean wild) {
    List<String> series = new ArrayList<>();
    List<String> used = new ArrayList<>();
    for (int i = r.nextInt(4); i > 0; i--) {
      String event = wild && r.nextInt(8) == 0 ? pick(r, UpdateDocuments.NAMES) : pick(r, EVENTS);
      if (!wild && used.contains(event)) {
        continue;
      }
      used.add(event);
      series.add(member(r, event, series(r, wild)));
    }
    return object(r, series);
  }

  private static String series(Random r, boolean wild) {
    List<String> buckets = new ArrayList<>();
    List<Integer> used = new ArrayList<>();
    for (int i = r.nextInt(5); i > 0; i--) {
      int day = 1 + r.nextInt(21); // up to 2026-11-21, a day ahead of the clock
      String d =
          wild && r.nextInt(10) == 0 ? pick(r, WILD_DAYS) : String.format("2026-11-%02d", day);
      if (!wild && used.contains(day)) {
        continue;
      }
      used.add(day);
      buckets.add(member(r, d, bucket(r, wild)));
    }
    return object(r, buckets);
  }

  private static String bucket(Random r, boolean wild) {
    if (wild && r.nextInt(6) == 0) {
      return pick(r, WILD_BUCKETS);
    }
    String count = wild && r.nextInt(8) == 0 ? number(r, true) : Integer.toString(1 + r.nextInt(9));
    if (r.nextBoolean()) {
      return "[" + ws(r) + count + ws(r) + "]";
    }
    return "["
        + ws(r)
        + count
        + ws(r)
        + ","
        + ws(r)
        + number(r, wild)
        + ","
        + ws(r)
        + number(r, wild)
        + ws(r)
        + "]";
  }

  private static String producers(Random r, boolean wild) {
    List<String> marks = new ArrayList<>();
    List<String> used = new ArrayList<>();
    for (int i = r.nextInt(3); i > 0; i--) {
      String producer =
          wild && r.nextInt(8) == 0 ? pick(r, UpdateDocuments.NAMES) : "shop-" + r.nextInt(3);
      if (!wild && used.contains(producer)) {
        continue;
      }
      used.add(producer);
      String seq = wild && r.nextInt(4) == 0 ? number(r, true) : Integer.toString(r.nextInt(1000));
      marks.add(member(r, producer, seq));
    }
    return object(r, marks);
  }
}
