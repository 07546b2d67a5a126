package dev.whack.node.keyspace;

/** What a cache operation did, in memcached's terms; each protocol renders it in its own words. */
public enum Status {
  STORED,
  NOT_STORED,
  /** The item exists but its cas did not match. */
  EXISTS,
  NOT_FOUND,
  DELETED,
  /** incr/decr on a value that is not a decimal number. */
  NON_NUMERIC,
  /** The value, alone or after append/prepend, is larger than the item size limit. */
  TOO_LARGE,
  /** append, prepend, incr or decr on a profile, which only whole writes and updates change. */
  IS_PROFILE,
  /** A profile update on a key that holds an opaque value. */
  NOT_PROFILE,
  /** A write to a key under {@link Keyspace#RESERVED_PREFIX}, which is never stored. */
  RESERVED,
  /** A profile update that repeated a producer's sequence: acknowledged, not applied. */
  IGNORED
}
