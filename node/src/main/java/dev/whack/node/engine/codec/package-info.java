/**
 * Byte-level encoding shared by profiles and event series: varints, zigzag, little-endian doubles
 * and length-prefixed UTF-8. No knowledge of what the bytes mean.
 */
package dev.whack.node.engine.codec;
