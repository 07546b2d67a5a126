package dev.whack.cli.records;

/** The two encodings of load/dump streams (docs/profiles.md, "Load/dump records"). */
public enum RecordFormat {
  /** One JSON record per line: {"key": K, "profile": {...}} or {"key": K, "update": {...}}. */
  NDJSON,
  /** Length-delimited protobuf {@code whack.v1.LoadRecord} messages (varint length, message). */
  PROTO;

  /**
   * The format of a stream from its first bytes: NDJSON when, after blank space, it opens an
   * object whose next token is a member name or its end ({@code {"}, {@code {}}); protobuf
   * otherwise. A protobuf stream cannot look like that: the byte after a record's length is a
   * field tag (0x0a, 0x12, 0x1a), never a space, tab, quote or brace. An empty stream is NDJSON.
   */
  public static RecordFormat sniff(byte[] head, int length) {
    int i = 0;
    while (i < length && isBlank(head[i])) {
      i++;
    }
    if (i == length) {
      return NDJSON;
    }
    if (head[i] != '{') {
      return PROTO;
    }
    i++;
    while (i < length && (head[i] == ' ' || head[i] == '\t')) {
      i++;
    }
    if (i == length) {
      return NDJSON;
    }
    return head[i] == '"' || head[i] == '}' ? NDJSON : PROTO;
  }

  /**
   * The format a file name suggests ({@code .pb}, {@code .proto}, {@code .bin}, optionally .gz), or
   * null.
   */
  public static RecordFormat fromName(String name) {
    String n = name.endsWith(".gz") ? name.substring(0, name.length() - 3) : name;
    if (n.endsWith(".pb")
        || n.endsWith(".proto")
        || n.endsWith(".bin")
        || n.endsWith(".protobuf")) {
      return PROTO;
    }
    if (n.endsWith(".ndjson") || n.endsWith(".jsonl") || n.endsWith(".json")) {
      return NDJSON;
    }
    return null;
  }

  private static boolean isBlank(byte b) {
    return b == ' ' || b == '\t' || b == '\r' || b == '\n';
  }
}
