package dev.whack.node.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whack.node.engine.expr.ExpressionCompiler;
import dev.whack.node.engine.profile.Dictionaries;
import dev.whack.node.engine.profile.NameTable;
import dev.whack.proto.Attribute;
import dev.whack.proto.EventSeries;
import dev.whack.proto.Profile;
import java.util.Map;
import java.util.TreeMap;

/**
 * The brute-force count of every name's references: one per live profile that has the attribute (or
 * event series), one per defined segment whose expression reads it. The engine's name tables must
 * hold exactly these names, with exactly these counts, whenever no call is in flight.
 */
final class NameReferences {
  private NameReferences() {}

  static void assertExact(ProfileEngine engine, String where) {
    Map<String, Integer> attributes = new TreeMap<>();
    Map<String, Integer> events = new TreeMap<>();
    String cursor = null;
    do {
      ProfilePage page = engine.profiles(null, cursor, 1000);
      for (Profile p : page.profiles()) {
        for (Attribute a : p.getAttributesList()) {
          attributes.merge(a.getName(), 1, Integer::sum);
        }
        for (EventSeries s : p.getEventsList()) {
          events.merge(s.getName(), 1, Integer::sum);
        }
      }
      cursor = page.nextCursor();
    } while (cursor != null);
    for (SegmentInfo s : engine.segments()) {
      // the names an expression reads, as a compiler with tables of its own interns them
      Dictionaries own = Dictionaries.create(1000);
      new ExpressionCompiler(own.attributes(), own.events(), engine.config().retentionDays())
          .compile(s.expression(), true);
      count(own.attributes(), attributes);
      count(own.events(), events);
    }
    assertEquals(attributes, held(engine.names().attributes()), where + ": attribute names");
    assertEquals(events, held(engine.names().events()), where + ": event names");
    assertEquals(attributes.size(), engine.stats().attributeNames(), where);
    assertEquals(events.size(), engine.stats().eventNames(), where);
  }

  private static void count(NameTable names, Map<String, Integer> into) {
    for (int id = 0; id < names.idLimit(); id++) {
      if (names.nameOrNull(id) != null) {
        into.merge(names.nameOrNull(id), 1, Integer::sum);
      }
    }
  }

  /** Every name in use with its reference count, checking that a lookup finds it at its id. */
  private static Map<String, Integer> held(NameTable names) {
    Map<String, Integer> out = new TreeMap<>();
    for (int id = 0; id < names.idLimit(); id++) {
      String name = names.nameOrNull(id);
      if (name != null) {
        assertEquals(id, names.idOf(name), () -> "lookup of " + name);
        out.put(name, names.refs(id));
      }
    }
    return out;
  }
}
