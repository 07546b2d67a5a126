/**
 * The JSON forms of profiles, updates and load/dump records (docs/profiles.md), converted to and
 * from protobuf, or streamed straight into the compact writer, with jackson-core's streaming parser
 * and generator; and the update path's own Update JSON reader ({@link
 * dev.whack.node.engine.json.UpdateJsonReader}), which reads into reusable operations without
 * allocating and leaves every document it is not sure of to the jackson-core reader. Every
 * rejection is a {@link dev.whack.node.engine.json.JsonFormatException} with line, column and
 * reason.
 */
package dev.whack.node.engine.json;
