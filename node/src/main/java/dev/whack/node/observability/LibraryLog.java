package dev.whack.node.observability;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.ILoggerFactory;
import org.slf4j.Logger;
import org.slf4j.helpers.FormattingTuple;
import org.slf4j.helpers.MarkerIgnoringBase;
import org.slf4j.helpers.MessageFormatter;

/**
 * The libraries' logging (Kafka's clients, gRPC's, Netty's through SLF4J) as node log lines: the
 * same timestamps, levels and {@code --log-format} as the node's own ({@link NodeLog}), one line
 * per event, prefixed with the library's name. Warnings and errors are written; INFO and below are
 * not (a library's INFO is chatty: Kafka's consumer says every partition it is given).
 *
 * <p>Concurrency: loggers are made once per name and shared; writing is {@link NodeLog#write}'s.
 */
public final class LibraryLog implements ILoggerFactory {
  private final Map<String, Logger> loggers = new ConcurrentHashMap<>();

  @Override
  public Logger getLogger(String name) {
    return loggers.computeIfAbsent(name, LibraryLogger::new);
  }

  /** What a line says it came from: the library's top package ({@code kafka}, {@code grpc}). */
  static String source(String loggerName) {
    String n = loggerName.toLowerCase(Locale.ROOT);
    for (String library : new String[] {"kafka", "grpc", "netty"}) {
      if (n.contains("." + library + ".") || n.startsWith(library + ".")) {
        return library;
      }
    }
    int dot = loggerName.lastIndexOf('.');
    return dot < 0 ? loggerName : loggerName.substring(dot + 1);
  }

  private static final class LibraryLogger extends MarkerIgnoringBase {
    private static final long serialVersionUID = 1L;
    private final String prefix;

    LibraryLogger(String name) {
      this.name = name;
      this.prefix = source(name) + ": ";
    }

    private void write(NodeLog.Level level, FormattingTuple event) {
      Throwable t = event.getThrowable();
      NodeLog.write(level, prefix + event.getMessage() + (t == null ? "" : " (" + t + ")"));
    }

    private void write(NodeLog.Level level, String message, Throwable t) {
      NodeLog.write(level, prefix + message + (t == null ? "" : " (" + t + ")"));
    }

    @Override
    public boolean isTraceEnabled() {
      return false;
    }

    @Override
    public void trace(String msg) {}

    @Override
    public void trace(String format, Object arg) {}

    @Override
    public void trace(String format, Object arg1, Object arg2) {}

    @Override
    public void trace(String format, Object... arguments) {}

    @Override
    public void trace(String msg, Throwable t) {}

    @Override
    public boolean isDebugEnabled() {
      return false;
    }

    @Override
    public void debug(String msg) {}

    @Override
    public void debug(String format, Object arg) {}

    @Override
    public void debug(String format, Object arg1, Object arg2) {}

    @Override
    public void debug(String format, Object... arguments) {}

    @Override
    public void debug(String msg, Throwable t) {}

    @Override
    public boolean isInfoEnabled() {
      return false;
    }

    @Override
    public void info(String msg) {}

    @Override
    public void info(String format, Object arg) {}

    @Override
    public void info(String format, Object arg1, Object arg2) {}

    @Override
    public void info(String format, Object... arguments) {}

    @Override
    public void info(String msg, Throwable t) {}

    @Override
    public boolean isWarnEnabled() {
      return true;
    }

    @Override
    public void warn(String msg) {
      write(NodeLog.Level.WARN, msg, null);
    }

    @Override
    public void warn(String format, Object arg) {
      write(NodeLog.Level.WARN, MessageFormatter.format(format, arg));
    }

    @Override
    public void warn(String format, Object arg1, Object arg2) {
      write(NodeLog.Level.WARN, MessageFormatter.format(format, arg1, arg2));
    }

    @Override
    public void warn(String format, Object... arguments) {
      write(NodeLog.Level.WARN, MessageFormatter.arrayFormat(format, arguments));
    }

    @Override
    public void warn(String msg, Throwable t) {
      write(NodeLog.Level.WARN, msg, t);
    }

    @Override
    public boolean isErrorEnabled() {
      return true;
    }

    @Override
    public void error(String msg) {
      write(NodeLog.Level.ERROR, msg, null);
    }

    @Override
    public void error(String format, Object arg) {
      write(NodeLog.Level.ERROR, MessageFormatter.format(format, arg));
    }

    @Override
    public void error(String format, Object arg1, Object arg2) {
      write(NodeLog.Level.ERROR, MessageFormatter.format(format, arg1, arg2));
    }

    @Override
    public void error(String format, Object... arguments) {
      write(NodeLog.Level.ERROR, MessageFormatter.arrayFormat(format, arguments));
    }

    @Override
    public void error(String msg, Throwable t) {
      write(NodeLog.Level.ERROR, msg, t);
    }
  }
}
