package dev.whack.node.engine.profile;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class NameTableTest {
  private static int idOf(NameTable t, String s) {
    byte[] b = ("xx" + s + "yy").getBytes(UTF_8);
    return t.idOf(b, 2, b.length - 4);
  }

  @Test
  void shouldFindTheSameIdByStringAndByUtf8Bytes() {
    NameTable t = new NameTable("attribute", 1000);
    String[] names = {"country", "é", "名前", "😀", "a b"};
    for (String n : names) {
      t.intern(n);
    }
    for (int i = 0; i < 300; i++) { // several rebuilds of both indexes
      byte[] b = ("n" + i).getBytes(UTF_8);
      assertEquals(names.length + i, t.intern(b, 0, b.length));
    }
    for (int i = 0; i < names.length; i++) {
      assertEquals(i, idOf(t, names[i]));
      assertEquals(i, t.idOf(names[i]));
    }
    assertEquals(names.length + 299, t.idOf("n299"));
    assertEquals(-1, idOf(t, "countr"));
    assertEquals(-1, idOf(t, ""));
  }

  @Test
  void shouldKeepANameWithAnUnpairedSurrogateApartFromItsLossyUtf8() {
    NameTable t = new NameTable("attribute", 10);
    int lone = t.intern("a\uD800");
    assertEquals(-1, idOf(t, "a?")); // its UTF-8 form would read "a?"
    byte[] b = "a?".getBytes(UTF_8);
    int plain = t.intern(b, 0, b.length);
    assertNotEquals(lone, plain);
    assertEquals(plain, t.idOf("a?"));
    assertEquals(lone, t.idOf("a\uD800"));
  }

  @Test
  void shouldRefuseNamesBeyondItsCapacityWhicheverWayTheyCome() {
    NameTable t = new NameTable("event", 2);
    t.intern("a");
    byte[] b = "b".getBytes(UTF_8);
    t.intern(b, 0, 1);
    byte[] c = "c".getBytes(UTF_8);
    InvalidProfileException e =
        assertThrows(InvalidProfileException.class, () -> t.intern(c, 0, 1));
    assertEquals("too many distinct event names (the node's limit is 2)", e.getMessage());
  }
}
