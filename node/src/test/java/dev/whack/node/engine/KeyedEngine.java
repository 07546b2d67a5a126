package dev.whack.node.engine;

import dev.whack.node.engine.profile.Dictionaries;
import dev.whack.node.engine.profile.ProfileTable;
import dev.whack.node.engine.profile.Rendering;
import dev.whack.node.engine.segment.Subscription;
import dev.whack.proto.Profile;
import dev.whack.proto.Update;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The engine behind a key index, for the engine's own tests. The engine has no key index: on the
 * node, the keyspace's items are the one index and hand each call the key's hash and its profile's
 * ordinal. This fixture is the smallest such index (a map from key to ordinal, kept from each
 * write's result under the key's stripe lock, as the keyspace keeps it), so that tests can speak of
 * profiles by key. Everything that is not keyed is passed straight to the engine.
 *
 * <p>Concurrency: as the engine; the map is concurrent and changed under the key's stripe lock.
 */
public final class KeyedEngine {
  private final ProfileEngine engine;
  private final ReentrantLock[] locks;

  /** Key (one char per byte) to {ordinal, footprint of the last write}. */
  private final Map<String, int[]> profiles = new ConcurrentHashMap<>();

  public KeyedEngine(EngineConfig config) {
    this(new ProfileEngine(config));
  }

  public KeyedEngine(ProfileEngine engine) {
    this.engine = engine;
    this.locks = engine.stripeLocks();
  }

  /** The engine itself. */
  public ProfileEngine engine() {
    return engine;
  }

  // ------------------------------------------------------------------ keyed calls

  /** A write under the key's lock, given the key's hash and current ordinal. */
  private interface Write {
    WriteResult apply(int hash, int ordinal);
  }

  private WriteResult write(byte[] key, Write write) {
    int hash = ProfileTable.hash(key);
    ReentrantLock lock = locks[ProfileTable.stripeIndex(hash, locks.length)];
    String name = name(key);
    lock.lock();
    try {
      int[] known = profiles.get(name);
      WriteResult r = write.apply(hash, known == null ? ProfileEngine.NO_PROFILE : known[0]);
      if (r.ordinal() >= 0) {
        profiles.put(name, new int[] {r.ordinal(), r.footprintBytes()});
      }
      return r;
    } finally {
      lock.unlock();
    }
  }

  public WriteResult put(byte[] key, Profile profile) {
    return write(key, (hash, ord) -> engine.put(key, hash, ord, profile));
  }

  public WriteResult putJson(byte[] key, byte[] json, int offset, int length) {
    return write(key, (hash, ord) -> engine.putJson(key, hash, ord, json, offset, length));
  }

  public WriteResult update(byte[] key, Update update) {
    return update(key, update, Rendering.JSON);
  }

  public WriteResult update(byte[] key, Update update, Rendering rendering) {
    return write(key, (hash, ord) -> engine.update(key, hash, ord, update, rendering));
  }

  public WriteResult updateJson(byte[] key, byte[] json, int offset, int length) {
    return updateJson(key, json, offset, length, Rendering.JSON);
  }

  public WriteResult updateJson(
      byte[] key, byte[] json, int offset, int length, Rendering rendering) {
    return write(
        key, (hash, ord) -> engine.updateJson(key, hash, ord, json, offset, length, rendering));
  }

  public boolean remove(byte[] key) {
    int hash = ProfileTable.hash(key);
    ReentrantLock lock = locks[ProfileTable.stripeIndex(hash, locks.length)];
    lock.lock();
    try {
      int[] known = profiles.remove(name(key));
      return known != null && engine.remove(key, hash, known[0]);
    } finally {
      lock.unlock();
    }
  }

  /** Removes every profile, as a flush does; returns how many. */
  public int removeAll() {
    int removed = 0;
    for (String key : new ArrayList<>(profiles.keySet())) {
      if (remove(ProfileEngine.key(key))) {
        removed++;
      }
    }
    return removed;
  }

  public Profile get(byte[] key) {
    return engine.get(key, ProfileTable.hash(key), ordinal(key));
  }

  public byte[] getJson(byte[] key) {
    return engine.getJson(key, ProfileTable.hash(key), ordinal(key));
  }

  public boolean contains(byte[] key) {
    return get(key) != null;
  }

  /** The footprint the last write of the key reported, or -1 when it has no profile. */
  public int footprint(byte[] key) {
    int[] known = profiles.get(name(key));
    return known == null ? -1 : known[1];
  }

  public EventStats eventStats(byte[] key, String event, int windowDays, long halfLifeMillis) {
    return engine.eventStats(
        key, ProfileTable.hash(key), ordinal(key), event, windowDays, halfLifeMillis);
  }

  public DistinctCount distinct(byte[] key, String dimension, int windowDays) {
    return engine.distinct(key, ProfileTable.hash(key), ordinal(key), dimension, windowDays);
  }

  public boolean inSegment(String segment, byte[] key) {
    return engine.inSegment(segment, key, ProfileTable.hash(key), ordinal(key));
  }

  public List<String> segmentsOf(byte[] key) {
    return engine.segmentsOf(key, ProfileTable.hash(key), ordinal(key));
  }

  public List<SegmentMembership> membershipsOf(byte[] key) {
    return engine.membershipsOf(key, ProfileTable.hash(key), ordinal(key));
  }

  /** Every profile, in no particular order. */
  public List<Profile> all() {
    List<Profile> out = new ArrayList<>();
    for (String key : profiles.keySet()) {
      Profile p = get(ProfileEngine.key(key));
      if (p != null) {
        out.add(p);
      }
    }
    return out;
  }

  private int ordinal(byte[] key) {
    int[] known = profiles.get(name(key));
    return known == null ? ProfileEngine.NO_PROFILE : known[0];
  }

  private static String name(byte[] key) {
    return new String(key, StandardCharsets.ISO_8859_1);
  }

  // ------------------------------------------------------------------ the rest, unchanged

  public EngineConfig config() {
    return engine.config();
  }

  Dictionaries names() {
    return engine.names();
  }

  Map<Integer, int[]> nameUses(boolean events) {
    return engine.nameUses(events);
  }

  public int size() {
    return engine.size();
  }

  public SegmentInfo define(String name, String expression) {
    return engine.define(name, expression);
  }

  public boolean drop(String name) {
    return engine.drop(name);
  }

  public List<String> drop(String name, boolean force) {
    return engine.drop(name, force);
  }

  public List<SegmentInfo> segments() {
    return engine.segments();
  }

  public SegmentInfo segment(String name) {
    return engine.segment(name);
  }

  public long count(String segmentQuery) {
    return engine.count(segmentQuery);
  }

  public MembersPage members(String segmentQuery, String cursor, int limit) {
    return engine.members(segmentQuery, cursor, limit);
  }

  public long filterCount(String filter) {
    return engine.filterCount(filter);
  }

  public MembersPage filterMembers(String filter, String cursor, int limit) {
    return engine.filterMembers(filter, cursor, limit);
  }

  public Subscription subscribe(Collection<String> segments, Runnable onChange) {
    return engine.subscribe(segments, onChange);
  }

  public int runDueReevaluations() {
    return engine.runDueReevaluations();
  }

  public int runDueReevaluations(int maxProfiles) {
    return engine.runDueReevaluations(maxProfiles);
  }

  public long nextReevaluationMillis() {
    return engine.nextReevaluationMillis();
  }

  public long membershipChanges() {
    return engine.membershipChanges();
  }

  public long nameBytes() {
    return engine.nameBytes();
  }

  public EngineStats stats() {
    return engine.stats();
  }
}
