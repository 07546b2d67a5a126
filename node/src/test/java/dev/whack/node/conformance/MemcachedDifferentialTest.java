package dev.whack.node.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Whack and a real memcached 1.6, side by side, answering the same random text conversations: a
 * model-free check that every reply, error and connection behaviour matches byte for byte.
 *
 * <p>Each conversation is a few commands over three keys (plus a 250- and a 251-byte key), mixing
 * valid commands with the wrong ones clients send: bad numbers, wrong token counts, data blocks of
 * the wrong length, noreply everywhere. Each is sent to both servers on a fresh connection after
 * {@code flush_all}, the sending side is half-closed, and everything that comes back must be equal
 * once cas values are masked (they are counters private to each server).
 *
 * <p>Left out because they differ on purpose or depend on the wall clock: {@code version}, {@code
 * stats}, {@code me}, meta {@code E}, meta {@code t}/{@code l} (remaining TTL, last access), data
 * blocks declared longer than the bytes that follow (memcached waits for them), keys over 250 bytes
 * in a retrieval (memcached drops the replies before it), and expiry short enough to fire during a
 * conversation. Also left out, as artefacts of memcached's implementation: delayed flushes (see
 * {@code Conversations.flushAll}) and arithmetic after a read in the same conversation (see {@code
 * Conversations.retrieved}). Differences the generator once found are pinned by the named tests
 * below.
 *
 * <p>The seed is fixed so the suite is repeatable; explore others with {@code
 * -Dwhack.differential.seed=N} (and {@code -Dwhack.differential.conversations=N}). The seed is in
 * every failure message. memcached is required (CI installs it): if it is missing the test fails
 * and says so.
 */
class MemcachedDifferentialTest {
  private static final long DEFAULT_SEED = 0x5eed_1618L;
  private static final int DEFAULT_CONVERSATIONS = 300;
  private static final int QUIET_MILLIS = 2_000;
  private static final int MEMCACHED_RETRIES = 3;
  private static final int MAX_REPORTED = Integer.getInteger("whack.differential.report", 5);

  private static Process memcached;
  private static int memcachedPort;
  private static Path memcachedLog;
  private static EmbeddedNode whack;

  @BeforeAll
  static void startServers() throws Exception {
    whack = EmbeddedNode.start();
    startMemcached(findMemcached());
  }

  @AfterAll
  static void stopServers() throws Exception {
    if (memcached != null) {
      memcached.destroy();
      if (!memcached.waitFor(5, TimeUnit.SECONDS)) {
        memcached.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    }
    if (memcachedLog != null) {
      Files.deleteIfExists(memcachedLog);
    }
    if (whack != null) {
      whack.close();
    }
  }

  @Test
  void shouldAnswerRandomTextConversationsExactlyLikeMemcached() {
    long seed = Long.getLong("whack.differential.seed", DEFAULT_SEED);
    int count = Integer.getInteger("whack.differential.conversations", DEFAULT_CONVERSATIONS);
    Conversations conversations = new Conversations(new Random(seed));
    List<String> mismatches = new ArrayList<>();
    int mismatchCount = 0;
    for (int i = 0; i < count; i++) {
      String request = conversations.next();
      String expected;
      String actual;
      try {
        expected = mask(converse(memcachedPort, request));
        actual = mask(converse(whack.port(), request));
      } catch (RuntimeException e) {
        throw new AssertionError(
            "seed " + seed + ", conversation " + i + ": " + escape(request), e);
      }
      // Every conversation opens with flush_all: a reply without its OK means a broken harness
      // (nothing read, wrong port), which must not pass as agreement.
      if (!expected.startsWith("OK\r\n")) {
        throw new AssertionError(
            "seed "
                + seed
                + ", conversation "
                + i
                + ": memcached did not answer flush_all: "
                + escape(expected));
      }
      if (!expected.equals(actual) && !memcachedCanAnswer(request, actual)) {
        mismatchCount++;
        if (mismatches.size() < MAX_REPORTED) {
          mismatches.add(
              "conversation "
                  + i
                  + "\n  request:   "
                  + escape(request)
                  + "\n  memcached: "
                  + escape(expected)
                  + "\n  whack:     "
                  + escape(actual));
        }
      }
    }
    int mismatched = mismatchCount;
    assertTrue(
        mismatches.isEmpty(),
        () ->
            mismatched
                + " of "
                + count
                + " conversations differ from memcached (seed "
                + seed
                + ", rerun with -Dwhack.differential.seed="
                + seed
                + "); the first "
                + mismatches.size()
                + ":\n"
                + String.join("\n", mismatches));
  }

  // ---------------------------------------------------------------------------------------------
  // Differences the random conversations once found, pinned with memcached 1.6.18's exact replies;
  // the live memcached is checked to still say the same.

  @Test
  void shouldEchoKeyAndOpaqueOnMetaGetMiss() {
    assertLikeMemcached(
        "mg b k O5\r\nmg YQ== b k\r\nmg c v O9 q\r\nmn\r\n",
        "OK\r\nEN kb O5\r\nEN kYQ== b\r\nMN\r\n");
  }

  @Test
  void shouldRenderTheKeyAsStoredOnMetaGetHit() {
    assertLikeMemcached(
        "set a 0 0 1\r\nx\r\nmg YQ== b k v\r\nms YWJj 1 b\r\ny\r\nmg abc k v\r\n",
        "OK\r\nSTORED\r\nVA 1 ka\r\nx\r\nHD\r\nVA 1 kYWJj b\r\ny\r\n");
  }

  @Test
  void shouldReplyWhenQuietMetaArithmeticCreatesTheItem() {
    assertLikeMemcached(
        "ma a N0 q\r\nma b N0 J7 v q\r\nma a q\r\nmn\r\n", "OK\r\nHD\r\nVA 1\r\n7\r\nMN\r\n");
  }

  @Test
  void shouldNotMarkAnItemFetchedByAFailedAdd() {
    assertLikeMemcached(
        "set c 0 0 1\r\nx\r\nadd c 0 0 1\r\ny\r\nms c 1 ME\r\nz\r\nmg c h\r\nmg c h\r\n",
        "OK\r\nSTORED\r\nNOT_STORED\r\nNS\r\nHD h0\r\nHD h1\r\n");
  }

  @Test
  void shouldKeepAnItemStaleThroughInPlaceArithmetic() {
    assertLikeMemcached(
        "set a 0 0 2\r\n10\r\nmd a I\r\nincr a 1\r\nmg a s v\r\n"
            + "set b 0 0 2\r\n10\r\nmd b I\r\nma b\r\nmg b v\r\n",
        "OK\r\nSTORED\r\nHD\r\n11\r\nVA 2 s2 X W\r\n11\r\n"
            + "STORED\r\nHD\r\nHD\r\nVA 2 X W\r\n11\r\n");
  }

  /** Both servers must give exactly the reply recorded from memcached 1.6.18. */
  private static void assertLikeMemcached(String request, String recorded) {
    assertEquals(
        escape(recorded),
        escape(mask(converse(memcachedPort, request))),
        () -> "memcached itself no longer answers as recorded: " + escape(request));
    assertEquals(
        escape(recorded),
        escape(mask(converse(whack.port(), request))),
        () -> "request: " + escape(request));
  }

  /**
   * memcached 1.6.18 is not always deterministic: now and then it answers an incr on a valid
   * 20-digit value with "non-numeric" (about 1 in 10,000 conversations here; never on replay). A
   * reply of Whack's that memcached gives on a second or third try is memcached's behaviour.
   */
  private static boolean memcachedCanAnswer(String request, String reply) {
    for (int retry = 0; retry < MEMCACHED_RETRIES; retry++) {
      if (mask(converse(memcachedPort, request)).equals(reply)) {
        return true;
      }
    }
    return false;
  }

  /** Sends {@code flush_all} and the conversation on a fresh connection; returns every reply. */
  private static String converse(int port, String request) {
    try (RawConnection conn = new RawConnection("127.0.0.1", port)) {
      conn.send("flush_all\r\n" + request);
      return new String(conn.finishAndReadAll(QUIET_MILLIS), StandardCharsets.ISO_8859_1);
    }
  }

  /** cas values are per-server counters; the regexes of TextProtocolCasesTest. */
  static String mask(String reply) {
    return reply
        .replaceAll("(VALUE \\S+ \\d+ \\d+) \\d+", "$1 <cas>")
        .replaceAll(" c\\d+", " c<cas>")
        .replaceAll("cas=\\d+", "cas=<cas>");
  }

  static String escape(String s) {
    StringBuilder b = new StringBuilder();
    for (char c : s.toCharArray()) {
      switch (c) {
        case '\r' -> b.append("\\r");
        case '\n' -> b.append("\\n");
        case '\\' -> b.append("\\\\");
        default -> {
          if (c >= 32 && c < 127) {
            b.append(c);
          } else {
            b.append(String.format("\\x%02x", (int) c));
          }
        }
      }
    }
    return b.toString();
  }

  // ---------------------------------------------------------------------------------------------
  // The real memcached

  private static Path findMemcached() {
    List<Path> candidates = new ArrayList<>();
    candidates.add(Path.of("/usr/bin/memcached"));
    candidates.add(Path.of("/usr/local/bin/memcached"));
    String path = System.getenv("PATH");
    if (path != null) {
      for (String dir : path.split(File.pathSeparator)) {
        if (!dir.isEmpty()) {
          candidates.add(Path.of(dir, "memcached"));
        }
      }
    }
    for (Path candidate : candidates) {
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return fail(
        "memcached is not installed (looked in /usr/bin, /usr/local/bin and PATH). Install"
            + " memcached 1.6 (apt-get install memcached); CI installs it, so this test never"
            + " skips.");
  }

  private static void startMemcached(Path binary) throws Exception {
    memcachedLog = Files.createTempFile("memcached", ".log");
    IOException last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      int port = freePort();
      List<String> command = new ArrayList<>();
      command.addAll(
          List.of(binary.toString(), "-p", Integer.toString(port), "-l", "127.0.0.1", "-U", "0"));
      command.addAll(List.of("-m", "64"));
      if ("root".equals(System.getProperty("user.name"))) {
        command.addAll(List.of("-u", "root"));
      }
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(memcachedLog.toFile())
              .start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (System.nanoTime() < deadline && process.isAlive()) {
        try (Socket probe = new Socket()) {
          probe.connect(new InetSocketAddress("127.0.0.1", port), 1_000);
          memcached = process;
          memcachedPort = port;
          return;
        } catch (IOException e) {
          last = e;
          Thread.sleep(20);
        }
      }
      // Lost a race for the port, or it did not come up: try again on another port.
      process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
    throw new IllegalStateException(
        "memcached did not start (" + binary + "): " + Files.readString(memcachedLog), last);
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Random conversations

  /** Seeded generator of text-protocol conversations; one instance per seed, used in order. */
  static final class Conversations {
    private static final String[] KEYS = {"a", "b", "c"};
    private static final String LONG_KEY = "k".repeat(250);
    private static final String TOO_LONG_KEY = "k".repeat(251);
    private static final String[] FLAGS = {
      "1", "42", "65536", "4294967295", "4294967296", "-1", "abc", "007", "18446744073709551616"
    };

    /** Never close enough to now to expire during a conversation. */
    private static final String[] EXPTIMES = {
      "100", "-1", "1000000000", "2592000", "2592001", "abc", "99999999999", "-2147483649"
    };

    private static final String[] VALUES = {
      "",
      "0",
      "1",
      "10",
      "99",
      "abc",
      "18446744073709551615",
      "18446744073709551616",
      " 7",
      "7 ",
      "-3",
      "x\r\ny",
      "00000000000000000000042",
      "5a",
      "12345678901234567890",
      "\u00ff\u0000"
    };
    private static final String[] DELTAS = {
      "1",
      "0",
      "5",
      "18446744073709551615",
      "18446744073709551616",
      "-1",
      "abc",
      "0x10",
      "00000000000000000001",
      " "
    };
    private static final String[] CAS_VALUES = {
      "0", "18446744073709551615", "18446744073709551616", "-1", "x", "999999999999"
    };

    private final Random random;

    /**
     * Whether this conversation already read an item. memcached rewrites an incr/decr result in
     * place, padded with spaces, only while no queued reply still references the item; after a read
     * in the same batch it allocates a new, unpadded item instead. That is an artefact of its
     * reference counting, so arithmetic only comes before any read.
     */
    private boolean retrieved;

    Conversations(Random random) {
      this.random = random;
    }

    String next() {
      retrieved = false;
      StringBuilder b = new StringBuilder();
      int commands = 1 + random.nextInt(7);
      for (int i = 0; i < commands; i++) {
        b.append(command());
      }
      return b.toString();
    }

    private String command() {
      int kind = random.nextInt(100);
      if (kind < 35) {
        return storage();
      } else if (kind < 55) {
        return retrieval();
      } else if (kind < 65) {
        return retrieved ? delete() : arithmetic();
      } else if (kind < 71) {
        return delete();
      } else if (kind < 76) {
        return touch();
      } else if (kind < 88) {
        return meta();
      } else if (kind < 92) {
        return flushAll();
      } else if (kind < 94) {
        return pick("verbosity 1\r\n", "verbosity 1 noreply\r\n", "verbosity\r\n");
      } else {
        return pick("foo\r\n", "GET a\r\n", "\r\n", "sets a 0 0 1\r\n", "get\r\n", "incr a\r\n");
      }
    }

    private String storage() {
      String cmd = pick("set", "set", "add", "replace", "append", "prepend", "cas");
      String key = key(true);
      String flags = chance(60) ? "0" : pick(FLAGS);
      String exptime = chance(60) ? "0" : pick(EXPTIMES);
      String value = pick(VALUES);
      int length = value.length();
      String lengthToken = Integer.toString(length);
      String filler = "";
      int shape = random.nextInt(100);
      if (shape < 6 && length > 0) {
        lengthToken = Integer.toString(length - 1); // data longer than declared
      } else if (shape < 12) {
        // Data shorter than declared, followed by enough bytes that no server waits.
        lengthToken = Integer.toString(length + 1 + random.nextInt(2));
        filler = "xx\r\n";
      } else if (shape < 15) {
        lengthToken = pick("-1", "abc", "2147483648", "");
      }
      StringBuilder line = new StringBuilder(cmd).append(' ').append(key);
      boolean missingToken = chance(4);
      line.append(' ').append(flags).append(' ').append(exptime);
      if (!missingToken) {
        line.append(' ').append(lengthToken);
      }
      if (cmd.equals("cas") && !chance(10)) {
        line.append(' ').append(pick(CAS_VALUES));
      }
      if (chance(20)) {
        line.append(" noreply");
      }
      if (chance(3)) {
        line.append(" extra");
      }
      return line.append("\r\n").append(value).append("\r\n").append(filler).toString();
    }

    private String retrieval() {
      retrieved = true;
      String cmd = pick("get", "get", "gets", "gat 0", "gat 100", "gats 100", "gat -1", "gat x");
      StringBuilder line = new StringBuilder(cmd);
      int keys = chance(5) ? 0 : 1 + random.nextInt(3);
      for (int i = 0; i < keys; i++) {
        line.append(' ').append(key(false));
      }
      return line.append("\r\n").toString();
    }

    private String arithmetic() {
      StringBuilder line = new StringBuilder(pick("incr", "decr")).append(' ').append(key(true));
      if (!chance(5)) {
        line.append(' ').append(pick(DELTAS));
      }
      if (chance(20)) {
        line.append(" noreply");
      }
      return line.append("\r\n").toString();
    }

    private String delete() {
      String key = key(true);
      return pick(
          "delete " + key + "\r\n",
          "delete " + key + "\r\n",
          "delete " + key + " noreply\r\n",
          "delete " + key + " 0\r\n",
          "delete " + key + " 5\r\n",
          "delete " + key + " 0 noreply\r\n",
          "delete " + key + " x y z\r\n",
          "delete\r\n");
    }

    private String touch() {
      StringBuilder line = new StringBuilder("touch ").append(key(true));
      if (!chance(5)) {
        line.append(' ').append(pick("0", "100", "-1", "abc", "2592001"));
      }
      if (chance(20)) {
        line.append(" noreply");
      }
      return line.append("\r\n").toString();
    }

    /**
     * No delayed flush: memcached flushes lazily, and a pending delay makes it forget the flush
     * before it, so "flush_all" then "flush_all 100" brings every flushed item back. Whack drops
     * flushed items at once.
     */
    private String flushAll() {
      return pick(
          "flush_all\r\n",
          "flush_all 0\r\n",
          "flush_all noreply\r\n",
          "flush_all -1\r\n",
          "flush_all x\r\n");
    }

    private String meta() {
      String key = key(false);
      return switch (random.nextInt(6)) {
        case 0 -> "mn\r\n";
        case 1 -> {
          retrieved = true;
          yield "mg " + key + flags("v", "f", "s", "c", "q", "k", "O7", "h") + "\r\n";
        }
        case 2 -> {
          String value = pick(VALUES);
          int length = value.length();
          yield "ms "
              + key
              + " "
              + length
              + flags("F7", "T100", "T-1", "c", "q", "k", "I", "MS", "ME", "MA", "MP", "MR", "O9")
              + "\r\n"
              + value
              + "\r\n";
        }
        case 3 -> "md " + key + flags("q", "k", "O1", "T100", "I") + "\r\n";
        case 4 -> {
          if (retrieved) {
            yield "mn\r\n";
          }
          String flags = flags("N0", "J13", "D5", "MI", "MD", "M+", "M-", "v", "c", "k", "O3");
          yield "ma " + key + flags + (chance(35) ? " q" : "") + "\r\n";
        }
        default -> {
          retrieved = true;
          yield "mg YQ== b" + flags("v", "f", "s", "k") + "\r\n"; // "a" in base64
        }
      };
    }

    private String flags(String... choices) {
      StringBuilder b = new StringBuilder();
      for (String flag : choices) {
        if (chance(35)) {
          b.append(' ').append(flag);
        }
      }
      return b.toString();
    }

    private String key(boolean allowTooLong) {
      int roll = random.nextInt(100);
      if (roll < 5) {
        return LONG_KEY;
      } else if (roll < 10 && allowTooLong) {
        return TOO_LONG_KEY;
      }
      return pick(KEYS);
    }

    private boolean chance(int percent) {
      return random.nextInt(100) < percent;
    }

    @SafeVarargs
    private <T> T pick(T... choices) {
      return choices[random.nextInt(choices.length)];
    }
  }
}
