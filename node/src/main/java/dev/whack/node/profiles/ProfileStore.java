package dev.whack.node.profiles;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.whack.node.cache.Item;
import dev.whack.node.cache.ItemCache;
import dev.whack.node.cache.Outcome;
import dev.whack.node.cache.ProfileWrite;
import dev.whack.node.cache.Status;
import dev.whack.node.cache.StoreMode;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.engine.ProfileTooLargeException;
import dev.whack.node.engine.WriteResult;
import dev.whack.node.engine.profile.Rendering;
import dev.whack.proto.Profile;
import dev.whack.proto.Update;
import java.util.Arrays;

/**
 * Where memcached values meet profiles: decides whether a stored value is a profile, writes
 * profiles and partial updates through the cache (so the cache's conditions and the engine's
 * write are one step under the key's lock), and renders a profile item for a read in the encoding
 * it was written in. Shared by the text, meta and binary front ends.
 *
 * <p>Concurrency: one per connection (it reuses its write objects); the cache and engine it calls
 * are thread-safe.
 */
public final class ProfileStore {
  /** The flags value that marks a stored value as a protobuf {@code whack.v1.Profile}. */
  public static final int PROTOBUF_PROFILE_FLAGS = 0x77680001;
  /** Keys under this prefix are answered from the segments, never stored. */
  public static final String RESERVED_PREFIX = "_whack/";

  private final ItemCache cache;
  private final ProfileEngine engine;
  private final PutWrite put = new PutWrite();
  private final UpdateWrite update = new UpdateWrite();

  public ProfileStore(ItemCache cache, ProfileEngine engine) {
    this.cache = cache;
    this.engine = engine;
  }

  public ProfileEngine engine() {
    return engine;
  }

  /**
   * The kind of item a stored value makes: a protobuf profile when its flags are {@link
   * #PROTOBUF_PROFILE_FLAGS}, a JSON profile when its first byte after whitespace is '{', else
   * opaque.
   */
  public static byte kindOf(int flags, byte[] value) {
    if (flags == PROTOBUF_PROFILE_FLAGS) {
      return Item.PROFILE_PROTOBUF;
    }
    for (byte b : value) {
      if (b == '{') {
        return Item.PROFILE_JSON;
      }
      if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
        return Item.OPAQUE;
      }
    }
    return Item.OPAQUE;
  }

  /** True for keys under {@link #RESERVED_PREFIX}. */
  public static boolean isReserved(byte[] key, int offset, int length) {
    if (length < RESERVED_PREFIX.length()) {
      return false;
    }
    for (int i = 0; i < RESERVED_PREFIX.length(); i++) {
      if (key[offset + i] != RESERVED_PREFIX.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /**
   * A storage command whose value is a profile ({@code kind} from {@link #kindOf}).
   *
   * @return the cache's status, or TOO_LARGE when the profile would render (as a read returns it)
   *     to more than the item size limit; then nothing is stored (the caller removes the old value
   *     where its protocol removes it for a value over the limit)
   * @throws ProfileRejectedException when the value is not an acceptable profile; nothing changes
   */
  public Status store(
      StoreMode mode,
      byte[] key,
      int keyOffset,
      int keyLength,
      int flags,
      long exptime,
      byte[] value,
      long compareCas,
      boolean binaryKey,
      byte kind,
      Outcome out) {
    put.key = Arrays.copyOfRange(key, keyOffset, keyOffset + keyLength);
    put.value = value;
    put.kind = kind;
    try {
      return cache.storeProfile(
          mode, key, keyOffset, keyLength, flags, exptime, compareCas, binaryKey, kind, put, out);
    } catch (ProfileTooLargeException e) {
      return Status.TOO_LARGE;
    } catch (RuntimeException e) {
      throw ProfileRejectedException.of("bad profile", e);
    } finally {
      put.value = null;
    }
  }

  /**
   * A partial update ({@code body} is Update JSON, or a protobuf {@code whack.v1.Update} when
   * {@code protobuf}); creates the profile if the key is absent.
   *
   * @return STORED, IGNORED (replayed), NOT_PROFILE, or TOO_LARGE when the updated profile would
   *     render (as a read returns it) to more than the item size limit; then nothing is applied
   * @throws ProfileRejectedException when the update is malformed or clashes; nothing changes
   */
  public Status update(
      byte[] key,
      int keyOffset,
      int keyLength,
      byte[] body,
      int bodyOffset,
      int bodyLength,
      boolean protobuf,
      Outcome out) {
    update.key = Arrays.copyOfRange(key, keyOffset, keyOffset + keyLength);
    update.protobuf = protobuf;
    update.body = body;
    update.offset = bodyOffset;
    update.length = bodyLength;
    try {
      return cache.updateProfile(key, keyOffset, keyLength, update, out);
    } catch (ProfileTooLargeException e) {
      return Status.TOO_LARGE;
    } catch (RuntimeException e) {
      throw ProfileRejectedException.of("bad update", e);
    } finally {
      update.body = null;
    }
  }

  /**
   * The bytes a read returns for a profile item: canonical Profile JSON, or the protobuf {@code
   * Profile} without its key. Null if the profile went away since the item was found.
   */
  public byte[] render(Item item) {
    if (item.kind() == Item.PROFILE_PROTOBUF) {
      Profile profile = engine.get(item.key());
      return profile == null ? null : profile.toBuilder().clearKey().build().toByteArray();
    }
    return engine.getJson(item.key());
  }

  /** Puts a whole profile; runs under the cache's segment lock. */
  private final class PutWrite implements ProfileWrite {
    byte[] key;
    byte[] value;
    byte kind;

    @Override
    public int apply(byte currentKind) {
      WriteResult result;
      if (kind == Item.PROFILE_PROTOBUF) {
        try {
          result = engine.put(key, Profile.parseFrom(value));
        } catch (InvalidProtocolBufferException e) {
          throw new IllegalArgumentException("not a protobuf whack.v1.Profile: " + e.getMessage(), e);
        }
      } else {
        result = engine.putJson(key, value, 0, value.length);
      }
      return result.footprintBytes();
    }

    @Override
    public boolean applied() {
      return true;
    }
  }

  /** Applies a partial update; runs under the cache's segment lock. */
  private final class UpdateWrite implements ProfileWrite {
    byte[] key;
    byte[] body;
    int offset;
    int length;
    boolean protobuf;
    boolean applied;

    @Override
    public int apply(byte currentKind) {
      // The profile keeps the encoding it was written in, and that rendering is what must fit.
      Rendering rendering =
          currentKind == Item.PROFILE_PROTOBUF ? Rendering.PROTOBUF : Rendering.JSON;
      WriteResult result;
      if (!protobuf) {
        result = engine.updateJson(key, body, offset, length, rendering);
      } else {
        try {
          result =
              engine.update(
                  key, Update.parseFrom(java.nio.ByteBuffer.wrap(body, offset, length)), rendering);
        } catch (InvalidProtocolBufferException e) {
          throw new IllegalArgumentException(
              "not a protobuf whack.v1.Update: " + e.getMessage(), e);
        }
      }
      applied = result.applied();
      return result.footprintBytes();
    }

    @Override
    public boolean applied() {
      return applied;
    }
  }

}
