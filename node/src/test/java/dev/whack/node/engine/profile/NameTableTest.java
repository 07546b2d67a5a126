package dev.whack.node.engine.profile;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class NameTableTest {
  private static int idOf(NameTable t, String s) {
    byte[] b = ("xx" + s + "yy").getBytes(UTF_8);
    return t.idOf(b, 2, b.length - 4);
  }

  private static int acquireBytes(NameTable t, String s) {
    byte[] b = ("xx" + s + "yy").getBytes(UTF_8);
    return t.acquire(b, 2, b.length - 4);
  }

  /**
   * A node loading a snapshot gives its names the ids they had (so compact profiles need no
   * renumbering): a free id is taken as asked, the ids skipped on the way stay free for later
   * names, and a name already there, or an id already taken, keeps the table's own numbering.
   */
  @Test
  void shouldGiveANewNameTheIdAskedForWhenItIsFree() {
    NameTable t = new NameTable("attribute", 100);
    assertEquals(5, t.acquireAt("country", 5));
    assertEquals(2, t.acquireAt("city", 2));
    assertEquals(0, t.acquire("street"), "the ids skipped are free, lowest first");
    assertEquals(5, t.acquireAt("country", 9), "a name already there keeps its id");
    assertEquals(2, t.refs(5));
    assertEquals(1, t.acquireAt("zip", 2), "a taken id: the next free one instead");
    assertEquals("country", t.name(5));
    assertEquals(4, t.size());
  }

  /**
   * While held (a snapshot renders compact profiles it copied earlier), a name that loses its last
   * use keeps its id, so the id cannot be handed to another name; the last unhold frees it.
   */
  @Test
  void shouldKeepEveryIdsNameWhileHeldAndFreeWhatWentUnusedAfter() {
    NameTable t = new NameTable("attribute", 10);
    int country = t.acquire("country");
    t.hold();
    t.hold();
    t.release(country);
    assertEquals("country", t.name(country), "its name stays while held");
    int city = t.acquire("city");
    assertNotEquals(country, city, "its id is not handed out again while held");
    t.unhold();
    assertEquals("country", t.name(country), "still held once");
    t.unhold();
    assertEquals(null, t.nameOrNull(country), "freed by the last unhold");
    assertEquals(country, t.acquire("street"), "and its id free again");
    assertEquals(2, t.size());
  }

  @Test
  void shouldFindTheSameIdByStringAndByUtf8Bytes() {
    NameTable t = new NameTable("attribute", 1000);
    String[] names = {"country", "é", "名前", "😀", "a b"};
    for (String n : names) {
      t.acquire(n);
    }
    for (int i = 0; i < 300; i++) { // several rebuilds of the index
      assertEquals(names.length + i, acquireBytes(t, "n" + i));
    }
    for (int i = 0; i < names.length; i++) {
      assertEquals(i, idOf(t, names[i]));
      assertEquals(i, t.idOf(names[i]));
      assertEquals(i, acquireBytes(t, names[i]));
      assertEquals(2, t.refs(i));
    }
    assertEquals(names.length + 299, t.idOf("n299"));
    assertEquals(-1, idOf(t, "countr"));
    assertEquals(-1, idOf(t, ""));
  }

  @Test
  void shouldKeepANameWithAnUnpairedSurrogateApartFromItsLossyUtf8() {
    NameTable t = new NameTable("attribute", 10);
    int lone = t.acquire("a\uD800");
    assertEquals(-1, idOf(t, "a?")); // its UTF-8 form would read "a?"
    int plain = acquireBytes(t, "a?");
    assertNotEquals(lone, plain);
    assertEquals(plain, t.idOf("a?"));
    assertEquals(lone, t.idOf("a\uD800"));
    assertEquals("a\uD800", t.name(lone));
  }

  @Test
  void shouldRefuseNamesBeyondItsCapacityWhicheverWayTheyCome() {
    NameTable t = new NameTable("event", 2);
    t.acquire("a");
    acquireBytes(t, "b");
    InvalidProfileException e =
        assertThrows(InvalidProfileException.class, () -> acquireBytes(t, "c"));
    assertEquals("too many distinct event names in use on this node (at most 2)", e.getMessage());
    assertThrows(InvalidProfileException.class, () -> t.acquire("c"));
    assertEquals(2, t.size());
  }

  @Test
  void shouldFreeANameWithItsLastReferenceAndGiveItsIdToTheNextNewName() {
    NameTable t = new NameTable("attribute", 2);
    int a = t.acquire("a");
    int b = acquireBytes(t, "b");
    t.acquire("a");
    t.release(a);
    assertEquals(a, t.idOf("a"), "one reference is still held");
    t.release(a);
    assertEquals(-1, t.idOf("a"));
    assertNull(t.nameOrNull(a));
    assertEquals(1, t.size());
    assertEquals(a, t.acquire("c"), "the lowest free id, and room under the capacity again");
    assertEquals(b, t.idOf("b"));
    assertEquals(2, t.size());
  }

  @Test
  void shouldNotInternANameForAReaderThatOnlyWantsExistingNames() {
    NameTable t = new NameTable("attribute", 10);
    assertEquals(-1, t.acquireExisting("a"));
    assertEquals(0, t.size());
    int a = t.acquire("a");
    assertEquals(a, t.acquireExisting("a"));
    assertEquals(2, t.refs(a));
  }

  @Test
  void shouldInternAndFreeHundredsOfThousandsOfNames() {
    // The old table copied itself for every new name (100k names took minutes); this one runs in a
    // second. Ids are reused from the bottom once the names are gone.
    NameTable t = new NameTable("attribute", 1 << 20);
    int n = 300_000;
    for (int i = 0; i < n; i++) {
      assertEquals(i, acquireBytes(t, "name-" + i));
    }
    for (int i = 0; i < n; i++) {
      t.release(i);
    }
    assertEquals(0, t.size());
    assertEquals(-1, t.idOf("name-7"));
    assertEquals(0, t.acquire("again"));
  }
}
