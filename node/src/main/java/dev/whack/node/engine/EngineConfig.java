package dev.whack.node.engine;

import dev.whack.node.engine.profile.ProfileLimits;
import java.time.Duration;
import java.time.InstantSource;

/**
 * Configuration of a {@link ProfileEngine}: fluent setters, then {@link #conclude()} validates
 * everything once, before the engine exists. The clock is injected so that tests drive time.
 *
 * <p>Concurrency: build on one thread; after {@code conclude()} the object is read-only.
 */
public final class EngineConfig {
  private InstantSource clock = InstantSource.system();
  private int retentionDays = 60;
  private int lockStripes = 64;
  private int maxSegments = 1024;
  private int maxNames = 1 << 20;
  private int maxAttributesPerProfile = ProfileLimits.DEFAULTS.attributes();
  private int maxEventSeriesPerProfile = ProfileLimits.DEFAULTS.eventSeries();
  private int maxProducersPerProfile = ProfileLimits.DEFAULTS.producers();
  private Duration producerMarkAge =
      Duration.ofSeconds(ProfileLimits.DEFAULTS.producerMarkAgeSeconds());
  private int maxKeyBytes = 250;
  private int maxValueBytes = 1 << 20;
  private int changeBufferBytes = 16 << 20;
  private int changeBufferStripes = 4;
  private boolean concluded;

  /** The time source for event times, windows and now(); default the system clock. */
  public EngineConfig clock(InstantSource clock) {
    check();
    this.clock = clock;
    return this;
  }

  /**
   * Days of event buckets kept and the longest window (default 60). One more day is kept as padding
   * for events that arrive late around midnight.
   */
  public EngineConfig retentionDays(int days) {
    check();
    this.retentionDays = days;
    return this;
  }

  /**
   * Lock stripes over keys, a power of two (default 64). The node's keyspace shares them: each is
   * also one stripe of the item index, with its own LRU list, so more stripes mean less lock
   * contention but an LRU order that is global only per stripe (eviction takes the writer's own
   * stripe's tail first).
   */
  public EngineConfig lockStripes(int stripes) {
    check();
    this.lockStripes = stripes;
    return this;
  }

  /** Most segments defined at once (default 1024). */
  public EngineConfig maxSegments(int max) {
    check();
    this.maxSegments = max;
    return this;
  }

  /**
   * Most distinct attribute names in use at once, and separately most event names (default
   * 1,048,576). Their memory is charged against the node's memory cap ({@link
   * ProfileEngine#nameBytes}), so this is only a bound on the arrays indexed by a name's id; names
   * no profile or segment uses are freed.
   */
  public EngineConfig maxNames(int max) {
    check();
    this.maxNames = max;
    return this;
  }

  /** Most attributes in one profile (default 1024). */
  public EngineConfig maxAttributesPerProfile(int max) {
    check();
    this.maxAttributesPerProfile = max;
    return this;
  }

  /** Most event series in one profile (default 1024). */
  public EngineConfig maxEventSeriesPerProfile(int max) {
    check();
    this.maxEventSeriesPerProfile = max;
    return this;
  }

  /**
   * Most producer marks in one profile (default 64); a new producer on a full profile drops the
   * mark advanced least recently.
   */
  public EngineConfig maxProducersPerProfile(int max) {
    check();
    this.maxProducersPerProfile = max;
    return this;
  }

  /**
   * How long a producer mark is kept without advancing (default 30 days, at least a second): after
   * that, a replay of that producer's updates applies again.
   */
  public EngineConfig producerMarkAge(Duration age) {
    check();
    this.producerMarkAge = age;
    return this;
  }

  /** Longest profile key in bytes (default 250, memcached's limit). */
  public EngineConfig maxKeyBytes(int max) {
    check();
    this.maxKeyBytes = max;
    return this;
  }

  /**
   * Longest rendering of a profile, in the encoding a read returns it in (default 1 MiB,
   * memcached's item size limit): a put or update whose result would be longer is refused with
   * {@link ProfileTooLargeException} and changes nothing, so no read ever returns more.
   */
  public EngineConfig maxValueBytes(int max) {
    check();
    this.maxValueBytes = max;
    return this;
  }

  /**
   * Bytes of the change buffer every subscriber reads (default 16 MiB, a power of two): how much
   * change history a slow subscriber can fall behind before it loses the oldest, whatever the
   * number of subscribers. Allocated while anyone watches.
   */
  public EngineConfig changeBufferBytes(int bytes) {
    check();
    this.changeBufferBytes = bytes;
    return this;
  }

  /**
   * Rings the change buffer is split into, by profile key (default 4, a power of two): writers of
   * different keys rarely wait for one another.
   */
  public EngineConfig changeBufferStripes(int stripes) {
    check();
    this.changeBufferStripes = stripes;
    return this;
  }

  /** Validates every setting; afterwards the configuration cannot change. */
  public EngineConfig conclude() {
    if (concluded) {
      return this;
    }
    if (clock == null) {
      throw new IllegalArgumentException("clock must be set");
    }
    if (retentionDays < 1 || retentionDays > 3650) {
      throw new IllegalArgumentException("retentionDays must be 1..3650, was " + retentionDays);
    }
    if (lockStripes < 1 || lockStripes > (1 << 20) || Integer.bitCount(lockStripes) != 1) {
      throw new IllegalArgumentException(
          "lockStripes must be a power of two up to 2^20, was " + lockStripes);
    }
    if (maxSegments < 1 || maxSegments > 1 << 16) {
      throw new IllegalArgumentException("maxSegments must be 1..65536, was " + maxSegments);
    }
    if (maxNames < 16 || maxNames > 1 << 24) {
      throw new IllegalArgumentException("maxNames must be 16..2^24, was " + maxNames);
    }
    if (maxAttributesPerProfile < 1 || maxAttributesPerProfile > maxNames) {
      throw new IllegalArgumentException(
          "maxAttributesPerProfile must be 1..maxNames, was " + maxAttributesPerProfile);
    }
    if (maxEventSeriesPerProfile < 1 || maxEventSeriesPerProfile > maxNames) {
      throw new IllegalArgumentException(
          "maxEventSeriesPerProfile must be 1..maxNames, was " + maxEventSeriesPerProfile);
    }
    if (maxProducersPerProfile < 1 || maxProducersPerProfile > 65_536) {
      throw new IllegalArgumentException(
          "maxProducersPerProfile must be 1..65536, was " + maxProducersPerProfile);
    }
    if (producerMarkAge == null || producerMarkAge.getSeconds() < 1) {
      throw new IllegalArgumentException(
          "producerMarkAge must be at least a second, was " + producerMarkAge);
    }
    if (maxKeyBytes < 1 || maxKeyBytes > 65_535) {
      throw new IllegalArgumentException("maxKeyBytes must be 1..65535, was " + maxKeyBytes);
    }
    if (maxValueBytes < 1) {
      throw new IllegalArgumentException("maxValueBytes must be positive, was " + maxValueBytes);
    }
    if (changeBufferStripes < 1
        || changeBufferStripes > 64
        || Integer.bitCount(changeBufferStripes) != 1) {
      throw new IllegalArgumentException(
          "changeBufferStripes must be a power of two up to 64, was " + changeBufferStripes);
    }
    // A ring must hold several of the largest records (a key of maxKeyBytes), and 4 KiB at least.
    long smallestRing =
        Math.max(4096, 8L * dev.whack.node.engine.segment.ChangeHub.recordBytes(maxKeyBytes));
    if (Integer.bitCount(changeBufferBytes) != 1
        || (long) changeBufferBytes / changeBufferStripes < smallestRing) {
      throw new IllegalArgumentException(
          "changeBufferBytes must be a power of two of at least "
              + smallestRing * changeBufferStripes
              + " bytes ("
              + changeBufferStripes
              + " rings of "
              + smallestRing
              + "), was "
              + changeBufferBytes);
    }
    concluded = true;
    return this;
  }

  private void check() {
    if (concluded) {
      throw new IllegalStateException("configuration is concluded and can no longer change");
    }
  }

  public InstantSource clock() {
    return clock;
  }

  public int retentionDays() {
    return retentionDays;
  }

  public int lockStripes() {
    return lockStripes;
  }

  public int maxSegments() {
    return maxSegments;
  }

  public int maxNames() {
    return maxNames;
  }

  public int maxKeyBytes() {
    return maxKeyBytes;
  }

  public int maxValueBytes() {
    return maxValueBytes;
  }

  public int changeBufferBytes() {
    return changeBufferBytes;
  }

  public int changeBufferStripes() {
    return changeBufferStripes;
  }

  public int maxAttributesPerProfile() {
    return maxAttributesPerProfile;
  }

  /** The per-profile limits, as the writer enforces them. */
  public ProfileLimits profileLimits() {
    return new ProfileLimits(
        maxAttributesPerProfile,
        maxEventSeriesPerProfile,
        maxProducersPerProfile,
        producerMarkAge.getSeconds());
  }
}
