package org.slf4j.impl;

import dev.whack.node.observability.LibraryLog;
import org.slf4j.ILoggerFactory;
import org.slf4j.spi.LoggerFactoryBinder;

/**
 * SLF4J 1.7's binding (found by this class name): the libraries' logging goes to the node's log
 * ({@link LibraryLog}), so that with {@code --log-format json} every line of a node is JSON.
 */
public final class StaticLoggerBinder implements LoggerFactoryBinder {
  private static final StaticLoggerBinder SINGLETON = new StaticLoggerBinder();

  /** The SLF4J version this binding is written against (SLF4J checks it at start). */
  public static String REQUESTED_API_VERSION = "1.7.36";

  private final ILoggerFactory factory = new LibraryLog();

  private StaticLoggerBinder() {}

  public static StaticLoggerBinder getSingleton() {
    return SINGLETON;
  }

  @Override
  public ILoggerFactory getLoggerFactory() {
    return factory;
  }

  @Override
  public String getLoggerFactoryClassStr() {
    return LibraryLog.class.getName();
  }
}
