package dev.whack.node.observability;

import java.io.PrintStream;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * The node's log: what a running node has to say (start-up, snapshots, Kafka, the cluster, the
 * stop), one line each on stderr, with a UTC timestamp to the millisecond and a level:
 *
 * <pre>
 * 2026-12-07T20:41:04.123Z INFO  whack node listening on 127.0.0.1:11211 (memory 1g, ...)
 * 2026-12-07T20:41:09.870Z WARN  whack node: a standby record failed unexpectedly: ...
 * </pre>
 *
 * or, in {@link Format#JSON}, one JSON object per line ({@code
 * {"time":"...","level":"INFO","message":"..."}}) for a log collector. The node logs events, never
 * requests: nothing on a per-request path writes here.
 *
 * <p>A small logger of our own rather than a logging framework: the node has three levels and one
 * destination, and a framework would bring configuration files and jar weight for nothing. The
 * libraries that log through SLF4J (Kafka's client) are bound to it by {@link LibraryLog}, so their
 * warnings and errors are node log lines too, JSON with {@code --log-format json}.
 *
 * <p>Concurrency: any thread may log. The format, clock and stream are volatile and set once by
 * {@code whack node} before the node starts; each line is written with one {@code print} call,
 * which {@link PrintStream} makes atomic, so lines from different threads never interleave.
 */
public final class NodeLog {
  /** How a line is written. */
  public enum Format {
    /** {@code <time> <LEVEL> <message>}, the level padded to five characters. */
    TEXT,
    /** {@code {"time":"<time>","level":"<LEVEL>","message":"<message>"}}. */
    JSON;

    /** {@code text} or {@code json}, as {@code --log-format} takes it. */
    public static Format parse(String text) {
      return switch (text.toLowerCase(Locale.ROOT)) {
        case "text" -> TEXT;
        case "json" -> JSON;
        default -> throw new IllegalArgumentException("--log-format must be text or json: " + text);
      };
    }
  }

  /** How much a line matters. */
  public enum Level {
    /** What the node did: started, wrote a snapshot, joined a cluster, stopped. */
    INFO,
    /** Something went wrong and the node carries on (a bad record, a failed reload). */
    WARN,
    /** Something went wrong that loses data or a function until an operator acts. */
    ERROR
  }

  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT)
          .withZone(ZoneOffset.UTC);

  private static volatile Format format = Format.TEXT;
  private static volatile InstantSource clock = InstantSource.system();

  /** Null: the process's stderr as it is at the time of writing (tests may replace it). */
  private static volatile PrintStream stream;

  private NodeLog() {}

  public static void info(String message) {
    write(Level.INFO, message);
  }

  public static void warn(String message) {
    write(Level.WARN, message);
  }

  public static void error(String message) {
    write(Level.ERROR, message);
  }

  public static void write(Level level, String message) {
    PrintStream out = stream == null ? System.err : stream;
    out.print(line(format, clock.instant(), level, message));
    out.flush();
  }

  /** Sets how lines are written from now on; returns the format it replaces. */
  public static Format format(Format next) {
    Format previous = format;
    format = next;
    return previous;
  }

  public static Format format() {
    return format;
  }

  /** Where lines go and what time they say; null for stderr and the system clock. */
  public static void output(PrintStream out, InstantSource time) {
    stream = out;
    clock = time == null ? InstantSource.system() : time;
  }

  /** One line, with its line feed, as {@link #write} writes it. */
  public static String line(Format format, Instant time, Level level, String message) {
    String when = TIME.format(time);
    if (format == Format.JSON) {
      StringBuilder json = new StringBuilder(message.length() + 64);
      json.append("{\"time\":\"").append(when).append("\",\"level\":\"").append(level.name());
      json.append("\",\"message\":\"");
      escapeJson(message, json);
      return json.append("\"}\n").toString();
    }
    // A message of several lines keeps them: a stack trace or a report reads as printed.
    return when + ' ' + String.format(Locale.ROOT, "%-5s", level.name()) + ' ' + message + '\n';
  }

  /** RFC 8259 string escaping: quote, backslash and every control character. */
  static void escapeJson(String text, StringBuilder out) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
  }
}
