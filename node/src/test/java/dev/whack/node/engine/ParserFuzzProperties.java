package dev.whack.node.engine;

import static org.junit.jupiter.api.Assertions.fail;

import dev.whack.node.engine.expr.ExpressionException;
import dev.whack.node.engine.json.JsonFormatException;
import dev.whack.node.engine.profile.InvalidProfileException;
import dev.whack.node.testing.ManualClock;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * Every parser either accepts its input or throws its documented error; never anything else (no
 * NullPointerException, StackOverflowError, IndexOutOfBounds...).
 */
class ParserFuzzProperties {
  private static final String[] PIECES = {
    "country",
    "age",
    "tags",
    "`odd name`",
    "\"DK\"",
    "\"",
    "\\",
    "\\u12",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "=",
    "!",
    "and",
    "or",
    "not",
    "in",
    "xor",
    "(",
    ")",
    "[",
    "]",
    ",",
    "+",
    "-",
    "7d",
    "12h",
    "0ms",
    "30x",
    "1.5",
    "1e9",
    "1e999",
    "-3",
    "99999999999999999999",
    "true",
    "false",
    "now()",
    "now",
    "exists(",
    "count(buy, 30d)",
    "sum(",
    "avg(view,",
    "decayed(buy, 0d)",
    "variance(",
    "2026-11-20",
    "2026-11-20T10:00:00Z",
    "2026-02-30",
    "2026-",
    " ",
    "\t",
    "é",
    "😀",
    "\u0000",
    "@",
    "#",
    "",
    "seg_a",
    "seg_b",
    "in_segment(seg_a)",
    "entered(",
    "entered(seg_a)",
    "time_in(",
    "time_in(\"seg_b\")",
    "time_in(seg_a) > 7d"
  };

  private final ManualClock clock = ManualClock.at("2026-11-20T10:00:00Z");
  private final KeyedEngine engine = newEngine();

  private KeyedEngine newEngine() {
    KeyedEngine e = new KeyedEngine(new EngineConfig().clock(clock));
    e.define("seg_a", "country == \"DK\"");
    e.define("seg_b", "age > 3");
    byte[] p = "{\"country\":\"DK\",\"age\":5,\"tags\":[\"x\"]}".getBytes(StandardCharsets.UTF_8);
    e.putJson("k".getBytes(StandardCharsets.UTF_8), p, 0, p.length);
    return e;
  }

  private static String noise(Random r) {
    StringBuilder sb = new StringBuilder();
    int n = r.nextInt(12);
    for (int i = 0; i < n; i++) {
      if (r.nextInt(8) == 0) {
        sb.append((char) r.nextInt(128));
      } else {
        sb.append(PIECES[r.nextInt(PIECES.length)]);
      }
      if (r.nextBoolean()) {
        sb.append(' ');
      }
    }
    return sb.toString();
  }

  @Property(tries = 2000)
  void expressionsCompileOrThrowExpressionException(@ForAll long seed) {
    String text = noise(new Random(seed));
    try {
      engine.filterCount(text);
    } catch (ExpressionException expected) {
      // documented
    } catch (Throwable t) {
      fail("filter \"" + text + "\" threw " + t, t);
    }
    try {
      engine.count(text);
    } catch (ExpressionException | dev.whack.node.engine.segment.UnknownSegmentException expected) {
      // documented
    } catch (Throwable t) {
      fail("segment query \"" + text + "\" threw " + t, t);
    }
  }

  @Property(tries = 1000)
  void arbitraryExpressionTextNeverEscapesTheDocumentedError(@ForAll String text) {
    try {
      engine.filterCount(text);
    } catch (ExpressionException expected) {
      // documented
    } catch (Throwable t) {
      fail("filter \"" + text + "\" threw " + t, t);
    }
  }

  private static final String[] JSON_PIECES = {
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"set\"",
    "\"incr\"",
    "\"add\"",
    "\"events\"",
    "\"name\"",
    "\"time\"",
    "\"value\"",
    "\"a\"",
    "\"$events\"",
    "\"$producers\"",
    "\"$string\"",
    "\"$x\"",
    "1",
    "-1",
    "1.5",
    "1e999",
    "92233720368547758070",
    "true",
    "null",
    "\"2026-11-20T10:00:00Z\"",
    "\"2026-11-20\"",
    "\"2026-13-20T10:00:00Z\"",
    "\"x\"",
    "\"seq\"",
    "\"producer\"",
    " ",
    "\\"
  };

  @Property(tries = 3000)
  void jsonInputIsAcceptedOrRejectedWithTheDocumentedErrors(@ForAll long seed) {
    Random r = new Random(seed);
    StringBuilder sb = new StringBuilder();
    int n = r.nextInt(16);
    for (int i = 0; i < n; i++) {
      sb.append(JSON_PIECES[r.nextInt(JSON_PIECES.length)]);
    }
    byte[] json = sb.toString().getBytes(StandardCharsets.UTF_8);
    byte[] key = "fuzz".getBytes(StandardCharsets.UTF_8);
    for (int mode = 0; mode < 2; mode++) {
      try {
        if (mode == 0) {
          engine.putJson(key, json, 0, json.length);
        } else {
          engine.updateJson(key, json, 0, json.length);
        }
      } catch (JsonFormatException | InvalidProfileException expected) {
        // documented
      } catch (Throwable t) {
        fail("JSON " + sb + " threw " + t, t);
      }
    }
  }
}
