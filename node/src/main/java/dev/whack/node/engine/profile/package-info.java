/**
 * Compact profiles: interned names, the one-array-per-profile encoding ({@link
 * dev.whack.node.engine.profile.ProfileCodec}), its writer for puts and atomic updates (given as
 * reusable flat {@link dev.whack.node.engine.profile.UpdateOps}), an indexed read view for
 * evaluators, and the table of profiles by dense ordinal with striped key locks.
 */
package dev.whack.node.engine.profile;
