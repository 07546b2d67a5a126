/**
 * Segment membership: partitioned roaring bitmaps over profile ordinals, the catalog of defined
 * segments and what they read, the time-based re-evaluation queue, segment algebra queries and the
 * enter/leave change stream.
 */
package dev.whack.node.engine.segment;
