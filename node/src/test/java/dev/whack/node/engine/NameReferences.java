package dev.whack.node.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whack.node.engine.expr.ExpressionCompiler;
import dev.whack.node.engine.profile.Dictionaries;
import dev.whack.node.engine.profile.NameTable;
import dev.whack.proto.Attribute;
import dev.whack.proto.EventSeries;
import dev.whack.proto.Profile;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The brute-force count of every name's uses: one per live profile that has the attribute (or event
 * series), one per defined segment whose expression reads it. Whenever no call is in flight, the
 * stripes' counts of profile uses must equal the profiles' own, and each name's reference count in
 * its table must be one per stripe that uses it plus one per segment; the tables hold no other
 * name.
 */
final class NameReferences {
  private NameReferences() {}

  static void assertExact(KeyedEngine engine, String where) {
    Map<String, Integer> attributes = new TreeMap<>();
    Map<String, Integer> events = new TreeMap<>();
    for (Profile p : engine.all()) {
      for (Attribute a : p.getAttributesList()) {
        attributes.merge(a.getName(), 1, Integer::sum);
      }
      for (EventSeries s : p.getEventsList()) {
        events.merge(s.getName(), 1, Integer::sum);
      }
    }
    Map<String, Integer> attributeSegments = new TreeMap<>();
    Map<String, Integer> eventSegments = new TreeMap<>();
    for (SegmentInfo s : engine.segments()) {
      // the names an expression reads, as a compiler with tables of its own interns them
      Dictionaries own = Dictionaries.create(1000);
      new ExpressionCompiler(
              own.attributes(),
              own.events(),
              engine.config().retentionDays(),
              engine.names().dimensions())
          .compile(s.expression(), true);
      count(own.attributes(), attributeSegments);
      count(own.events(), eventSegments);
    }
    check(engine, false, attributes, attributeSegments, where + ": attribute names");
    check(engine, true, events, eventSegments, where + ": event names");
  }

  private static void check(
      KeyedEngine engine,
      boolean events,
      Map<String, Integer> profiles,
      Map<String, Integer> segments,
      String where) {
    NameTable names = events ? engine.names().events() : engine.names().attributes();
    Map<Integer, int[]> uses = engine.nameUses(events);
    Map<String, Integer> expected = new TreeMap<>();
    Map<String, Integer> actual = new TreeMap<>();
    for (String name : profiles.keySet()) {
      expected.put(name + " in profiles", profiles.get(name));
    }
    for (String name : segments.keySet()) {
      expected.put(name + " in segments", segments.get(name));
    }
    for (int id = 0; id < names.idLimit(); id++) {
      String name = names.nameOrNull(id);
      if (name == null) {
        continue;
      }
      assertEquals(id, names.idOf(name), () -> where + ": lookup of " + name);
      int[] use = uses.getOrDefault(id, new int[2]);
      if (use[0] > 0) {
        actual.put(name + " in profiles", use[0]);
      }
      int segmentRefs = names.refs(id) - use[1];
      if (segmentRefs != 0) {
        actual.put(name + " in segments", segmentRefs);
      }
    }
    assertEquals(expected, actual, where);
    Set<String> inUse = new TreeSet<>(profiles.keySet());
    inUse.addAll(segments.keySet());
    assertEquals(inUse.size(), names.size(), () -> where + ": names in the table");
  }

  private static void count(NameTable names, Map<String, Integer> into) {
    for (int id = 0; id < names.idLimit(); id++) {
      if (names.nameOrNull(id) != null) {
        into.merge(names.nameOrNull(id), 1, Integer::sum);
      }
    }
  }
}
