package dev.whack.client;

import dev.whack.client.model.ProfileData;
import dev.whack.client.model.ProfileUpdate;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * The synchronous face of a {@link WhackClient}: the same calls, waiting for the answer and
 * throwing the client's unchecked exceptions ({@link NodeUnavailableException}, {@link
 * WhackTimeoutException}, {@link ServerErrorException}...) as they are, not wrapped.
 *
 * <p>Concurrency: thread-safe. Never call it on the client's I/O threads (inside a callback of the
 * async API): that thread is the one that would deliver the answer, so the call refuses with {@link
 * IllegalStateException} instead of stalling.
 */
public final class BlockingWhackClient {
  private final WhackClient client;
  private final BlockingSegments segments;
  private final BlockingDimensions dimensions;

  BlockingWhackClient(WhackClient client) {
    this.client = client;
    this.segments = new BlockingSegments(this, client.segments());
    this.dimensions = new BlockingDimensions(this, client.dimensions());
  }

  /** The async client behind this facade. */
  public WhackClient async() {
    return client;
  }

  /** Segment calls, blocking; see {@link WhackClient#segments()}. */
  public BlockingSegments segments() {
    return segments;
  }

  /** Dimension calls, blocking; see {@link WhackClient#dimensions()}. */
  public BlockingDimensions dimensions() {
    return dimensions;
  }

  /** The value under {@code key}, or empty on a miss; see {@link WhackClient#get(String)}. */
  public Optional<Item> get(String key) {
    return await(client.get(key));
  }

  /** The hits among {@code keys}; see {@link WhackClient#getMulti(Collection)}. */
  public Map<String, Item> getMulti(Collection<String> keys) {
    return await(client.getMulti(keys));
  }

  /** Stores an opaque value with flags 0 and no expiry. */
  public void set(String key, byte[] value) {
    await(client.set(key, value));
  }

  /** Stores a value; see {@link WhackClient#set(String, byte[], int, int)}. */
  public void set(String key, byte[] value, int flags, int expirySeconds) {
    await(client.set(key, value, flags, expirySeconds));
  }

  /** Removes a key; true if it was there. */
  public boolean delete(String key) {
    return await(client.delete(key));
  }

  /** A profile as canonical JSON, or empty; see {@link WhackClient#getProfile(String)}. */
  public Optional<String> getProfile(String key) {
    return await(client.getProfile(key));
  }

  /** A protobuf profile, or empty; see {@link WhackClient#getProfileProtobuf(String)}. */
  public Optional<byte[]> getProfileProtobuf(String key) {
    return await(client.getProfileProtobuf(key));
  }

  /** Replaces a profile with Profile JSON; see {@link WhackClient#setProfile(String, String)}. */
  public void setProfile(String key, String json) {
    await(client.setProfile(key, json));
  }

  /**
   * Replaces a profile with a typed one; see {@link WhackClient#setProfile(String, ProfileData)}.
   */
  public void setProfile(String key, ProfileData profile) {
    await(client.setProfile(key, profile));
  }

  /** A profile as typed values, or empty; see {@link WhackClient#getProfileData(String)}. */
  public Optional<ProfileData> getProfileData(String key) {
    return await(client.getProfileData(key));
  }

  /** Applies a typed update; see {@link WhackClient#update(String, ProfileUpdate)}. */
  public UpdateResult update(String key, ProfileUpdate update) {
    return await(client.update(key, update));
  }

  /** Replaces a profile with a protobuf {@code whack.v1.Profile}. */
  public void setProfileProtobuf(String key, byte[] profile) {
    await(client.setProfileProtobuf(key, profile));
  }

  /** Applies Update JSON; see {@link WhackClient#update(String, String)}. */
  public UpdateResult update(String key, String updateJson) {
    return await(client.update(key, updateJson));
  }

  /** Applies a protobuf {@code whack.v1.Update}. */
  public UpdateResult updateProtobuf(String key, byte[] update) {
    return await(client.updateProtobuf(key, update));
  }

  /** Removes a profile; true if it was there. */
  public boolean deleteProfile(String key) {
    return await(client.deleteProfile(key));
  }

  /** One member's general statistics; see {@link WhackClient#stats(String)}. */
  public Map<String, String> stats(String server) {
    return await(client.stats(server));
  }

  /** A member's version; see {@link WhackClient#version(String)}. */
  public String version(String server) {
    return await(client.version(server));
  }

  /** How many profiles one member holds; see {@link WhackClient#profileCount(String)}. */
  public long profileCount(String server) {
    return await(client.profileCount(server));
  }

  /**
   * Waits for a future of this client. The wait is bounded (request timeout plus connect timeout
   * plus a second) although the future completes by itself before that; an interrupt stops the
   * wait.
   */
  <T> T await(CompletableFuture<T> future) {
    if (client.io().inIoThread()) {
      throw new IllegalStateException(
          "a blocking Whack call on a Whack I/O thread would stall it; use the async API here");
    }
    Duration bound =
        client
            .io()
            .settings()
            .requestTimeout()
            .plus(client.io().settings().connectTimeout())
            .plusSeconds(1);
    try {
      return future.get(bound.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw rethrow(Futures.unwrap(e));
    } catch (TimeoutException e) {
      throw new WhackTimeoutException(null, "no answer within " + bound.toMillis() + " ms");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new WhackException(null, "interrupted while waiting for an answer", e);
    }
  }

  private static RuntimeException rethrow(Throwable cause) {
    if (cause instanceof RuntimeException r) {
      return r;
    }
    if (cause instanceof Error e) {
      throw e;
    }
    return new WhackException(null, String.valueOf(cause.getMessage()), cause);
  }

  /** Dimension calls, blocking; see {@link Dimensions}. */
  public static final class BlockingDimensions {
    private final BlockingWhackClient blocking;
    private final Dimensions dimensions;

    BlockingDimensions(BlockingWhackClient blocking, Dimensions dimensions) {
      this.blocking = blocking;
      this.dimensions = dimensions;
    }

    /** Defines a dimension on every node; see {@link Dimensions#define}. */
    public void define(String name, String definition) {
      blocking.await(dimensions.define(name, definition));
    }

    /** Drops a dimension on every node; see {@link Dimensions#drop}. */
    public boolean drop(String name) {
      return blocking.await(dimensions.drop(name));
    }

    /** Every dimension; see {@link Dimensions#list}. */
    public List<DimensionInfo> list() {
      return blocking.await(dimensions.list());
    }
  }

  /** Segment calls, blocking. */
  public static final class BlockingSegments {
    private final BlockingWhackClient blocking;
    private final Segments segments;

    BlockingSegments(BlockingWhackClient blocking, Segments segments) {
      this.blocking = blocking;
      this.segments = segments;
    }

    /** Defines a segment on every node; its size; see {@link Segments#define}. */
    public long define(String name, String expression) {
      return blocking.await(segments.define(name, expression));
    }

    /** What defining the segment would give now, defining nothing; see {@link Segments#dryRun}. */
    public SegmentDryRun dryRun(String name, String expression, int sample) {
      return blocking.await(segments.dryRun(name, expression, sample));
    }

    /** {@link Segments#dryRun(String, String)}. */
    public SegmentDryRun dryRun(String name, String expression) {
      return blocking.await(segments.dryRun(name, expression));
    }

    /** Drops a segment on every node; see {@link Segments#drop(String)}. */
    public boolean drop(String name) {
      return blocking.await(segments.drop(name));
    }

    /** {@link Segments#drop(String, boolean)}. */
    public boolean drop(String name, boolean force) {
      return blocking.await(segments.drop(name, force));
    }

    /** Every segment with its size; see {@link Segments#list}. */
    public List<SegmentInfo> list() {
      return blocking.await(segments.list());
    }

    /** The size of a segment or segment query; see {@link Segments#count}. */
    public long count(String query) {
      return blocking.await(segments.count(query));
    }

    /** Profiles matching an ad-hoc filter; see {@link Segments#filterCount}. */
    public long filterCount(String filter) {
      return blocking.await(segments.filterCount(filter));
    }

    /** {@link Segments#countPartial}. */
    public PartialCount countPartial(String query) {
      return blocking.await(segments.countPartial(query));
    }

    /** {@link Segments#filterCountPartial}. */
    public PartialCount filterCountPartial(String filter) {
      return blocking.await(segments.filterCountPartial(filter));
    }

    /** The segments a profile is in; see {@link Segments#of}. */
    public List<String> of(String key) {
      return blocking.await(segments.of(key));
    }

    /** The segments a profile is in and since when; see {@link Segments#ofSince}. */
    public List<SegmentMembership> ofSince(String key) {
      return blocking.await(segments.ofSince(key));
    }

    /** {@link Segments#distinct}. */
    public DistinctCount distinct(String query, String name, int windowDays) {
      return blocking.await(segments.distinct(query, name, windowDays));
    }

    /** Every member, paged lazily as the stream is consumed. */
    public Stream<String> members(String query) {
      return segments.members(query);
    }

    /** Up to {@code limit} members, one request per page (each within the request timeout). */
    public List<String> members(String query, int limit) {
      return segments.members(query, (long) limit).toList();
    }

    /** Every profile matching a filter, paged lazily as the stream is consumed. */
    public Stream<String> filterMembers(String filter) {
      return segments.filterMembers(filter);
    }

    /** Up to {@code limit} profiles matching a filter. */
    public List<String> filterMembers(String filter, int limit) {
      return segments.filterMembers(filter, (long) limit).toList();
    }

    /** Whole profiles, paged lazily as the stream is consumed; see {@link Segments#dump}. */
    public Stream<DumpedProfile> dump(String query) {
      return segments.dump(query);
    }

    /** Watches segments for changes; see {@link Segments#watch}. */
    public Watch watch(Collection<String> names, WatchListener listener) {
      return blocking.await(segments.watch(names, listener));
    }
  }
}
