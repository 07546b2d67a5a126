package dev.whack.node.observability;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The per-prefix counts behind {@code stats detail}, and the bound that keeps them small. */
class PrefixStatsTest {

  @Test
  void shouldStopCountingNewPrefixesOnceTheBoundIsReached() {
    PrefixStats prefixes = new PrefixStats();
    for (int i = 0; i <= PrefixStats.MAX_PREFIXES; i++) {
      prefixes.recordSet(key("p" + i + ":k"), 0, ("p" + i + ":k").length());
    }
    prefixes.recordGet(key("p0:k"), 0, 4, true);
    String dump = new String(prefixes.dump(), StandardCharsets.ISO_8859_1);
    assertEquals(PrefixStats.MAX_PREFIXES, dump.split("\r\n").length - 1, "prefix lines");
    assertEquals(-1, dump.indexOf("PREFIX p" + PrefixStats.MAX_PREFIXES + " "), "the one too many");
    assertEquals(
        0, dump.indexOf("PREFIX p0 get 1 hit 1 set 1 del 0\r\n"), "a known prefix still counts");

    prefixes.clear();
    prefixes.recordDelete(key("late:k"), 0, 6);
    assertEquals(
        "PREFIX late get 0 hit 0 set 0 del 1\r\nEND\r\n",
        new String(prefixes.dump(), StandardCharsets.ISO_8859_1),
        "a reset makes room again");
  }

  @Test
  void shouldCountOnlyKeysWithTheDelimiterBeforeAnyNulByte() {
    PrefixStats prefixes = new PrefixStats();
    prefixes.recordSet(key("plain"), 0, 5);
    prefixes.recordSet(key("a\0b:c"), 0, 5);
    prefixes.recordSet(key("xx:a:b"), 1, 5); // the key is "x:a:b": prefix "x"
    prefixes.recordSet(key(":empty"), 0, 6);
    assertEquals(
        "PREFIX  get 0 hit 0 set 1 del 0\r\nPREFIX x get 0 hit 0 set 1 del 0\r\nEND\r\n",
        new String(prefixes.dump(), StandardCharsets.ISO_8859_1));
  }

  private static byte[] key(String text) {
    return text.getBytes(StandardCharsets.ISO_8859_1);
  }
}
