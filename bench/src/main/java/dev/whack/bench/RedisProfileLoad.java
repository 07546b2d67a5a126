package dev.whack.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Pattern;

/**
 * P2 for Redis: the same profiles and the same update stream as {@link ProfileLoad}, sent as {@code
 * EVALSHA} of {@link RedisProfileScript} over the same pipelined driver. Each Profile or Update
 * JSON of {@link ProfileWorkload} is translated once, before the run, into the script's operation
 * arguments (timestamps become ms since the epoch); per request the generator writes only the key
 * and the current time.
 *
 * <p>Same shape as the Whack run: the profile pool and update pool come from the same seeds, so a
 * run with the same {@code nowMillis} preloads identical profiles; keys are drawn uniformly from
 * {@code user:0} to {@code user:<profiles-1>}.
 */
final class RedisProfileLoad implements PipelinedLoad.Protocol {
  private static final Pattern TIMESTAMP =
      Pattern.compile("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})");
  private static final JsonFactory JSON = new JsonFactory();
  private static final byte[] EVALSHA = Resp.ascii("EVALSHA");
  private static final byte[] ONE = Resp.ascii("1");

  private final int profiles;
  private final ProfileWorkload workload;

  /** Per pooled update: its operations, already encoded as RESP bulk strings, and their count. */
  private final byte[][] updateOps;

  private final int[] updateOpArgs;
  private byte[] sha;

  public RedisProfileLoad(int profiles, long nowMillis) throws IOException {
    this.profiles = profiles;
    this.workload = new ProfileWorkload(nowMillis);
    // The same pool as ProfileLoad: seed 7, 4096 bodies.
    SplittableRandom r = new SplittableRandom(7);
    updateOps = new byte[4096][];
    updateOpArgs = new int[updateOps.length];
    for (int i = 0; i < updateOps.length; i++) {
      List<String> ops = updateOps(workload.update(r));
      updateOpArgs[i] = ops.size();
      updateOps[i] = encodeBulks(ops);
    }
  }

  /** Loads the script (idempotent) and remembers its SHA for EVALSHA. */
  public String loadScript(String host, int port, String lua) throws IOException {
    try (Resp.Connection c = new Resp.Connection(host, port)) {
      String hex = c.text(c.call("SCRIPT", "LOAD", lua));
      sha = Resp.ascii(hex);
      return hex;
    }
  }

  /**
   * Writes every profile through the script (so the segment sets are filled by the same code that
   * moves keys later), pipelined in batches over a few connections. The same ranges and seeds as
   * {@link ProfileLoad#preload}, so the profiles are the same.
   */
  public void preload(String host, int port, int connections) throws Exception {
    Ranges.inParallel(profiles, connections, (from, to) -> preloadRange(host, port, from, to));
  }

  private void preloadRange(String host, int port, int from, int to) throws IOException {
    SplittableRandom r = new SplittableRandom(from);
    try (Resp.Connection c = new Resp.Connection(host, port)) {
      int batch = 500;
      for (int start = from; start < to; start += batch) {
        int end = Math.min(to, start + batch);
        String now = Long.toString(System.currentTimeMillis());
        for (int i = start; i < end; i++) {
          List<byte[]> args = new ArrayList<>();
          args.add(EVALSHA);
          args.add(sha);
          args.add(ONE);
          args.add(ProfileWorkload.key(i));
          args.add(Resp.ascii(now));
          for (String op : profileOps(workload.profile(r))) {
            args.add(op.getBytes(StandardCharsets.UTF_8));
          }
          c.send(Resp.command(args));
        }
        c.flush();
        for (int i = start; i < end; i++) {
          c.read(); // an error reply throws
        }
      }
    }
  }

  @Override
  public void writeRequest(ByteBuffer out, SplittableRandom random, int worker, long[] slot) {
    byte[] key = ProfileWorkload.key(random.nextInt(profiles));
    int u = random.nextInt(updateOps.length);
    Resp.putArrayHeader(out, 5 + updateOpArgs[u]);
    Resp.putBulk(out, EVALSHA);
    Resp.putBulk(out, sha);
    Resp.putBulk(out, ONE);
    Resp.putBulk(out, key);
    Resp.putBulkDecimal(out, System.currentTimeMillis());
    out.put(updateOps[u]);
  }

  /** The script's reply: an integer (the number of moves), or an error. */
  @Override
  public boolean readReply(ByteBuffer in, long[] slot, long nowNanos) throws IOException {
    int end = Resp.replyEnd(in, in.position());
    if (end < 0) {
      return false;
    }
    if (in.get(in.position()) == '-') {
      throw new Resp.ErrorReply("redis: " + Resp.lineAt(in, in.position()));
    }
    in.position(end);
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // JSON -> script operations

  /** A whole Profile JSON (flat attributes) as set operations. */
  static List<String> profileOps(byte[] json) throws IOException {
    List<String> ops = new ArrayList<>();
    try (JsonParser p = JSON.createParser(json)) {
      expect(p.nextToken(), JsonToken.START_OBJECT);
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken t = p.nextToken();
        if (t == JsonToken.START_ARRAY) {
          while (p.nextToken() == JsonToken.VALUE_STRING) {
            add(ops, "a", name, p.getText());
          }
        } else {
          setOp(ops, name, p);
        }
      }
    }
    return ops;
  }

  /** An Update JSON as operations, in Whack's fixed order: set, incr, add, remove, events. */
  static List<String> updateOps(byte[] json) throws IOException {
    List<String> set = new ArrayList<>();
    List<String> incr = new ArrayList<>();
    List<String> add = new ArrayList<>();
    List<String> remove = new ArrayList<>();
    List<String> events = new ArrayList<>();
    try (JsonParser p = JSON.createParser(json)) {
      expect(p.nextToken(), JsonToken.START_OBJECT);
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String section = p.currentName();
        JsonToken t = p.nextToken();
        switch (section) {
          case "set" -> {
            expect(t, JsonToken.START_OBJECT);
            while (p.nextToken() == JsonToken.FIELD_NAME) {
              String name = p.currentName();
              p.nextToken();
              setOp(set, name, p);
            }
          }
          case "incr" -> {
            expect(t, JsonToken.START_OBJECT);
            while (p.nextToken() == JsonToken.FIELD_NAME) {
              String name = p.currentName();
              p.nextToken();
              add(incr, "i", name, p.getText());
            }
          }
          case "add", "remove" -> {
            expect(t, JsonToken.START_OBJECT);
            List<String> into = section.equals("add") ? add : remove;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
              String name = p.currentName();
              expect(p.nextToken(), JsonToken.START_ARRAY);
              while (p.nextToken() == JsonToken.VALUE_STRING) {
                add(into, section.equals("add") ? "a" : "r", name, p.getText());
              }
            }
          }
          case "events" -> {
            expect(t, JsonToken.START_ARRAY);
            while (p.nextToken() == JsonToken.START_OBJECT) {
              String name = null;
              String value = "";
              while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                p.nextToken();
                switch (field) {
                  case "name" -> name = p.getText();
                  case "value" -> value = p.getText();
                  default -> throw new IOException("event member not translated: " + field);
                }
              }
              add(events, "e", name, value);
            }
          }
          default -> throw new IOException("update member not translated: " + section);
        }
      }
    }
    List<String> ops = new ArrayList<>(set);
    ops.addAll(incr);
    ops.addAll(add);
    ops.addAll(remove);
    ops.addAll(events);
    return ops;
  }

  private static void setOp(List<String> ops, String name, JsonParser p) throws IOException {
    JsonToken t = p.currentToken();
    switch (t) {
      case VALUE_STRING -> {
        String s = p.getText();
        if (TIMESTAMP.matcher(s).matches()) {
          add(ops, "n", name, Long.toString(Instant.parse(s).toEpochMilli()));
        } else {
          add(ops, "s", name, s);
        }
      }
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> add(ops, "n", name, p.getText());
      case VALUE_TRUE, VALUE_FALSE -> add(ops, "b", name, p.getText());
      default -> throw new IOException("attribute value not translated: " + t);
    }
  }

  private static void add(List<String> ops, String op, String name, String value) {
    ops.add(op);
    ops.add(name);
    ops.add(value);
  }

  private static void expect(JsonToken got, JsonToken wanted) throws IOException {
    if (got != wanted) {
      throw new IOException("expected " + wanted + ", found " + got);
    }
  }

  private static byte[] encodeBulks(List<String> args) {
    java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
    for (String a : args) {
      Resp.bulk(b, a.getBytes(StandardCharsets.UTF_8));
    }
    return b.toByteArray();
  }
}
