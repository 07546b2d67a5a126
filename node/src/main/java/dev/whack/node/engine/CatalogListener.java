package dev.whack.node.engine;

import dev.whack.node.engine.dimension.DimensionSpec;

/**
 * Told each segment (and dimension) definition and drop once it has taken effect, for a log that
 * must replay them (docs/architecture.md, "Durability"). Called on the defining thread, after the
 * backfill; {@link #defining} before the segment can take its first change.
 */
public interface CatalogListener {
  /**
   * A segment of this name is being defined: called before its backfill, so a listener that
   * subscribes to its changes now misses none (a change publisher).
   */
  default void defining(String name) {}

  void defined(String name, String expression);

  /**
   * {@link #defined(String, String)}, with the time the definition began at (its backfill's members
   * entered then or later), for a log whose replay gives them that time again.
   */
  default void defined(String name, String expression, long beganAtMillis) {
    defined(name, expression);
  }

  void dropped(String name);

  /**
   * A dimension was defined (or redefined) as {@code spec}, whose {@link DimensionSpec#toJson} is
   * its definition.
   */
  default void dimensionDefined(DimensionSpec spec) {}

  /** A dimension was dropped. */
  default void dimensionDropped(String name) {}

  /**
   * Dimension {@code dimension} (its id) numbered a new categorical value {@code category}: called
   * under the dimension's table, so in the order of the ids, and before the write that met the
   * value is done (so a log has it before that write's record).
   */
  default void categoryLearned(int dimension, int category, String value) {}
}
