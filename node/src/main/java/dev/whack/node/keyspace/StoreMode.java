package dev.whack.node.keyspace;

/** The storage commands, as memcached's {@code do_store_item} distinguishes them. */
public enum StoreMode {
  SET,
  ADD,
  REPLACE,
  APPEND,
  PREPEND,
  /** Store only if the item exists and its cas matches. */
  CAS
}
