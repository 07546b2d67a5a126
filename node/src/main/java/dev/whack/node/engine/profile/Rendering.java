package dev.whack.node.engine.profile;

/**
 * The encoding a read returns a profile in: what a {@code get} of the profile's item gives back,
 * and so the length that counts against the node's item size limit.
 */
public enum Rendering {
  /** Canonical Profile JSON ({@link ProfileCodec#toJson}). */
  JSON,
  /** A protobuf {@code whack.v1.Profile} without its key ({@link ProfileCodec#toProto}). */
  PROTOBUF
}
