/**
 * Preference dimensions: what an event's properties mean to the engine. A dimension is defined as
 * data ({@link DimensionSpec}), held in the {@link DimensionRegistry}, and kept per profile and day
 * in a section of the compact profile ({@link DimensionSection}), read back as distributions with a
 * window and a half-life chosen at read time ({@link Distribution}).
 */
package dev.whack.node.engine.dimension;
