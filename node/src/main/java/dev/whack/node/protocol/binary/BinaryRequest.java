package dev.whack.node.protocol.binary;

/**
 * The 24-byte request header of the binary protocol plus the key, extras and value of the body,
 * decoded into reusable fields.
 *
 * <pre>
 *  Byte/     0       |       1       |       2       |       3       |
 *      +-------------+---------------+---------------+---------------+
 *     0| Magic       | Opcode        | Key length                    |
 *     4| Extras len  | Data type     | vbucket id                    |
 *     8| Total body length                                           |
 *    12| Opaque                                                      |
 *    16| CAS (8 bytes)                                               |
 * </pre>
 *
 * <p>Concurrency: one per connection, reused, never shared.
 */
final class BinaryRequest {
  static final int HEADER_LENGTH = 24;

  int opcode;
  int keyLength;
  int extrasLength;
  int dataType;

  /** Unsigned 32-bit total body length: extras + key + value. */
  long bodyLength;

  int opaque;
  long cas;

  final byte[] key = new byte[256];

  /** The extras as received, for passing the request on unchanged. */
  final byte[] extras = new byte[256];

  /** The member this request goes to once its value is read, or null to run it here. */
  String forwardTo;

  /** Value bytes for storage commands, allocated at the declared (already checked) length. */
  byte[] value;

  // Extras, by command.
  int flags;
  long exptime;
  long delta;
  long initial;

  /** SegMembers and FilterMembers: the page size; SegDefine's dry run: the sample. */
  int limit;

  long valueLength() {
    return bodyLength - keyLength - extrasLength;
  }
}
