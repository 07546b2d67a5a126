package dev.whack.node.protocol.binary;

/** Binary protocol opcodes and response status codes (memcached's protocol_binary.h). */
final class Opcodes {
  static final int GET = 0x00;
  static final int SET = 0x01;
  static final int ADD = 0x02;
  static final int REPLACE = 0x03;
  static final int DELETE = 0x04;
  static final int INCREMENT = 0x05;
  static final int DECREMENT = 0x06;
  static final int QUIT = 0x07;
  static final int FLUSH = 0x08;
  static final int GETQ = 0x09;
  static final int NOOP = 0x0a;
  static final int VERSION = 0x0b;
  static final int GETK = 0x0c;
  static final int GETKQ = 0x0d;
  static final int APPEND = 0x0e;
  static final int PREPEND = 0x0f;
  static final int STAT = 0x10;
  static final int SETQ = 0x11;
  static final int ADDQ = 0x12;
  static final int REPLACEQ = 0x13;
  static final int DELETEQ = 0x14;
  static final int INCREMENTQ = 0x15;
  static final int DECREMENTQ = 0x16;
  static final int QUITQ = 0x17;
  static final int FLUSHQ = 0x18;
  static final int APPENDQ = 0x19;
  static final int PREPENDQ = 0x1a;
  static final int TOUCH = 0x1c;
  static final int GAT = 0x1d;
  static final int GATQ = 0x1e;
  static final int GATK = 0x23;
  static final int GATKQ = 0x24;

  static final int STATUS_OK = 0x0000;
  static final int STATUS_KEY_NOT_FOUND = 0x0001;
  static final int STATUS_KEY_EXISTS = 0x0002;
  static final int STATUS_TOO_LARGE = 0x0003;
  static final int STATUS_INVALID_ARGUMENTS = 0x0004;
  static final int STATUS_NOT_STORED = 0x0005;
  static final int STATUS_NON_NUMERIC = 0x0006;
  static final int STATUS_UNKNOWN_COMMAND = 0x0081;
  static final int STATUS_OUT_OF_MEMORY = 0x0082;

  /** memcached's "busy": a request over its tenant's rate quota, with the reason as its body. */
  static final int STATUS_BUSY = 0x0085;

  /** memcached's "temporary failure": the key's owner could not be reached. */
  static final int STATUS_TEMPORARY_FAILURE = 0x0086;

  private Opcodes() {}

  /** The message memcached puts in the body of an error response. */
  static String errorMessage(int status) {
    return switch (status) {
      case STATUS_KEY_NOT_FOUND -> "Not found";
      case STATUS_KEY_EXISTS -> "Data exists for key.";
      case STATUS_TOO_LARGE -> "Too large.";
      case STATUS_INVALID_ARGUMENTS -> "Invalid arguments";
      case STATUS_NOT_STORED -> "Not stored.";
      case STATUS_NON_NUMERIC -> "Non-numeric server-side value for incr or decr";
      case STATUS_UNKNOWN_COMMAND -> "Unknown command";
      case STATUS_OUT_OF_MEMORY -> "Out of memory";
      default -> "UNHANDLED ERROR";
    };
  }

  /** True for the quiet variants, which send no reply on success (gets: none on a miss). */
  static boolean isQuiet(int opcode) {
    return switch (opcode) {
      case GETQ,
          GETKQ,
          SETQ,
          ADDQ,
          REPLACEQ,
          DELETEQ,
          INCREMENTQ,
          DECREMENTQ,
          QUITQ,
          FLUSHQ,
          APPENDQ,
          PREPENDQ,
          GATQ,
          GATKQ ->
          true;
      default -> false;
    };
  }
}
